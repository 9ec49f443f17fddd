//! Readiness notification against the number of registered descriptors (claim C05:
//! `epoll_wait` costs O(ready fds), not O(registered fds), which is its advantage over
//! `select` and `poll`).
//!
//! N eventfds are registered (level-triggered) and exactly one is ready; the set is built
//! once per N, outside the timed region, and every call uses a zero timeout, so nothing
//! blocks. One iteration = one call:
//! - `epoll_wait/epoll/<N>`: `epoll_wait` on an epoll instance holding all N.
//! - `epoll_wait/poll/<N>`: `poll` over an array of N `pollfd`s (the kernel scans them all).
//! - `epoll_wait/select/<N>`: `select` over a set of N, including the copy of the set that
//!   every `select` call needs; skipped above `FD_SETSIZE` (1024), with the reason.
//! - `epoll_wait/epoll_all_ready/<N>`: `epoll_wait` with all N ready and room to report them:
//!   the O(ready) side of the claim.
//!
//! The soft open-file limit is raised for the largest sets and restored afterwards; a size
//! that does not fit under the hard limit is skipped with the reason.
//!
//! Run with: `cargo bench --bench epoll_wait`

use concurrency_costs::harness::{self, Group};
use concurrency_costs::limits::FdLimit;
use concurrency_costs::readiness::{ReadySet, select_can_hold};
use criterion::{Criterion, criterion_group, criterion_main};

/// Registered descriptors: one, a handful, a small server, a busy one, C10K.
const SIZES: [usize; 5] = [1, 10, 100, 1000, 10_000];

fn epoll_wait(c: &mut Criterion) {
    let mut group = Group::new(c, "epoll_wait");
    for n in SIZES {
        let size = n.to_string();
        let _limit = match FdLimit::raise_for(n as u64) {
            Ok(limit) => limit,
            Err(why) => {
                for function in ["epoll", "poll", "select", "epoll_all_ready"] {
                    group.skip(function, &size, &why);
                }
                continue;
            }
        };
        let mut one_ready = None;
        let build = || ReadySet::new(n, 1).expect("cannot build the descriptor set");
        group.bench_with_state("epoll", &size, &mut one_ready, build, |b, set| {
            b.iter(|| set.epoll_wait().expect("epoll_wait failed"))
        });
        group.bench_with_state("poll", &size, &mut one_ready, build, |b, set| {
            b.iter(|| set.poll().expect("poll failed"))
        });
        // Decided without building the set where its size alone rules select out, so that a
        // run filtered to other benchmarks does not open 10,000 descriptors for nothing.
        let select =
            select_can_hold(n).and_then(|()| one_ready.get_or_insert_with(build).select_set());
        match select {
            Ok(select) => group.bench("select", &size, |b| {
                b.iter(|| select.select().expect("select failed"))
            }),
            Err(why) => group.skip("select", &size, &why),
        }
        drop(one_ready);
        let mut all_ready = None;
        let build_all = || ReadySet::new(n, n).expect("cannot build the descriptor set");
        group.bench_with_state(
            "epoll_all_ready",
            &size,
            &mut all_ready,
            build_all,
            |b, set| b.iter(|| set.epoll_wait().expect("epoll_wait failed")),
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = harness::criterion();
    targets = epoll_wait
}
criterion_main!(benches);
