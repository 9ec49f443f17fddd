//! The machine a run is made on and the build it measures: what makes two runs comparable.

use std::fs;
use std::path::Path;
use std::process::Command;

/// What built the executables a run measures, recorded with every baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Build {
    /// The suite's commit; `-dirty` when tracked files differ from it.
    pub commit: String,
    /// `rustc -V` of the compiler that builds the suite.
    pub rustc: String,
}

impl Build {
    /// The suite in `dir`: its git HEAD (`-dirty` with uncommitted changes to tracked files;
    /// `unknown` outside git) and the `rustc` that cargo would build it with (`$RUSTC`).
    pub fn of_suite(dir: &Path) -> Build {
        let git = |args: &[&str]| output(Command::new("git").arg("-C").arg(dir).args(args));
        let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
        let edited = git(&["status", "--porcelain", "--untracked-files=no"])
            .is_some_and(|changes| !changes.is_empty());
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
        Build {
            commit: if edited {
                format!("{commit}-dirty")
            } else {
                commit
            },
            rustc: output(Command::new(rustc).arg("-V")).unwrap_or_else(|| "unknown".into()),
        }
    }

    /// Whether the build has uncommitted changes.
    pub fn is_dirty(&self) -> bool {
        self.commit.ends_with("-dirty")
    }
}

fn output(command: &mut Command) -> Option<String> {
    let out = command.output().ok().filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `/proc/cpuinfo`, or nothing where it cannot be read.
pub fn cpuinfo() -> String {
    fs::read_to_string("/proc/cpuinfo").unwrap_or_default()
}

/// The first CPU's model name.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo_field(cpuinfo, "model name").map(str::to_string)
}

fn cpuinfo_field<'a>(cpuinfo: &'a str, name: &str) -> Option<&'a str> {
    cpuinfo
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(key, _)| key.trim() == name)
        .map(|(_, value)| value.trim())
}

/// Family, model and stepping of the first CPU, `f<family>m<model>s<stepping>`: a hypervisor
/// may show one model name for different generations of CPU, whose costs differ by 2× and more.
pub fn cpu_id(cpuinfo: &str) -> String {
    let field = |name| cpuinfo_field(cpuinfo, name).unwrap_or("?");
    format!(
        "f{}m{}s{}",
        field("cpu family"),
        field("model"),
        field("stepping")
    )
}

/// Whether the CPU reports running under a hypervisor.
pub fn virtualised(cpuinfo: &str) -> bool {
    cpuinfo
        .lines()
        .filter(|l| l.starts_with("flags"))
        .any(|l| l.split_whitespace().any(|f| f == "hypervisor"))
}

/// CPUs online on the machine.
pub fn cpus_online() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as usize
}

/// The kernel release, as `uname -r` prints it.
pub fn kernel_release() -> String {
    fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// The selected value of a sysfs choice list: `always [madvise] never` → `madvise`.
pub fn selected(choices: &str) -> String {
    choices
        .split_whitespace()
        .find_map(|c| c.strip_prefix('[')?.strip_suffix(']'))
        .unwrap_or(choices.trim())
        .to_string()
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
        assert!(virtualised(CPUINFO));
        assert!(!virtualised("flags\t: fpu hypervisor_x\n"));
        assert_eq!(selected("always [madvise] never\n"), "madvise");
        assert_eq!(selected("tsc"), "tsc");
    }

    #[test]
    fn a_build_outside_git_is_unknown_and_inside_names_its_commit() {
        let outside = std::env::temp_dir().join(format!("gate-host-{}", std::process::id()));
        fs::create_dir_all(&outside).unwrap();
        let build = Build::of_suite(&outside);
        fs::remove_dir_all(&outside).unwrap();
        assert_eq!(build.commit, "unknown");
        assert!(build.rustc.starts_with("rustc"), "{}", build.rustc);
        let here = Build::of_suite(Path::new(env!("CARGO_MANIFEST_DIR")));
        let hex = here.commit.trim_end_matches("-dirty");
        // A source tree without its history (a published crate) has no commit to name.
        assert!(
            hex == "unknown" || (hex.len() == 12 && hex.chars().all(|c| c.is_ascii_hexdigit())),
            "{}",
            here.commit
        );
    }
}
