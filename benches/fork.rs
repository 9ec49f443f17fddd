//! The cost of creating a process, and how it grows with the parent's memory (claim C01:
//! "hundreds of microseconds per fork", because the kernel copies the page tables).
//!
//! The parent first holds a ballast of 1 MiB, 64 MiB or 1 GiB of heap with every page
//! touched (built once per size, outside the timed region). One iteration is one whole
//! child life, timed from the parent:
//! - `fork_exit_wait`: `fork()`, the child `_exit(0)`s at once, the parent `waitpid`s it.
//!   Includes copying the page tables and tearing them down again at exit.
//! - `fork_exec_wait`: `fork()`, the child `execve`s `/bin/true`, the parent waits. Adds
//!   loading a program; the copied page tables are thrown away by the exec.
//! - `posix_spawn_wait`: `posix_spawn` of `/bin/true` (vfork-style: the child borrows the
//!   parent's memory until it execs), then wait. Should not grow with the ballast.
//!
//! Each child's exit status is checked, so every iteration reaps a successful child.
//!
//! Run with: `cargo bench --bench fork`

use concurrency_costs::harness::{self, Group};
use concurrency_costs::spawn::{Ballast, Program, fork_exit_wait};
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};

/// Parent heap sizes: a small server, a mid-sized one, and one where page tables dominate.
const BALLASTS: [(&str, usize); 3] = [("1MiB", 1 << 20), ("64MiB", 64 << 20), ("1GiB", 1 << 30)];

fn fork(c: &mut Criterion) {
    let mut group = Group::new(c, "fork");
    // Milliseconds per iteration at 1 GiB: equal-sized samples instead of a linear ramp.
    group.criterion_group().sampling_mode(SamplingMode::Flat);
    let program = Program::true_binary();
    for (size, bytes) in BALLASTS {
        if let Err(why) = Ballast::fits(bytes) {
            for function in ["fork_exit_wait", "fork_exec_wait", "posix_spawn_wait"] {
                group.skip(function, size, &why);
            }
            continue;
        }
        let mut ballast = None;
        let touch = || Ballast::touched(bytes);
        group.bench_with_state("fork_exit_wait", size, &mut ballast, touch, |b, _| {
            b.iter(|| fork_exit_wait().expect("fork failed"))
        });
        match &program {
            Ok(program) => {
                group.bench_with_state("fork_exec_wait", size, &mut ballast, touch, |b, _| {
                    b.iter(|| program.fork_exec_wait().expect("fork + exec failed"))
                });
                group.bench_with_state("posix_spawn_wait", size, &mut ballast, touch, |b, _| {
                    b.iter(|| program.posix_spawn_wait().expect("posix_spawn failed"))
                });
            }
            Err(why) => {
                group.skip("fork_exec_wait", size, why);
                group.skip("posix_spawn_wait", size, why);
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
criterion_main!(benches);
