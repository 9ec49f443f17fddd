//! The thundering herd (claim C06: with prefork workers sharing one listener, the kernel
//! wakes only one worker per new connection).
//!
//! `herd/<waiting>/<workers>`: that many worker threads wait on one loopback listener, in
//! `accept` itself, or each in an epoll instance of its own watching the listener, with
//! `EPOLLEXCLUSIVE` (`epoll_exclusive`) or without (`epoll`). Workers are started once, before
//! the first iteration. One iteration = one connection, opened once every worker sleeps,
//! timed from `connect` until a worker has accepted it. The wake-ups it caused are counted
//! (each woken worker sleeps again once: one voluntary context switch, counted per thread by
//! the kernel) and printed per connection after each benchmark: 1 is the documents' figure;
//! N, every worker, is a herd. A measuring run keeps them in `target/costs/herd.json`.
//!
//! Run with: `cargo bench --bench herd`

use concurrency_costs::harness::{self, Group};
use concurrency_costs::herd::{HERD, Herd, HerdSummary, Waiting};
use concurrency_costs::results;
use criterion::{Criterion, criterion_group, criterion_main};

/// A pool the size of a small prefork server, and one four times larger: a herd grows with
/// the workers, one wake-up does not.
const WORKERS: [usize; 2] = [8, 32];

fn herd(c: &mut Criterion) {
    let mut group = Group::new(c, "herd");
    for (function, waiting) in Waiting::ALL {
        for workers in WORKERS {
            let parameter = workers.to_string();
            let mut herd = None;
            group.bench_with_state(
                function,
                &parameter,
                &mut herd,
                || Herd::start(waiting, workers).expect("the workers start"),
                |b, herd| b.iter_custom(|n| herd.connect(n).expect("every connection accepted")),
            );
            let Some(herd) = herd else { continue };
            let id = group.id(function, &parameter);
            group.mark(function, &parameter, "stopping the workers");
            let report = herd.finish().expect("the workers stop");
            eprintln!(
                "{id}: {:.2} wake-ups per connection ({} connections, {} accepted, {} workers)",
                report.wakeups_per_connection(),
                report.connections,
                report.accepted,
                report.workers
            );
            if harness::measuring(std::env::args())
                && let Err(e) = HERD.keep(&results::dir(), &id, HerdSummary::measured(&report))
            {
                eprintln!("{id}: cannot record the wake-ups: {e}");
            }
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = harness::criterion();
    targets = herd
}
criterion_main!(benches);
