//! The floor of a green-thread switch (claim C10: ~100–200 ns per goroutine switch, "no
//! kernel, no TLB flush"), with a function call beneath it as the control.
//!
//! - `coroutine_switch/function_call`: one iteration = one call through `black_box` that the
//!   compiler cannot inline: the cost of doing anything at all.
//! - `coroutine_switch/corosensei`: one iteration = one switch of stacks, half a resume +
//!   suspend round trip of a corosensei coroutine (registers saved, stack pointer swapped,
//!   nothing scheduled). The coroutine is created once, outside the timed region.
//! - `coroutine_switch/may`: one iteration = one hop of a token between two may coroutines
//!   (2 workers) through may's channel: a stackful switch with a real scheduler and wake-up
//!   behind it. Measured by the same code as `task_switch/ping_pong/may_2w`, shown here beside
//!   the raw switch.
//!
//! Run with: `cargo bench --bench coroutine_switch`

use concurrency_costs::coroutine::Bouncer;
use concurrency_costs::harness::{self, Group};
use concurrency_costs::tasks::{MaySchedulers, TaskScheduler};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

#[inline(never)]
fn do_nothing(x: u64) -> u64 {
    black_box(x)
}

fn coroutine_switch(c: &mut Criterion) {
    let mut group = Group::new(c, "coroutine_switch");
    group.bench("function_call", "", |b| b.iter(|| do_nothing(black_box(1))));
    let mut bouncer = None;
    group.bench_with_state(
        "corosensei",
        "",
        &mut bouncer,
        Bouncer::new,
        |b, bouncer| b.iter_custom(|switches| bouncer.time_switches(switches)),
    );
    let mut may = MaySchedulers::start();
    group.bench("may", "", |b| {
        b.iter_custom(|hops| may.ring(2, hops).elapsed)
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = harness::criterion();
    targets = coroutine_switch
}
criterion_main!(benches);
