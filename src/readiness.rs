//! Readiness APIs over many registered descriptors, exactly one (or all) of them ready: the
//! set-up for comparing `epoll_wait`, `poll` and `select` as the number of registered file
//! descriptors grows (claim C05). Descriptors are eventfds: one fd per registration, so ten
//! thousand fit under a 20,000-descriptor limit.

use crate::skip::Skip;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// `registered` eventfds, the last `ready` of them readable (level-triggered), registered in
/// one epoll instance and described for `poll` and `select`.
pub struct ReadySet {
    fds: Vec<OwnedFd>,
    epoll: OwnedFd,
    events: Vec<libc::epoll_event>,
    pollfds: Vec<libc::pollfd>,
    ready: usize,
}

/// A raw syscall's return value, or the error it set in errno.
pub(crate) fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// Whether `select` can hold a set of `registered` descriptors at all. They are distinct
/// numbers from 0 up, so past `FD_SETSIZE` of them one is out of its reach: no need to open
/// thousands of descriptors to find that out.
pub fn select_can_hold(registered: usize) -> Result<(), Skip> {
    if registered > libc::FD_SETSIZE {
        return Err(Skip(format!(
            "select handles only descriptors below FD_SETSIZE ({}); a set of {registered} reaches at least {}",
            libc::FD_SETSIZE,
            registered - 1
        )));
    }
    Ok(())
}

impl ReadySet {
    pub fn new(registered: usize, ready: usize) -> io::Result<ReadySet> {
        assert!(ready <= registered && registered > 0);
        // SAFETY: plain syscalls; every returned descriptor is owned at once.
        let epoll =
            unsafe { OwnedFd::from_raw_fd(check(libc::epoll_create1(libc::EPOLL_CLOEXEC))?) };
        let mut fds = Vec::with_capacity(registered);
        for i in 0..registered {
            let flags = libc::EFD_CLOEXEC | libc::EFD_NONBLOCK;
            let fd = unsafe { OwnedFd::from_raw_fd(check(libc::eventfd(0, flags))?) };
            let mut event = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: fd.as_raw_fd() as u64,
            };
            check(unsafe {
                libc::epoll_ctl(
                    epoll.as_raw_fd(),
                    libc::EPOLL_CTL_ADD,
                    fd.as_raw_fd(),
                    &mut event,
                )
            })?;
            if i >= registered - ready {
                let one: u64 = 1;
                check(
                    unsafe { libc::write(fd.as_raw_fd(), (&one as *const u64).cast(), 8) } as i32,
                )?;
            }
            fds.push(fd);
        }
        let pollfds = fds
            .iter()
            .map(|fd| libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        Ok(ReadySet {
            events: vec![libc::epoll_event { events: 0, u64: 0 }; ready.max(1)],
            fds,
            epoll,
            pollfds,
            ready,
        })
    }

    pub fn registered(&self) -> usize {
        self.fds.len()
    }

    /// One `epoll_wait` with timeout 0; returns how many descriptors it reported. A failed
    /// call is an error, never a fast "nothing ready".
    pub fn epoll_wait(&mut self) -> io::Result<usize> {
        // SAFETY: the buffer holds `events.len()` entries.
        let n = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                self.events.as_mut_ptr(),
                self.events.len() as i32,
                0,
            )
        };
        check(n).map(|n| n as usize)
    }

    /// The descriptors the last `epoll_wait` reported.
    pub fn epoll_reported(&self, count: usize) -> Vec<RawFd> {
        self.events[..count]
            .iter()
            .map(|e| e.u64 as RawFd)
            .collect()
    }

    /// One `poll` over every registered descriptor with timeout 0; returns how many are ready.
    pub fn poll(&mut self) -> io::Result<usize> {
        // SAFETY: the array holds `pollfds.len()` entries.
        let n = unsafe {
            libc::poll(
                self.pollfds.as_mut_ptr(),
                self.pollfds.len() as libc::nfds_t,
                0,
            )
        };
        check(n).map(|n| n as usize)
    }

    /// The descriptors the last `poll` reported readable.
    pub fn poll_reported(&self) -> Vec<RawFd> {
        self.pollfds
            .iter()
            .filter(|p| p.revents & libc::POLLIN != 0)
            .map(|p| p.fd)
            .collect()
    }

    /// A `select` set of every registered descriptor, or why `select` cannot take them:
    /// it handles only descriptor numbers below `FD_SETSIZE`.
    pub fn select_set(&self) -> Result<SelectSet, Skip> {
        let highest = self.fds.iter().map(|fd| fd.as_raw_fd()).max().unwrap_or(0);
        if highest as usize >= libc::FD_SETSIZE {
            return Err(Skip(format!(
                "select handles only descriptors below FD_SETSIZE ({}); this set reaches {highest}",
                libc::FD_SETSIZE
            )));
        }
        // SAFETY: fd_set is plain data; FD_ZERO/FD_SET on numbers checked above.
        let mut template: libc::fd_set = unsafe { std::mem::zeroed() };
        unsafe { libc::FD_ZERO(&mut template) };
        for fd in &self.fds {
            unsafe { libc::FD_SET(fd.as_raw_fd(), &mut template) };
        }
        Ok(SelectSet {
            template,
            nfds: highest + 1,
        })
    }

    pub fn ready(&self) -> usize {
        self.ready
    }

    /// The descriptors made ready, for checking what the calls report.
    pub fn ready_fds(&self) -> Vec<RawFd> {
        self.fds[self.fds.len() - self.ready..]
            .iter()
            .map(|fd| fd.as_raw_fd())
            .collect()
    }

    pub fn raw_fds(&self) -> Vec<RawFd> {
        self.fds
            .iter()
            .map(|fd| fd.as_raw_fd())
            .chain([self.epoll.as_raw_fd()])
            .collect()
    }
}

/// The input of a `select` call, rebuilt from a template each call because `select`
/// overwrites it (the copy is part of what using `select` costs).
pub struct SelectSet {
    template: libc::fd_set,
    nfds: i32,
}

impl SelectSet {
    /// One `select` with a zero timeout; returns how many descriptors are ready.
    pub fn select(&self) -> io::Result<usize> {
        let mut readable = self.template;
        let mut timeout = libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        };
        // SAFETY: valid sets and timeout for the duration of the call.
        let n = unsafe {
            libc::select(
                self.nfds,
                &mut readable,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &mut timeout,
            )
        };
        check(n).map(|n| n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Mutex, MutexGuard};

    /// Descriptor numbers are the process's: while one test holds more than FD_SETSIZE of
    /// them, another's new set lands above it and `select` refuses it. Tests that call
    /// `select` on a set of their own, and the one that holds that many, take turns.
    fn descriptors_below_fd_setsize() -> MutexGuard<'static, ()> {
        static TURN: Mutex<()> = Mutex::new(());
        TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    #[test]
    fn each_call_reports_exactly_the_one_ready_descriptor() {
        let _turn = descriptors_below_fd_setsize();
        let mut set = ReadySet::new(100, 1).unwrap();
        let ready = set.ready_fds();
        let n = set.epoll_wait().unwrap();
        assert_eq!(set.epoll_reported(n), ready);
        let n = set.poll().unwrap();
        assert_eq!((n, set.poll_reported()), (1, ready.clone()));
        assert_eq!(set.select_set().unwrap().select().unwrap(), 1);
        // Level-triggered: still ready on the next call.
        assert_eq!(set.epoll_wait().unwrap(), 1);
    }

    /// The shortcut never skips a set that, built, select could have taken.
    #[test]
    fn a_set_past_fd_setsize_is_refused_by_its_size_as_when_built() {
        let _turn = descriptors_below_fd_setsize();
        let n = libc::FD_SETSIZE + 1;
        assert!(select_can_hold(n).is_err());
        assert!(select_can_hold(100).is_ok());
        match crate::limits::FdLimit::raise_for(n as u64) {
            Ok(_limit) => {
                let set = ReadySet::new(n, 1).unwrap();
                assert!(set.select_set().is_err(), "select took {n} descriptors");
            }
            Err(why) => eprintln!("skipped building {n} descriptors: {why}"),
        }
    }

    #[test]
    fn all_ready_reports_every_descriptor() {
        let mut set = ReadySet::new(50, 50).unwrap();
        assert_eq!(set.epoll_wait().unwrap(), 50);
        assert_eq!(set.poll().unwrap(), 50);
    }

    #[test]
    fn a_failed_call_is_an_error_not_zero_ready() {
        let _turn = descriptors_below_fd_setsize();
        let mut set = ReadySet::new(1, 1).unwrap();
        set.events.clear(); // maxevents 0: EINVAL
        assert_eq!(
            set.epoll_wait().unwrap_err().raw_os_error(),
            Some(libc::EINVAL)
        );
        let mut select = set.select_set().unwrap();
        select.nfds = -1;
        assert_eq!(
            select.select().unwrap_err().raw_os_error(),
            Some(libc::EINVAL)
        );
    }
}
