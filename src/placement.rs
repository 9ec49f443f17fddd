//! Where the measured threads run: the CPUs this process may use, pinning with a guard that
//! restores the previous mask, and the three placements the context-switch benches compare.

use crate::skip::Skip;
use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;
use std::io;

/// Where the members of a ping-pong or ring run relative to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Every member pinned to the same CPU: each hand-off is a context switch on that CPU.
    SameCore,
    /// Neighbouring members pinned to two different CPUs: each hand-off is a cross-CPU wake-up.
    CrossCore,
    /// No pinning: the scheduler decides, as in an ordinary program.
    Unpinned,
}

impl Placement {
    /// The parameter this placement has in benchmark IDs.
    pub fn id(self) -> &'static str {
        match self {
            Placement::SameCore => "same_core",
            Placement::CrossCore => "cross_core",
            Placement::Unpinned => "unpinned",
        }
    }

    /// The CPUs this placement uses on this machine, or why it cannot run here.
    pub fn plan(self) -> Result<CpuPlan, Skip> {
        self.plan_on(allowed_cpus().map_err(|e| Skip(format!("cannot read the CPU mask: {e}")))?)
    }

    fn plan_on(self, cpus: Vec<usize>) -> Result<CpuPlan, Skip> {
        self.plan_with(cpus, &core_of)
    }

    /// `core` names the physical core a CPU belongs to: cross-core takes two CPUs of two
    /// cores where it can, since two SMT siblings share a core and hand off through its
    /// caches, not between cores.
    fn plan_with(
        self,
        mut cpus: Vec<usize>,
        core: &dyn Fn(usize) -> Option<String>,
    ) -> Result<CpuPlan, Skip> {
        if self == Placement::CrossCore && cpus.len() >= 2 {
            let first = core(cpus[0]);
            if let Some(other) = cpus[1..]
                .iter()
                .position(|&c| first.is_none() || core(c) != first)
            {
                cpus.swap(1, other + 1);
            }
        }
        let needed = match self {
            Placement::SameCore => 1,
            Placement::CrossCore => 2,
            Placement::Unpinned => 0,
        };
        if cpus.len() < needed {
            return Err(Skip(format!(
                "needs {needed} CPUs, this process may use {}",
                cpus.len()
            )));
        }
        Ok(CpuPlan {
            placement: self,
            cpus: cpus.into_iter().take(needed).collect(),
        })
    }
}

/// A placement resolved to concrete CPUs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuPlan {
    placement: Placement,
    cpus: Vec<usize>,
}

impl CpuPlan {
    /// The CPU for member `index` of a ring (member 0 is the driving thread), or `None` when
    /// unpinned. Cross-core alternates, so every hop between neighbours crosses CPUs.
    pub fn cpu_for(&self, index: usize) -> Option<usize> {
        match self.placement {
            Placement::Unpinned => None,
            Placement::SameCore => Some(self.cpus[0]),
            Placement::CrossCore => Some(self.cpus[index % 2]),
        }
    }

    pub fn placement(&self) -> Placement {
        self.placement
    }
}

/// The physical core of `cpu` (package and core id), where the kernel says.
fn core_of(cpu: usize) -> Option<String> {
    let topology = format!("/sys/devices/system/cpu/cpu{cpu}/topology");
    let read = |file: &str| std::fs::read_to_string(format!("{topology}/{file}")).ok();
    Some(format!(
        "{}/{}",
        read("physical_package_id")?.trim(),
        read("core_id")?.trim()
    ))
}

/// Whether the two CPUs a cross-core placement uses here are SMT siblings of one core (the
/// allowed CPUs offer no two cores), or `None` where the topology cannot be read.
pub fn cross_core_shares_a_core() -> Option<bool> {
    let plan = Placement::CrossCore.plan().ok()?;
    Some(core_of(plan.cpus[0])? == core_of(plan.cpus[1])?)
}

/// The CPUs the calling thread may run on, in ascending order.
pub fn allowed_cpus() -> io::Result<Vec<usize>> {
    let set = sched_getaffinity(Pid::from_raw(0)).map_err(io::Error::from)?;
    Ok((0..CpuSet::count())
        .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
        .collect())
}

/// Pins the calling thread to `cpu` until the guard is dropped.
pub fn pin_current_thread(cpu: usize) -> io::Result<PinGuard> {
    let previous = sched_getaffinity(Pid::from_raw(0)).map_err(io::Error::from)?;
    set_thread_affinity(cpu)?;
    Ok(PinGuard { previous })
}

/// Pins the calling thread without keeping a way back: for threads and children that exist
/// only to be measured. Uses only a syscall, so it is safe in a freshly forked child.
pub fn set_thread_affinity(cpu: usize) -> io::Result<()> {
    let mut only = CpuSet::new();
    only.set(cpu).map_err(io::Error::from)?;
    sched_setaffinity(Pid::from_raw(0), &only).map_err(io::Error::from)
}

/// Restores the thread's previous CPU mask when dropped, so a pinned bench does not leave
/// Criterion's thread pinned for the benches after it.
#[must_use = "the thread is unpinned when the guard is dropped"]
pub struct PinGuard {
    previous: CpuSet,
}

impl Drop for PinGuard {
    fn drop(&mut self) {
        let _ = sched_setaffinity(Pid::from_raw(0), &self.previous);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_may_use_at_least_one_cpu() {
        assert!(!allowed_cpus().unwrap().is_empty());
    }

    #[test]
    fn cross_core_is_skipped_with_a_reason_on_one_cpu() {
        let skip = Placement::CrossCore.plan_on(vec![0]).unwrap_err();
        assert!(skip.0.contains("needs 2 CPUs"), "{skip}");
    }

    #[test]
    fn cross_core_takes_two_cores_over_two_siblings_of_one() {
        // CPUs 0 and 1 are siblings of core 0, CPUs 2 and 3 of core 1.
        let core = |cpu: usize| Some((cpu / 2).to_string());
        let plan = Placement::CrossCore
            .plan_with(vec![0, 1, 2, 3], &core)
            .unwrap();
        assert_eq!((plan.cpu_for(0), plan.cpu_for(1)), (Some(0), Some(2)));
        // Only siblings allowed: they are used (and the environment line says so).
        let plan = Placement::CrossCore.plan_with(vec![0, 1], &core).unwrap();
        assert_eq!((plan.cpu_for(0), plan.cpu_for(1)), (Some(0), Some(1)));
    }

    #[test]
    fn cross_core_alternates_and_same_core_shares() {
        let cross = Placement::CrossCore.plan_on(vec![3, 5, 7]).unwrap();
        assert_eq!(
            (0..4).map(|i| cross.cpu_for(i)).collect::<Vec<_>>(),
            [Some(3), Some(5), Some(3), Some(5)]
        );
        let same = Placement::SameCore.plan_on(vec![3, 5]).unwrap();
        assert_eq!(same.cpu_for(1), Some(3));
        assert_eq!(
            Placement::Unpinned.plan_on(vec![]).unwrap().cpu_for(0),
            None
        );
    }

    #[test]
    fn pin_guard_restores_the_previous_mask() {
        std::thread::spawn(|| {
            let before = allowed_cpus().unwrap();
            {
                let _pin = pin_current_thread(before[0]).unwrap();
                assert_eq!(allowed_cpus().unwrap(), vec![before[0]]);
            }
            assert_eq!(allowed_cpus().unwrap(), before);
        })
        .join()
        .unwrap();
    }
}
