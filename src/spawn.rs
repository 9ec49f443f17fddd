//! Creating processes, one complete life per call: `fork` with an immediate `_exit`, `fork`
//! then `execve`, and `posix_spawn` (glibc builds it on `clone(CLONE_VM | CLONE_VFORK)`, the
//! safe way to get vfork's cost from Rust). Each call waits for its child and checks its exit
//! status, so no iteration leaves a zombie behind.
//!
//! The waits here are plain blocking `waitpid`s: each child only `_exit`s or execs
//! `/bin/true`, so the wait is bounded by construction, and a bounded-wait loop would add
//! syscalls to the timed region.

use crate::skip::Skip;
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork};
use std::ffi::{CString, c_char};
use std::io;
use std::path::Path;

/// Heap the parent holds while it forks: allocated and touched once, outside any timed
/// region, so every page is mapped and `fork` must copy its page-table entries.
pub struct Ballast {
    bytes: Vec<u8>,
}

impl Ballast {
    /// `len` bytes of heap with every page written.
    pub fn touched(len: usize) -> Ballast {
        let mut bytes = vec![0u8; len];
        let page = page_size();
        for offset in (0..len).step_by(page) {
            // SAFETY: offset < len. Volatile, so the writes that fault the pages in stay.
            unsafe { std::ptr::write_volatile(bytes.as_mut_ptr().add(offset), 1) };
        }
        Ballast { bytes }
    }

    /// Whether `len` bytes of ballast fit in the memory available now (the machine's, or
    /// what a container's cgroup leaves), with room to spare for the fork's page tables and
    /// the rest of the system.
    pub fn fits(len: usize) -> Result<(), Skip> {
        let available = crate::limits::available_memory().unwrap_or(u64::MAX);
        if (len as u64).saturating_mul(2) > available {
            return Err(Skip(format!(
                "needs {} MiB of free memory for the ballast, {} MiB available",
                (len as u64 * 2) >> 20,
                available >> 20
            )));
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

fn check_exit(child: Pid) -> io::Result<Pid> {
    crate::process::expect_success(waitpid(child, None).map_err(io::Error::from)?)?;
    Ok(child)
}

/// `fork()`; the child `_exit(0)`s at once; the parent reaps it. Returns the child's PID.
pub fn fork_exit_wait() -> io::Result<Pid> {
    // SAFETY: the child calls only _exit.
    match unsafe { fork() }.map_err(io::Error::from)? {
        ForkResult::Child => unsafe { libc::_exit(0) },
        ForkResult::Parent { child } => check_exit(child),
    }
}

/// A program with its argument and environment vectors built ahead of time, so that a forked
/// child can `execve` it without allocating.
pub struct Program {
    path: CString,
    argv: [*const c_char; 2],
    envp: [*const c_char; 1],
}

impl Program {
    /// `/bin/true`: the cheapest real program to start.
    pub fn true_binary() -> Result<Program, Skip> {
        Program::at("/bin/true")
    }

    pub fn at(path: &str) -> Result<Program, Skip> {
        if !Path::new(path).is_file() {
            return Err(Skip(format!("{path} does not exist on this machine")));
        }
        let path = CString::new(path).map_err(|e| Skip(e.to_string()))?;
        let argv = [path.as_ptr(), std::ptr::null()];
        Ok(Program {
            path,
            argv,
            envp: [std::ptr::null()],
        })
    }

    /// `fork()`, then `execve` in the child; the parent reaps it.
    pub fn fork_exec_wait(&self) -> io::Result<Pid> {
        // SAFETY: the child calls only execve and _exit, on data prepared before the fork.
        match unsafe { fork() }.map_err(io::Error::from)? {
            ForkResult::Child => unsafe {
                libc::execve(self.path.as_ptr(), self.argv.as_ptr(), self.envp.as_ptr());
                libc::_exit(127)
            },
            ForkResult::Parent { child } => check_exit(child),
        }
    }

    /// `posix_spawn` of the program; the parent reaps it.
    pub fn posix_spawn_wait(&self) -> io::Result<Pid> {
        let mut pid: libc::pid_t = 0;
        // SAFETY: the path and the null-terminated vectors outlive the call.
        let rc = unsafe {
            libc::posix_spawn(
                &mut pid,
                self.path.as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                self.argv.as_ptr() as *const *mut c_char,
                self.envp.as_ptr() as *const *mut c_char,
            )
        };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        check_exit(Pid::from_raw(pid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::is_gone;

    #[test]
    fn every_way_of_spawning_reaps_its_child() {
        let _ballast = Ballast::touched(4 << 20);
        let program = Program::true_binary().unwrap();
        for child in [
            fork_exit_wait().unwrap(),
            program.fork_exec_wait().unwrap(),
            program.posix_spawn_wait().unwrap(),
        ] {
            assert!(is_gone(child), "child {child} left as a zombie");
        }
    }

    #[test]
    fn a_child_that_fails_is_reported() {
        let failing = Program::at("/bin/false").unwrap();
        assert!(failing.fork_exec_wait().is_err());
        assert!(failing.posix_spawn_wait().is_err());
    }

    #[test]
    fn a_missing_program_is_a_skip_with_a_reason() {
        let skip = Program::at("/nonexistent/true").err().unwrap();
        assert!(skip.0.contains("does not exist"));
    }

    #[test]
    fn a_ballast_larger_than_memory_is_a_skip() {
        assert!(Ballast::fits(1 << 20).is_ok());
        assert!(
            Ballast::fits(usize::MAX / 4)
                .unwrap_err()
                .0
                .contains("free memory")
        );
    }

    #[test]
    fn ballast_has_the_size_asked() {
        assert_eq!(
            Ballast::touched(3 * page_size() + 1).len(),
            3 * page_size() + 1
        );
    }
}
