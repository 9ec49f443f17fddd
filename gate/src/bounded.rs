//! Commands run to their end or to a bound: each in a process group of its own, killed whole
//! when the bound passes, and killed with the process that started it.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::io;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Runs `command` to its end or until `limit`, in a process group of its own that is killed
/// whole past the limit (the program and anything it started), and with the kernel's promise
/// to kill it if this process dies first. `Err(TimedOut)` names the limit.
pub fn run_bounded(command: &mut Command, limit: Duration) -> io::Result<ExitStatus> {
    let mut child = spawn_in_own_group(command)?;
    wait_bounded(&mut child, limit)
}

/// [`run_bounded`] that also collects what the program writes to standard output.
pub fn output_bounded(command: &mut Command, limit: Duration) -> io::Result<(ExitStatus, Vec<u8>)> {
    let mut child = spawn_in_own_group(command.stdout(Stdio::piped()))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    collect_while_waiting(child, stdout, limit)
}

/// [`run_bounded`] that also collects what the program writes to standard error.
pub fn errors_bounded(command: &mut Command, limit: Duration) -> io::Result<(ExitStatus, Vec<u8>)> {
    let mut child = spawn_in_own_group(command.stderr(Stdio::piped()))?;
    let stderr = child.stderr.take().expect("stderr is piped");
    collect_while_waiting(child, stderr, limit)
}

fn collect_while_waiting(
    mut child: Child,
    mut pipe: impl Read + Send + 'static,
    limit: Duration,
) -> io::Result<(ExitStatus, Vec<u8>)> {
    // Read while waiting: a program that fills the pipe would otherwise never exit.
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        pipe.read_to_end(&mut bytes).map(|_| bytes)
    });
    let status = wait_bounded(&mut child, limit);
    // Every writer is gone now (the group was killed on a timeout), so the read ends.
    let bytes = reader.join().expect("the reader does not panic")?;
    Ok((status?, bytes))
}

fn spawn_in_own_group(command: &mut Command) -> io::Result<Child> {
    command.process_group(0);
    // SAFETY: prctl is async-signal-safe; the closure touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    command.spawn()
}

fn wait_bounded(child: &mut Child, limit: Duration) -> io::Result<ExitStatus> {
    let group = Pid::from_raw(child.id() as i32);
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            // Whatever the program left running in its group goes with it.
            let _ = killpg(group, Signal::SIGKILL);
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let _ = killpg(group, Signal::SIGKILL);
            let _ = child.wait();
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("did not finish within {limit:?}; its process group was killed"),
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounded_command_that_hangs_is_killed_with_what_it_started() {
        let marker = std::env::temp_dir().join(format!("costs-bounded-{}", std::process::id()));
        // The shell starts a grandchild that would outlive it, then hangs itself. On a busy
        // machine the bound can pass before the shell has written the grandchild's pid: the
        // test then tries again with twice the bound, so what it checks does not hang on load.
        let script = format!("sleep 30 & echo $! > {}; sleep 30", marker.display());
        let mut limit = Duration::from_millis(300);
        let grandchild: i32 = loop {
            let err = run_bounded(Command::new("sh").args(["-c", &script]), limit).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::TimedOut);
            let written = std::fs::read_to_string(&marker).ok();
            if let Some(pid) = written.and_then(|text| text.trim().parse().ok()) {
                break pid;
            }
            assert!(
                limit < Duration::from_secs(10),
                "the shell never started its child"
            );
            limit *= 2;
        };
        std::fs::remove_file(&marker).unwrap();
        // The grandchild was killed; once its parent (init or a subreaper) reaps it, it is gone.
        let deadline = Instant::now() + Duration::from_secs(5);
        let state = || std::fs::read_to_string(format!("/proc/{grandchild}/stat")).ok();
        while state().is_some_and(|s| !s.contains(") Z ")) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let left = state();
        assert!(
            left.as_deref().is_none_or(|s| s.contains(") Z ")),
            "the grandchild still runs: {left:?}"
        );
        assert!(
            run_bounded(&mut Command::new("true"), Duration::from_secs(5))
                .unwrap()
                .success()
        );
    }

    #[test]
    fn bounded_output_is_collected_whole_or_cut_off_at_the_limit() {
        let (status, out) = output_bounded(
            Command::new("sh").args(["-c", "seq 1 100000"]),
            Duration::from_secs(30),
        )
        .unwrap();
        assert!(status.success());
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 100_000);
        let err = output_bounded(
            Command::new("sh").args(["-c", "echo started; sleep 30"]),
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }
}
