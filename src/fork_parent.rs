//! The parent that the fork benchmarks fork from (claim C01): a process of its own holding
//! little but its ballast, so that "a 1 MiB parent" is close to one. A bench process is a poor
//! parent to fork from: Criterion's buffers, its analysis threads with their stacks and
//! allocator arenas, and hundreds of mappings would all be copied with the ballast, and fork's
//! cost grows with every mapping and every resident page.
//!
//! The bench executable is started again with [`BALLAST_VARIABLE`] set; its `main` calls
//! [`serve_if_asked`] before anything else, which touches the ballast, reports the process's
//! [`Footprint`] and then runs batches of child lives when told, timing each batch itself. The
//! bench process only asks and reads the answer, outside the timed region. The footprint is
//! the parent a figure was measured with: what remains beyond the ballast is this program's
//! own (the executable and libc mapped, the stack, a small heap).

use crate::spawn::{Ballast, Program, fork_exit_wait};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// Set to the ballast's size in bytes, it turns a bench executable into a fork parent.
pub const BALLAST_VARIABLE: &str = "COSTS_FORK_PARENT_BALLAST";

/// How long the parent may take to start and touch its ballast, and to exit once asked.
const STARTUP: Duration = Duration::from_secs(60);
/// Beyond its batch's share, how long one child life may take before the parent is given
/// up on (a fork of a 1 GiB parent takes tens of milliseconds).
const PER_CHILD: Duration = Duration::from_secs(1);

/// One child life, as the fork benchmarks name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Life {
    /// `fork()`, the child `_exit(0)`s, the parent reaps it.
    ExitWait,
    /// `fork()`, the child execs `/bin/true`, the parent reaps it.
    ExecWait,
    /// `posix_spawn` of `/bin/true`, then reap it.
    SpawnWait,
}

impl Life {
    fn word(self) -> &'static str {
        match self {
            Life::ExitWait => "exit_wait",
            Life::ExecWait => "exec_wait",
            Life::SpawnWait => "spawn_wait",
        }
    }

    fn from_word(word: &str) -> Option<Life> {
        [Life::ExitWait, Life::ExecWait, Life::SpawnWait]
            .into_iter()
            .find(|life| life.word() == word)
    }
}

/// A process's memory as fork sees it: what is resident, how much of that is anonymous (its
/// page-table entries are copied), and how much is mapped in how many mappings (each one is
/// duplicated).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    pub resident: u64,
    pub anonymous: u64,
    pub mapped: u64,
    pub mappings: u64,
}

impl Footprint {
    /// This process's, from `/proc/self`.
    pub fn of_this_process() -> Footprint {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
        let kib = |name| crate::footprint::kib_field(&status, name) * 1024;
        Footprint {
            resident: kib("VmRSS:"),
            anonymous: kib("RssAnon:"),
            mapped: kib("VmSize:"),
            mappings: maps.lines().count() as u64,
        }
    }

    fn to_line(self) -> String {
        format!(
            "ready {} {} {} {}",
            self.resident, self.anonymous, self.mapped, self.mappings
        )
    }

    fn from_line(line: &str) -> Option<Footprint> {
        let mut numbers = line.strip_prefix("ready ")?.split(' ').map(str::parse);
        let mut next = || numbers.next()?.ok();
        Some(Footprint {
            resident: next()?,
            anonymous: next()?,
            mapped: next()?,
            mappings: next()?,
        })
    }
}

impl fmt::Display for Footprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mib = |bytes: u64| bytes as f64 / (1 << 20) as f64;
        write!(
            f,
            "the parent: {:.1} MiB resident ({:.1} MiB anonymous), {:.1} MiB mapped in {} mappings",
            mib(self.resident),
            mib(self.anonymous),
            mib(self.mapped),
            self.mappings
        )
    }
}

/// A fork parent started from this bench executable, alive across iterations.
pub struct ForkParent {
    process: Child,
    to_parent: Option<ChildStdin>,
    lines: Receiver<String>,
    footprint: Footprint,
    /// Children the parent reported reaped, each after a successful exit.
    reaped: u64,
    /// Reaped by [`ForkParent::finish`].
    exited: bool,
}

impl ForkParent {
    /// Starts this executable again as a parent holding `ballast` bytes, every page touched,
    /// and waits until it is ready.
    pub fn start(ballast: usize) -> io::Result<ForkParent> {
        let mut process = Command::new(std::env::current_exe()?)
            .env(BALLAST_VARIABLE, ballast.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = process.stdout.take().expect("stdout is piped");
        let (send, lines) = crossbeam_channel::unbounded();
        std::thread::Builder::new()
            .name("fork-parent-out".into())
            .spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if send.send(line).is_err() {
                        break;
                    }
                }
            })?;
        let mut parent = ForkParent {
            to_parent: process.stdin.take(),
            process,
            lines,
            footprint: Footprint::default(),
            reaped: 0,
            exited: false,
        };
        let ready = parent.answer(STARTUP)?;
        parent.footprint = Footprint::from_line(&ready)
            .ok_or_else(|| io::Error::other(format!("the fork parent said {ready:?}")))?;
        Ok(parent)
    }

    /// The parent's memory once its ballast was touched, before its first child.
    pub fn footprint(&self) -> Footprint {
        self.footprint
    }

    /// Has the parent run `lives` child lives one after another; returns the time the
    /// parent measured around them.
    pub fn time(&mut self, life: Life, lives: u64) -> io::Result<Duration> {
        let to_parent = self.to_parent.as_mut().expect("open until finish");
        writeln!(to_parent, "{} {lives}", life.word())?;
        to_parent.flush()?;
        let allowance = PER_CHILD.saturating_mul(lives.min(u32::MAX.into()) as u32);
        let answer = self.answer(STARTUP + allowance)?;
        match answer.strip_prefix("took ").map(str::parse::<u64>) {
            Some(Ok(nanos)) => {
                self.reaped += lives;
                Ok(Duration::from_nanos(nanos))
            }
            _ => Err(io::Error::other(format!("the fork parent said {answer:?}"))),
        }
    }

    fn answer(&self, within: Duration) -> io::Result<String> {
        match self.lines.recv_timeout(within) {
            Ok(line) => Ok(line),
            Err(RecvTimeoutError::Timeout) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the fork parent did not answer within {within:?}"),
            )),
            Err(RecvTimeoutError::Disconnected) => {
                Err(io::Error::other("the fork parent exited early"))
            }
        }
    }

    /// Closes the parent's input, reaps it, and returns how many children it reaped, each
    /// after a successful exit.
    pub fn finish(mut self) -> io::Result<u64> {
        self.to_parent = None;
        let pid = nix::unistd::Pid::from_raw(self.process.id() as i32);
        self.exited = true;
        let status = crate::process::reap_within(pid, crate::process::EXIT_GRACE)?;
        crate::process::expect_success(status)?;
        Ok(self.reaped)
    }
}

impl Drop for ForkParent {
    /// On every other path (a panic in a benchmark included) the parent is killed and reaped.
    fn drop(&mut self) {
        if !self.exited {
            let _ = self.process.kill();
            let _ = self.process.wait();
        }
    }
}

/// In a bench executable's `main`, first thing: when started as a fork parent, serves until
/// its input closes and exits; otherwise returns at once.
pub fn serve_if_asked() {
    let Some(ballast) = std::env::var_os(BALLAST_VARIABLE) else {
        return;
    };
    let code = match ballast.to_str().and_then(|b| b.parse::<usize>().ok()) {
        Some(bytes) => match serve(bytes) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("fork parent: {e}");
                1
            }
        },
        None => {
            eprintln!("fork parent: {BALLAST_VARIABLE} is not a byte count: {ballast:?}");
            2
        }
    };
    std::process::exit(code)
}

fn serve(bytes: usize) -> io::Result<()> {
    // A parent whose bench process died must not outlive it.
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    let ballast = Ballast::touched(bytes);
    let program = Program::true_binary();
    let mut out = io::stdout().lock();
    writeln!(out, "{}", Footprint::of_this_process().to_line())?;
    out.flush()?;
    for line in io::stdin().lock().lines() {
        let line = line?;
        let (word, count) = line.split_once(' ').unwrap_or((&line, ""));
        let (Some(life), Ok(lives)) = (Life::from_word(word), count.parse::<u64>()) else {
            return Err(io::Error::other(format!("not a request: {line:?}")));
        };
        let start = Instant::now();
        for _ in 0..lives {
            match (life, &program) {
                (Life::ExitWait, _) => fork_exit_wait().map(drop)?,
                (Life::ExecWait, Ok(program)) => program.fork_exec_wait().map(drop)?,
                (Life::SpawnWait, Ok(program)) => program.posix_spawn_wait().map(drop)?,
                (_, Err(why)) => return Err(io::Error::other(why.0.clone())),
            }
        }
        writeln!(out, "took {}", start.elapsed().as_nanos())?;
        out.flush()?;
    }
    drop(ballast);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_footprint_survives_its_line() {
        let footprint = Footprint::of_this_process();
        assert!(footprint.resident > 0 && footprint.mappings > 0);
        assert_eq!(Footprint::from_line(&footprint.to_line()), Some(footprint));
        assert_eq!(Footprint::from_line("ready 1 2"), None);
    }

    #[test]
    fn every_life_is_named_by_its_word() {
        for life in [Life::ExitWait, Life::ExecWait, Life::SpawnWait] {
            assert_eq!(Life::from_word(life.word()), Some(life));
        }
        assert_eq!(Life::from_word("exit"), None);
    }
}
