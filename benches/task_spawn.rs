//! The cost of creating a lightweight task, per runtime flavour (claims C11, C12, C13: tasks
//! are cheap enough to have one per connection, where OS threads are not — compare
//! `thread_spawn/spawn_join/*`).
//!
//! The runtime is built once and kept across all iterations; every measured loop runs inside
//! it as a task (on a worker thread for multi-threaded flavours), timed from there.
//! - `task_spawn/<runtime>`: one iteration = spawn one empty task from inside the runtime and
//!   await its completion. Includes allocating the task, scheduling it, running it to
//!   completion and waking the awaiting task: the full round of a short-lived task.
//! - `task_spawn_batch/<runtime>/1000`: 1000 tasks spawned back to back, then all awaited;
//!   one iteration = one task. Spawning in bulk lets multi-threaded runtimes run tasks in
//!   parallel with the spawning and amortises the wake-ups.
//!
//! Runtimes: tokio (current_thread; multi_thread with 2 workers), async-std (2 workers), smol
//! (2 workers; LocalExecutor), futures' LocalPool, may's stackful coroutines (2 workers), and
//! monoio (io_uring, one thread; skipped with the reason where io_uring is unavailable).
//!
//! Run with: `cargo bench --bench task_spawn`

use concurrency_costs::harness::{self, Group};
use criterion::{Criterion, criterion_group, criterion_main};

/// Tasks per batch: enough to amortise the await, few enough to stay in cache.
const BATCH: usize = 1000;

fn task_spawn(c: &mut Criterion) {
    let mut group = Group::new(c, "task_spawn");
    group.per_flavour(
        |runtime| (runtime.to_string(), String::new()),
        |_| Ok(()),
        |b, scheduler| b.iter_custom(|n| scheduler.spawn_await(n).elapsed),
    );
    group.finish();

    let mut group = Group::new(c, "task_spawn_batch");
    group.in_steps_of(BATCH as u64).per_flavour(
        |runtime| (runtime.to_string(), BATCH.to_string()),
        |_| Ok(()),
        |b, scheduler| b.iter_custom(|n| scheduler.spawn_batch(BATCH, n).elapsed),
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = harness::criterion();
    targets = task_spawn
}
criterion_main!(benches);
