//! The machine and build a result comes from: CPU, CPU counts, kernel, virtualisation,
//! compiler and crate commit. Printed once per bench binary and serialisable for tools.

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
}

impl Environment {
    pub fn capture() -> Environment {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        Environment {
            cpu_model: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".into()),
            cpu_id: cpu_id(&cpuinfo),
            // SAFETY: sysconf has no preconditions.
            cpus_online: unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as usize,
            cpus_allowed: crate::placement::allowed_cpus().map_or(0, |c| c.len()),
            kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "unknown".into()),
            virtualised: has_hypervisor_flag(&cpuinfo),
            thp: fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
                .map(|s| bracketed(&s))
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
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

fn cpuinfo_field<'a>(cpuinfo: &'a str, name: &str) -> Option<&'a str> {
    cpuinfo
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(key, _)| key.trim() == name)
        .map(|(_, value)| value.trim())
}

/// Family, model and stepping of the first CPU, `f<family>m<model>s<stepping>`.
fn cpu_id(cpuinfo: &str) -> String {
    let field = |name| cpuinfo_field(cpuinfo, name).unwrap_or("?");
    format!(
        "f{}m{}s{}",
        field("cpu family"),
        field("model"),
        field("stepping")
    )
}

/// The selected value of a sysfs choice list: `always [madvise] never` → `madvise`.
fn bracketed(choices: &str) -> String {
    choices
        .split_whitespace()
        .find_map(|c| c.strip_prefix('[')?.strip_suffix(']'))
        .unwrap_or(choices.trim())
        .to_string()
}

fn has_hypervisor_flag(cpuinfo: &str) -> bool {
    cpuinfo
        .lines()
        .filter(|l| l.starts_with("flags"))
        .any(|l| l.split_whitespace().any(|f| f == "hypervisor"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPUINFO: &str = "processor\t: 0\ncpu family\t: 25\nmodel\t\t: 1\n\
        model name\t: AMD EPYC 7B13\nstepping\t: 1\nflags\t\t: fpu sse2 hypervisor avx2\n";

    #[test]
    fn parses_the_model_and_the_hypervisor_flag() {
        assert_eq!(cpu_model(CPUINFO).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(cpu_id(CPUINFO), "f25m1s1");
        assert_eq!(cpu_id(""), "f?m?s?");
        assert!(has_hypervisor_flag(CPUINFO));
        assert!(!has_hypervisor_flag("flags\t: fpu hypervisor_x\n"));
        assert_eq!(bracketed("always [madvise] never\n"), "madvise");
        assert_eq!(bracketed("tsc"), "tsc");
    }

    #[test]
    fn captures_this_machine_and_round_trips_through_json() {
        let env = Environment::capture();
        assert!(env.cpus_online >= 1 && env.cpus_allowed >= 1);
        assert!(env.rustc.starts_with("rustc"), "{}", env.rustc);
        let json = serde_json::to_string(&env).unwrap();
        assert_eq!(serde_json::from_str::<Environment>(&json).unwrap(), env);
        assert!(env.summary().contains(&env.kernel));
    }
}
