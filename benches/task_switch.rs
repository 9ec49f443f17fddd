//! The cost of switching between lightweight tasks, per runtime flavour (claims C10: a
//! green-thread switch costs ~100–200 ns; C11: an async task switch ~100 ns). Compare
//! `context_switch/*` for the OS thread switch and `coroutine_switch/*` for the floor.
//!
//! The runtime is built once and kept; every measured loop runs inside it as a task, after
//! its setup (spawning the partner tasks, one untimed lap) and timed from there.
//! - `task_switch/yield/<runtime>`: two runnable tasks each yielding in a loop; one iteration
//!   = one yield: the task returns to the scheduler, which polls the next runnable one. On a
//!   single-threaded runtime the two take turns (a test checks it); tokio wakes yielded tasks
//!   last-in first-out and so runs them in pairs (0 1 1 0), re-polling the same task on half
//!   its yields. On a multi-threaded runtime the two may sit on different workers, and a
//!   yield is then a trip through the scheduler back to the same task. The time is the
//!   process's CPU time, not wall time, so that two tasks yielding in parallel on two workers
//!   are not counted at half price (on one thread the two are equal). monoio is skipped
//!   with its reason: it re-runs a task that woke itself before any other, so a yield there
//!   never switches tasks.
//! - `task_switch/ping_pong/<runtime>`: two tasks passing a token through bounded channels
//!   (async-channel; may's own channel for may); one iteration = one one-way hop, so a round
//!   trip is two. Afterwards the share of hops that crossed OS threads is printed: tokio and
//!   smol cannot pin a task to a worker, so this is the placement they chose.
//! - `task_switch/ring/<runtime>/<N>` for N = 2, 256, 10000: the token around a ring of N
//!   tasks, per hop: does a switch grow with the number of tasks alive? (N = 2 is the
//!   ping-pong again, as a control that the ring itself adds nothing.) Each hop carries the
//!   sender's thread tag and the receiver compares it with its own, for the crossing count:
//!   a thread-local read and a compare, about a nanosecond inside the timed hop.
//!
//! Run with: `cargo bench --bench task_switch`

use concurrency_costs::harness::{self, Group};
use concurrency_costs::tasks::TaskScheduler;
use criterion::{Criterion, criterion_group, criterion_main};

/// Ring sizes: a pair, a busy server's worth of tasks, and ten thousand connections' worth.
const RING_SIZES: [usize; 3] = [2, 256, 10_000];

/// Which task ran each turn of 50 yields each, and how often that changed: on a single
/// thread every yield that switches tasks changes it; on two workers both may run at once.
fn running_task_changes(scheduler: &mut dyn TaskScheduler) -> String {
    let order = scheduler.yield_order(50);
    let changes = order.windows(2).filter(|w| w[0] != w[1]).count();
    format!(
        "in {} turns of two yielding tasks, the running task changed {changes} times",
        order.len()
    )
}

fn task_switch(c: &mut Criterion) {
    let mut group = Group::new(c, "task_switch");
    group.per_flavour_verified(
        |runtime| ("yield".to_string(), runtime.to_string()),
        |scheduler| scheduler.yield_switches_tasks(),
        |b, scheduler| b.iter_custom(|n| scheduler.yield_switches(n)),
        |scheduler| Some(running_task_changes(scheduler)),
    );
    group.task_ring("ping_pong", 2, false);
    for members in RING_SIZES {
        group.task_ring("ring", members, true);
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = harness::criterion();
    targets = task_switch
}
criterion_main!(benches);
