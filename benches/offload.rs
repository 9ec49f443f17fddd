//! Getting CPU-bound or blocking work off an event loop (claims C22: offloading restores
//! latency; C23: a bounded pool whose threads all block makes the next request wait).
//!
//! - `offload/roundtrip/<mechanism>`: one iteration = hand a trivial closure from async code
//!   to a pool and await its result. Mechanisms: each runtime's own pool for blocking work,
//!   called from that runtime (one per flavour that names its pool: `tokio_spawn_blocking`,
//!   `async_std_spawn_blocking`, `smol_unblock`); `tokio_block_in_place` (the call, which
//!   hands the worker's core to another thread, then a yield that returns the task to a
//!   worker with a core: without it only the first call of a task hands off); `rayon_spawn`
//!   (result back through a channel), `crossbeam_pool` (2 fixed threads fed by a channel),
//!   `std_thread_per_job` (spawn, run, join); control: `inline`. Those tied to no runtime are
//!   called from tokio's multi_thread runtime. Every runtime is built once.
//! - `offload/hash/<strategy>`: one iteration = one CPU-bound job, SHA-256 of 64 KiB, issued
//!   64 at a time from a tokio current_thread loop and run inline on it, or offloaded to
//!   tokio's blocking pool, rayon, or a fixed pool of 2 threads; or spread over a 2-worker
//!   multi_thread runtime. Throughput is jobs/s; per-job latency (issue to result back on
//!   the loop) goes into an HDR histogram, printed and written to `target/costs/offload.json`.
//!   This machine has 2 CPUs, so no strategy can be more than about twice as fast as inline.
//! - `offload/starvation/{shared_pool,separate_pool}`: a pool of 2 threads whose 2 jobs block
//!   for 5 ms; one iteration = how long the next (quick) job waits to start. With the
//!   blocking jobs sent to a separate pool, it need not wait. Waiting for the blocking jobs
//!   to end is outside the timed part.
//!
//! Run with: `cargo bench --bench offload`

use concurrency_costs::harness::{self, Group};
use concurrency_costs::offload::{
    HASH_STRATEGIES, HashJobs, Mechanism, Offloader, Starvation, mechanisms,
};
use concurrency_costs::probe::{OFFLOAD, new_histogram};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

fn offload(c: &mut Criterion) {
    let mut group = Group::new(c, "offload");
    let mut offloader = None;
    for (name, mechanism) in mechanisms() {
        // A runtime's pool needs its runtime, started here (untimed) or skipped with why.
        if let Mechanism::RuntimePool(_) = mechanism
            && let Err(why) = offloader
                .get_or_insert_with(Offloader::new)
                .prepare(mechanism)
        {
            group.skip("roundtrip", name, &why);
            continue;
        }
        group.bench_with_state("roundtrip", name, &mut offloader, Offloader::new, |b, o| {
            b.iter_custom(|n| o.round_trips(mechanism, n))
        });
    }
    drop(offloader);

    group.criterion_group().throughput(Throughput::Elements(1));
    let mut hasher = None;
    for (name, strategy) in HASH_STRATEGIES {
        let mut histogram = new_histogram();
        group.bench_with_state("hash", name, &mut hasher, HashJobs::new, |b, h| {
            b.iter_custom(|jobs| {
                let (elapsed, latencies) = h.run(strategy, jobs);
                for latency in latencies {
                    let _ = histogram.record(latency.as_nanos().max(1) as u64);
                }
                elapsed
            })
        });
        group.report_latencies(&OFFLOAD, "hash", name, &histogram, 0);
    }
    drop(hasher);

    let criterion_group = group.criterion_group();
    criterion_group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10);
    criterion_group.throughput(Throughput::Elements(1));
    for (name, separate) in [("shared_pool", false), ("separate_pool", true)] {
        let mut scenario = None;
        group.bench_with_state(
            "starvation",
            name,
            &mut scenario,
            || Starvation::new(separate),
            |b, s| b.iter_custom(|n| (0..n).map(|_| s.wait_of_next_job()).sum()),
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = harness::criterion();
    targets = offload
}
criterion_main!(benches);
