//! The cost of an OS context switch (claim C03: 1–10 µs, ~5 µs) and how it grows with the
//! number of threads in play (C07: 10,000 threads switching).
//!
//! Partners are started once, before the first iteration, and kept alive across all of them;
//! the bench thread is one of them and times whole batches from its own side. One iteration
//! = one one-way hand-off of a token (a round trip is two). After each bench, the partner is
//! stopped and the kernel's context-switch counts are printed beside the tokens it forwarded:
//! the proof that each hop really switched.
//!
//! Mechanisms (function) × placement (parameter: `same_core`, `cross_core`, `unpinned`):
//! - `thread_pipe`: two threads, one-byte writes and blocking reads on two pipes.
//! - `process_pipe`: the same with a forked child process (separate address spaces).
//! - `thread_futex`: a shared word with raw FUTEX_WAIT / FUTEX_WAKE, no pipe.
//! - `thread_condvar`: std `Mutex` + `Condvar`.
//! - `thread_channel`: crossbeam bounded channel; it spins before parking, so a cross-core
//!   hop may not switch at all (the printed counts show it).
//! - `thread_ring/<N>`: a token around a ring of N threads over pipes, all pinned to one
//!   CPU (lmbench's lat_ctx shape), per hop: does a switch get dearer with more threads?
//!
//! Same-core variants measure the switch itself; cross-core ones measure a cross-CPU
//! wake-up (an IPI, and on a VM an exit out of the idle vCPU), which is often dearer.
//!
//! Run with: `cargo bench --bench context_switch`

use concurrency_costs::harness::{self, Group};
use concurrency_costs::limits::{self, FdLimit};
use concurrency_costs::link::{Channel, Condvar, Futex, Link, Pipe};
use concurrency_costs::placement::Placement::{self, CrossCore, SameCore, Unpinned};
use concurrency_costs::ring::{ProcessPingPong, ThreadRing};
use criterion::{Criterion, criterion_group, criterion_main};

/// Ring sizes: a ping-pong, a small pool, a large pool, and more threads than most caches
/// and run-queue heuristics are tuned for.
const RING_SIZES: [usize; 4] = [2, 16, 256, 1024];

fn thread_pair<L: Link>(group: &mut Group, function: &str, placements: &[Placement]) {
    for &placement in placements {
        group.placed_partner(function, placement, |plan| ThreadRing::<L>::spawn(2, plan));
    }
}

fn context_switch(c: &mut Criterion) {
    let mut group = Group::new(c, "context_switch");
    thread_pair::<Pipe>(&mut group, "thread_pipe", &[SameCore, CrossCore, Unpinned]);
    for placement in [SameCore, CrossCore] {
        group.placed_partner("process_pipe", placement, ProcessPingPong::spawn);
    }
    thread_pair::<Futex>(&mut group, "thread_futex", &[SameCore, CrossCore]);
    thread_pair::<Condvar>(&mut group, "thread_condvar", &[SameCore, CrossCore]);
    thread_pair::<Channel>(&mut group, "thread_channel", &[SameCore, CrossCore]);
    match SameCore.plan() {
        Ok(plan) => {
            for n in RING_SIZES {
                // Each member holds a pipe (two descriptors) and all but one are threads.
                let room = limits::room_for_threads(n as u64)
                    .and_then(|()| FdLimit::raise_for(2 * n as u64));
                match room {
                    Ok(_fds) => group.partner("thread_ring", &n.to_string(), || {
                        ThreadRing::<Pipe>::spawn(n, &plan)
                    }),
                    Err(why) => group.skip("thread_ring", &n.to_string(), &why),
                }
            }
        }
        Err(why) => RING_SIZES
            .iter()
            .for_each(|n| group.skip("thread_ring", &n.to_string(), &why)),
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = harness::criterion();
    targets = context_switch
}
criterion_main!(benches);
