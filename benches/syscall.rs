//! The control under every kernel-level cost: entering and leaving the kernel once.
//!
//! One iteration = one `getppid(2)`, issued through `syscall(SYS_getppid)` so that no libc
//! cache can answer it. There is no setup to exclude. No claim by itself: it is the floor
//! that fork (C01), thread spawn (C02) and the context switch (C03) stand on.
//!
//! Run with: `cargo bench --bench syscall`

use concurrency_costs::harness::{self, Group};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn syscall(c: &mut Criterion) {
    let mut group = Group::new(c, "syscall");
    // SAFETY: getppid takes no arguments and cannot fail.
    group.bench("getppid", "", |b| {
        b.iter(|| black_box(unsafe { libc::syscall(libc::SYS_getppid) }))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = harness::criterion();
    targets = syscall
}
criterion_main!(benches);
