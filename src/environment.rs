//! The machine and build a result comes from: CPU, CPU counts, kernel, virtualisation,
//! compiler and crate commit. Printed once per bench binary and serialisable for tools.

use criterion_gate::host;
use serde::{Deserialize, Serialize};
use std::fs;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    pub cpu_model: String,
    /// CPU family, model and stepping (`f26m2s1`): a hypervisor may show the same model
    /// name for different generations of CPU, and their costs differ by 2× and more.
    #[serde(default)]
    pub cpu_id: String,
    /// CPUs online on the machine.
    pub cpus_online: usize,
    /// CPUs this process may run on (containers and `taskset` restrict it).
    pub cpus_allowed: usize,
    /// Kernel release, as `uname -r` prints it.
    pub kernel: String,
    /// Whether the CPU reports running under a hypervisor.
    pub virtualised: bool,
    /// Transparent huge pages (`always`, `madvise`, `never`): fork of a large parent costs
    /// many times more or less with them.
    #[serde(default)]
    pub thp: String,
    /// The kernel's clock source (`tsc`, `kvm-clock`, …): what every timing reads.
    #[serde(default)]
    pub clocksource: String,
    /// Whether the two CPUs of the cross-core benchmarks are SMT siblings of one core.
    #[serde(default)]
    pub cross_core_siblings: Option<bool>,
    pub rustc: String,
    pub crate_version: String,
    pub commit: String,
    /// The kernel's active mitigations of CPU vulnerabilities, `name: how` for each one that
    /// is not "Not affected": on one CPU model they can make a syscall cost several times
    /// more. Not in [`Environment::summary`]; empty where unknown.
    #[serde(default)]
    pub mitigations: Vec<String>,
}

impl Environment {
    pub fn capture() -> Environment {
        let cpuinfo = host::cpuinfo();
        Environment {
            cpu_model: host::cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".into()),
            cpu_id: host::cpu_id(&cpuinfo),
            cpus_online: host::cpus_online(),
            cpus_allowed: crate::placement::allowed_cpus().map_or(0, |c| c.len()),
            kernel: host::kernel_release(),
            virtualised: host::virtualised(&cpuinfo),
            thp: fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
                .map(|s| host::selected(&s))
                .unwrap_or_else(|_| "unknown".into()),
            clocksource: fs::read_to_string(
                "/sys/devices/system/clocksource/clocksource0/current_clocksource",
            )
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into()),
            cross_core_siblings: crate::placement::cross_core_shares_a_core(),
            rustc: env!("COSTS_RUSTC_VERSION").to_string(),
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            commit: env!("COSTS_GIT_COMMIT").to_string(),
            mitigations: mitigations(),
        }
    }

    /// One line that says where a result comes from.
    pub fn summary(&self) -> String {
        format!(
            "{} ({}) | {} CPUs ({} allowed{}) | Linux {}{} | THP {} | clock {} | {} | concurrency-costs {} ({})",
            self.cpu_model,
            self.cpu_id,
            self.cpus_online,
            self.cpus_allowed,
            match self.cross_core_siblings {
                Some(true) => "; cross-core uses SMT siblings of one core",
                _ => "",
            },
            self.kernel,
            if self.virtualised {
                " | virtualised"
            } else {
                ""
            },
            self.thp,
            self.clocksource,
            self.rustc,
            self.crate_version,
            self.commit
        )
    }

    /// Reads back a [`Environment::summary`] line, as earlier reports printed it (they may
    /// lack the CPU's family/model/stepping, THP and clock source: those are left empty).
    pub fn from_summary(line: &str) -> Option<Environment> {
        let mut fields = line.split(" | ");
        let cpu = fields.next()?;
        let (cpu_model, cpu_id) = match cpu.rsplit_once(" (") {
            Some((model, id)) if id.ends_with(')') => (model, id.trim_end_matches(')')),
            _ => (cpu, ""),
        };
        let mut env = Environment {
            cpu_model: cpu_model.to_string(),
            cpu_id: cpu_id.to_string(),
            cpus_online: 0,
            cpus_allowed: 0,
            kernel: String::new(),
            virtualised: false,
            thp: String::new(),
            clocksource: String::new(),
            cross_core_siblings: None,
            rustc: String::new(),
            crate_version: String::new(),
            commit: String::new(),
            mitigations: Vec::new(),
        };
        for field in fields {
            if let Some((online, rest)) = field.split_once(" CPUs (") {
                env.cpus_online = online.parse().ok()?;
                env.cpus_allowed = rest.split_whitespace().next()?.parse().ok()?;
            } else if let Some(kernel) = field.strip_prefix("Linux ") {
                env.kernel = kernel.to_string();
            } else if field == "virtualised" {
                env.virtualised = true;
            } else if let Some(thp) = field.strip_prefix("THP ") {
                env.thp = thp.to_string();
            } else if let Some(clock) = field.strip_prefix("clock ") {
                env.clocksource = clock.to_string();
            } else if field.starts_with("rustc ") {
                env.rustc = field.to_string();
            } else if let Some(build) = field.strip_prefix("concurrency-costs ") {
                let (version, commit) = build.split_once(" (")?;
                env.crate_version = version.to_string();
                env.commit = commit.trim_end_matches(')').to_string();
            }
        }
        (!env.kernel.is_empty() && !env.commit.is_empty()).then_some(env)
    }
}

/// The kernel's mitigations in effect, from `/sys/devices/system/cpu/vulnerabilities`:
/// `name: how` for each vulnerability the CPU is affected by, in name order.
fn mitigations() -> Vec<String> {
    let Ok(entries) = fs::read_dir("/sys/devices/system/cpu/vulnerabilities") else {
        return Vec::new();
    };
    let mut found: Vec<String> = entries
        .flatten()
        .filter_map(|entry| {
            let state = fs::read_to_string(entry.path()).ok()?;
            let state = state.trim();
            (state != "Not affected")
                .then(|| format!("{}: {state}", entry.file_name().to_string_lossy()))
        })
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_this_machine_and_round_trips_through_json() {
        let env = Environment::capture();
        assert!(env.cpus_online >= 1 && env.cpus_allowed >= 1);
        assert!(env.rustc.starts_with("rustc"), "{}", env.rustc);
        let json = serde_json::to_string(&env).unwrap();
        assert_eq!(serde_json::from_str::<Environment>(&json).unwrap(), env);
        assert!(env.summary().contains(&env.kernel));
    }

    #[test]
    fn a_summary_reads_back_as_the_environment_it_was_printed_from() {
        let env = Environment {
            cross_core_siblings: None,
            mitigations: Vec::new(),
            ..Environment::capture()
        };
        assert_eq!(Environment::from_summary(&env.summary()), Some(env));
        // An earlier report's line, before the CPU's family and THP were printed.
        let old = Environment::from_summary(
            "AMD EPYC | 2 CPUs (2 allowed) | Linux 6.18.44-fc-v595 | virtualised | rustc 1.95.0 \
             (59807616e 2026-04-14) | concurrency-costs 0.1.0 (298857f58f62)",
        )
        .unwrap();
        assert_eq!(
            (old.cpu_model.as_str(), old.cpu_id.as_str(), old.cpus_online),
            ("AMD EPYC", "", 2)
        );
        assert_eq!(
            (old.kernel.as_str(), old.commit.as_str()),
            ("6.18.44-fc-v595", "298857f58f62")
        );
        assert_eq!(Environment::from_summary("AMD EPYC | 2 CPUs"), None);
    }
}
