//! The cost of creating a process, and how it grows with the parent's memory (claim C01:
//! "hundreds of microseconds per fork", because the kernel copies the page tables).
//!
//! The parent is not the bench process but a process of its own (the bench executable started
//! again, `concurrency_costs::fork_parent`) that holds a ballast of 1 MiB, 64 MiB or 1 GiB of
//! heap with every page touched and little else, started once per size outside the timed
//! region. Each benchmark prints the parent's resident and mapped size beside its figure:
//! beyond the ballast, what remains is that program's own (the executable and libc mapped,
//! its stack, a small heap). One iteration is one whole child life, timed by the parent:
//! - `fork_exit_wait`: `fork()`, the child `_exit(0)`s at once, the parent `waitpid`s it.
//!   Includes copying the page tables and tearing them down again at exit.
//! - `fork_exec_wait`: `fork()`, the child `execve`s `/bin/true`, the parent waits. Adds
//!   loading a program; the copied page tables are thrown away by the exec.
//! - `posix_spawn_wait`: `posix_spawn` of `/bin/true` (vfork-style: the child borrows the
//!   parent's memory until it execs), then wait. Should not grow with the ballast.
//!
//! Each child's exit status is checked, so every iteration reaps a successful child; the
//! children the parent reaped are printed when it stops.
//!
//! Run with: `cargo bench --bench fork`

use concurrency_costs::fork_parent::{self, ForkParent, Life};
use concurrency_costs::harness::{self, Group};
use concurrency_costs::spawn::{Ballast, Program};
use criterion::{Criterion, SamplingMode, criterion_group};

/// Parent heap sizes: a small server, a mid-sized one, and one where page tables dominate.
const BALLASTS: [(&str, usize); 3] = [("1MiB", 1 << 20), ("64MiB", 64 << 20), ("1GiB", 1 << 30)];

const LIVES: [(&str, Life); 3] = [
    ("fork_exit_wait", Life::ExitWait),
    ("fork_exec_wait", Life::ExecWait),
    ("posix_spawn_wait", Life::SpawnWait),
];

fn fork(c: &mut Criterion) {
    let mut group = Group::new(c, "fork");
    // Milliseconds per iteration at 1 GiB: equal-sized samples instead of a linear ramp.
    group.criterion_group().sampling_mode(SamplingMode::Flat);
    let program = Program::true_binary().map(drop);
    for (size, bytes) in BALLASTS {
        if let Err(why) = Ballast::fits(bytes) {
            for (function, _) in LIVES {
                group.skip(function, size, &why);
            }
            continue;
        }
        let mut parent = None;
        let start = || {
            ForkParent::start(bytes)
                .unwrap_or_else(|e| panic!("fork/{size}: cannot start the fork parent: {e}"))
        };
        for (function, life) in LIVES {
            if let (Life::ExecWait | Life::SpawnWait, Err(why)) = (life, &program) {
                group.skip(function, size, why);
                continue;
            }
            let mut ran = false;
            group.bench_with_state(function, size, &mut parent, start, |b, parent| {
                ran = true;
                b.iter_custom(|lives| parent.time(life, lives).expect("the fork parent broke"))
            });
            if let (true, Some(parent)) = (ran, &parent) {
                eprintln!("{}: {}", group.id(function, size), parent.footprint());
            }
        }
        if let Some(parent) = parent {
            match parent.finish() {
                Ok(reaped) => eprintln!("fork/*/{size}: the parent reaped {reaped} children"),
                Err(e) => panic!("fork/*/{size}: the fork parent did not finish cleanly: {e}"),
            }
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = harness::criterion();
    targets = fork
}
// criterion_main!, with the fork parent's way in first.
fn main() {
    fork_parent::serve_if_asked();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
