//! The cost of creating an OS thread (claim C02: "tens of microseconds, not hundreds", much
//! cheaper than fork), and whether the stack size changes it (C04: 8 MiB virtual stacks).
//!
//! - `spawn_join/<stack>`: one iteration = `std::thread::Builder` with that stack size,
//!   `spawn` of an empty closure, and `join`: the thread's whole life, timed from the parent.
//!   glibc caches the stacks of joined threads, so repeated spawns reuse a mapping, as a
//!   real server that keeps creating threads would.
//! - `first_instruction/2MiB`: one iteration = from just before `spawn` until the new
//!   thread's closure reads the clock: how soon a new thread can start working. The join
//!   after it is outside the timed region.
//!
//! Run with: `cargo bench --bench thread_spawn`

use concurrency_costs::harness::{self, Group};
use criterion::{Criterion, criterion_group, criterion_main};
use std::thread::Builder;
use std::time::{Duration, Instant};

/// Stack sizes: a small explicit stack, Rust's default (2 MiB), and glibc's default (8 MiB).
const STACKS: [(&str, usize); 3] = [("64KiB", 64 << 10), ("2MiB", 2 << 20), ("8MiB", 8 << 20)];

fn thread_spawn(c: &mut Criterion) {
    let mut group = Group::new(c, "thread_spawn");
    for (size, bytes) in STACKS {
        group.bench("spawn_join", size, |b| {
            b.iter(|| {
                Builder::new()
                    .stack_size(bytes)
                    .spawn(|| ())
                    .expect("spawn failed")
                    .join()
                    .expect("the thread panicked")
            })
        });
    }
    group.bench("first_instruction", "2MiB", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| time_to_first_instruction(2 << 20)).sum())
    });
    group.finish();
}

fn time_to_first_instruction(stack: usize) -> Duration {
    let before = Instant::now();
    let started = Builder::new()
        .stack_size(stack)
        .spawn(Instant::now)
        .expect("spawn failed")
        .join()
        .expect("the thread panicked");
    started - before
}

criterion_group! {
    name = benches;
    config = harness::criterion();
    targets = thread_spawn
}
criterion_main!(benches);
