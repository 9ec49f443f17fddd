//! A stand-in bench executable for the count lane's end-to-end tests: the suite's own harness,
//! with work per iteration set from outside. Not part of `cargo bench`.
//!
//! - `fixture/syscalls`: one iteration = `COUNT_FIXTURE_SYSCALLS` `getppid(2)` calls (default 1).
//! - `fixture/steps`: one iteration = `COUNT_FIXTURE_STEPS` additions the optimiser cannot
//!   fold (default 1,000).

use concurrency_costs::harness::{self, Group};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn setting(variable: &str, default: u64) -> u64 {
    std::env::var(variable)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn fixture(c: &mut Criterion) {
    let syscalls = setting("COUNT_FIXTURE_SYSCALLS", 1);
    let steps = setting("COUNT_FIXTURE_STEPS", 1000);
    let mut group = Group::new(c, "fixture");
    group.bench("syscalls", "", |b| {
        b.iter(|| {
            for _ in 0..syscalls {
                // SAFETY: getppid takes no arguments and cannot fail.
                black_box(unsafe { libc::syscall(libc::SYS_getppid) });
            }
        })
    });
    group.bench("steps", "", |b| {
        b.iter(|| (0..steps).fold(0u64, |sum, i| black_box(sum.wrapping_add(i))))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = harness::criterion();
    targets = fixture
}
criterion_main!(benches);
