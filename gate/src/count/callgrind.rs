//! Instructions under callgrind: the command that runs a bench executable under it, and the
//! totals of the dumps it writes.
//!
//! Callgrind rather than cachegrind: valgrind 3.19's cachegrind counts a whole process, so
//! the setup (runtimes, partners, ballast) could only be cancelled by running each benchmark
//! twice in processes of its own, where callgrind zeroes and dumps on entering two marker
//! functions, so one process counts every benchmark of an executable. Every thread's
//! instructions go into one total (`--separate-threads=no`, the default). A forked child
//! writes its own file, which is not read: a child's user-space work is not in the count
//! (its syscalls, switches and faults are, in the kernel lane).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The valgrind that runs the lane, and its version, or why there is none.
pub fn available() -> Result<String, String> {
    let out = Command::new("valgrind")
        .arg("--version")
        .output()
        .map_err(|e| format!("no valgrind ({e}); install it (Debian: apt-get install valgrind)"))?;
    match out.status.success() {
        true => Ok(String::from_utf8_lossy(&out.stdout).trim().to_string()),
        false => Err("valgrind --version failed".into()),
    }
}

/// `valgrind --tool=callgrind` around `executable`, writing its dumps into `dir`.
pub fn command(executable: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        .arg(format!(
            "--callgrind-out-file={}/callgrind.%p",
            dir.display()
        ))
        .arg("--zero-before=costs_count_zero")
        .arg("--dump-before=costs_count_dump")
        // The thread ring's 1,024 members and the spawn benchmarks' threads.
        .arg("--max-threads=2000")
        .arg("--quiet")
        .arg(executable);
    cmd
}

/// Where callgrind wrote dump number `n` of process `pid` in `dir`.
pub fn dump_path(dir: &Path, pid: u32, n: u32) -> PathBuf {
    dir.join(format!("callgrind.{pid}.{n}"))
}

/// The instructions of dump number `n` of process `pid` in `dir`.
pub fn dump_total(dir: &Path, pid: u32, n: u32) -> Result<u64, String> {
    let path = dump_path(dir, pid, n);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    total(&text).ok_or_else(|| format!("{}: no totals line", path.display()))
}

/// The instructions a dump counted: its `totals:` line (or `summary:`, which older files
/// carry instead), first event (Ir).
pub fn total(text: &str) -> Option<u64> {
    let line = text
        .lines()
        .find(|l| l.starts_with("totals:"))
        .or_else(|| text.lines().find(|l| l.starts_with("summary:")))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_is_the_first_event_of_the_totals_line() {
        let dump = "# callgrind format\nversion: 1\nevents: Ir\nsummary: 1234\n\nfn=(1) main\n3 1234\n\ntotals: 1234\n";
        assert_eq!(total(dump), Some(1234));
        assert_eq!(total("events: Ir\nsummary: 77\n"), Some(77));
        assert_eq!(total("events: Ir\n"), None);
    }
}
