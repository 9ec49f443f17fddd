//! Every claim of the documents, with the documents' figure, the range read from it, and the
//! figures measured here that test it.

use super::Unit::{Bytes, Nanoseconds, Number, PercentOfCore};
use super::figures::*;
use super::{Claim, Figure, Range};
use crate::c10k::Model;

/// Every claim of `CLAIMS.md` and the figures that test it.
pub fn claims() -> Vec<Claim> {
    vec![
        Claim {
            id: "C01",
            claim: "fork() is expensive and grows with the parent's memory",
            docs: "hundreds of µs per fork",
            figures: benches(
                &[
                    ("fork+exit+wait, 1 MiB parent", "fork/fork_exit_wait/1MiB"),
                    ("fork+exit+wait, 64 MiB parent", "fork/fork_exit_wait/64MiB"),
                    ("fork+exit+wait, 1 GiB parent", "fork/fork_exit_wait/1GiB"),
                    ("fork+exec+wait, 1 MiB parent", "fork/fork_exec_wait/1MiB"),
                ],
                Range::between(100.0 * US, 1000.0 * US),
            ),
            beyond_this_machine: None,
        },
        Claim {
            id: "C02",
            claim: "creating a thread is much cheaper than forking",
            docs: "tens of µs, not hundreds",
            figures: benches(
                &[
                    ("spawn+join, 2 MiB stack", "thread_spawn/spawn_join/2MiB"),
                    ("spawn+join, 64 KiB stack", "thread_spawn/spawn_join/64KiB"),
                    (
                        "spawn to first instruction",
                        "thread_spawn/first_instruction/2MiB",
                    ),
                ],
                Range::between(10.0 * US, 100.0 * US),
            ),
            beyond_this_machine: None,
        },
        Claim {
            id: "C03",
            claim: "an OS thread context switch",
            docs: "1–10 µs (~5 µs)",
            figures: benches(
                &[
                    (
                        "thread switch, pipe, same core",
                        "context_switch/thread_pipe/same_core",
                    ),
                    (
                        "thread switch, pipe, cross core",
                        "context_switch/thread_pipe/cross_core",
                    ),
                    (
                        "thread switch, pipe, unpinned",
                        "context_switch/thread_pipe/unpinned",
                    ),
                    (
                        "thread switch, futex, same core",
                        "context_switch/thread_futex/same_core",
                    ),
                    (
                        "process switch, pipe, same core",
                        "context_switch/process_pipe/same_core",
                    ),
                ],
                Range::between(1.0 * US, 10.0 * US),
            ),
            beyond_this_machine: None,
        },
        Claim {
            id: "C04",
            claim: "a thread's stack: 8 MiB virtual, ~64 KiB resident",
            docs: "8 MiB virtual / ~64 KiB RSS",
            figures: vec![
                footprint(
                    "virtual per parked thread, 8 MiB stack",
                    "thread_8mib_stack",
                    true,
                    Range::about(8.0 * MIB),
                ),
                footprint(
                    "RSS per parked thread, 8 MiB stack",
                    "thread_8mib_stack",
                    false,
                    Range::about(64.0 * KIB),
                ),
                footprint(
                    "RSS per parked thread, 2 MiB stack",
                    "thread_2mib_stack",
                    false,
                    Range::about(64.0 * KIB),
                ),
            ],
            beyond_this_machine: None,
        },
        Claim {
            id: "C05",
            claim: "epoll_wait costs O(ready fds), select/poll O(registered fds)",
            docs: "flat vs linear in N",
            figures: vec![
                growth("epoll_wait", "epoll", 10_000, Range::about(1.0)),
                growth("poll", "poll", 10_000, Range::at_least(100.0)),
                growth("select", "select", 1_000, Range::at_least(10.0)),
            ],
            beyond_this_machine: Some(
                "select cannot watch fds above 1,023 (FD_SETSIZE), so it stops at 1,000",
            ),
        },
        Claim {
            id: "C06",
            claim: "prefork workers on one listener: one wake-up per new connection",
            docs: "1 wake-up per connection",
            figures: vec![
                herd("32 workers blocked in accept", "herd/accept/32"),
                herd(
                    "32 workers in epoll, EPOLLEXCLUSIVE",
                    "herd/epoll_exclusive/32",
                ),
                herd("32 workers in epoll, no EPOLLEXCLUSIVE", "herd/epoll/32"),
            ],
            beyond_this_machine: None,
        },
        Claim {
            id: "C07",
            claim: "50,000 thread switches per second at 10 µs cost half a core",
            docs: "50% of a core",
            figures: vec![Figure {
                label: "50,000 switches/s × measured switch".into(),
                source: "50,000 × context_switch/thread_pipe/same_core".into(),
                unit: PercentOfCore,
                range: Range::about(50.0),
                command: BENCH,
                measure: Box::new(|r| {
                    Some(50_000.0 * r.mean("context_switch/thread_pipe/same_core")? / 1e9 * 100.0)
                }),
            }],
            beyond_this_machine: None,
        },
        Claim {
            id: "C10",
            claim: "a goroutine / green-thread switch (no kernel, no TLB flush)",
            docs: "100–200 ns",
            figures: benches(
                &[
                    ("may coroutine switch", "coroutine_switch/may"),
                    ("may yield, 2 workers", "task_switch/yield/may_2w"),
                    (
                        "bare stackful switch (corosensei)",
                        "coroutine_switch/corosensei",
                    ),
                ],
                Range::between(100.0, 200.0),
            ),
            beyond_this_machine: None,
        },
        Claim {
            id: "C11",
            claim: "an async task switch; a callback dispatch",
            docs: "~100 ns / ~50 ns",
            figures: benches(
                &[
                    (
                        "task switch (yield), tokio current_thread",
                        "task_switch/yield/tokio_current_thread",
                    ),
                    (
                        "task switch (yield), tokio multi_thread",
                        "task_switch/yield/tokio_multi_thread_2w",
                    ),
                    (
                        "task switch (yield), async-std",
                        "task_switch/yield/async_std_2w",
                    ),
                    ("task switch (yield), smol", "task_switch/yield/smol_2w"),
                    (
                        "task switch (yield), smol local",
                        "task_switch/yield/smol_local",
                    ),
                    (
                        "task wake-and-switch, tokio current_thread",
                        "task_switch/ping_pong/tokio_current_thread",
                    ),
                    (
                        "task wake-and-switch, monoio",
                        "task_switch/ping_pong/monoio",
                    ),
                ],
                Range::about(100.0),
            )
            .into_iter()
            .chain(benches(
                &[(
                    "callback dispatch (indirect call)",
                    "coroutine_switch/function_call",
                )],
                Range::about(50.0),
            ))
            .collect(),
            beyond_this_machine: None,
        },
        Claim {
            id: "C12",
            claim: "a lightweight task or coroutine needs about 2 KiB",
            docs: "~2 KiB (goroutine 2–8 KiB)",
            figures: [
                "tokio_current_thread",
                "tokio_multi_thread_2w",
                "async_std_2w",
                "smol_2w",
                "monoio",
                "may_2w",
            ]
            .into_iter()
            .map(|unit| {
                footprint(
                    &format!("RSS per parked task, {unit}"),
                    unit,
                    false,
                    Range::between(1.0 * KIB, 8.0 * KIB),
                )
            })
            .collect(),
            beyond_this_machine: None,
        },
        Claim {
            id: "C13",
            claim: "async at 10,000 connections: far less memory and CPU than thread-per-connection",
            docs: "500× less memory / 100× less CPU",
            figures: vec![
                Figure {
                    label: "peak RSS, thread_per_connection ÷ tokio_multi_thread".into(),
                    source: format!("costs c10k {IO_10K}: peak RSS ratio"),
                    unit: Number,
                    range: Range::about(500.0),
                    command: C10K_IO,
                    measure: Box::new(|r| {
                        threads_over_async(r, Model::TokioMultiThread, |m| {
                            m.server_peak_rss_bytes as f64
                        })
                    }),
                },
                Figure {
                    label: "server CPU, thread_per_connection ÷ tokio_multi_thread".into(),
                    source: format!("costs c10k {IO_10K}: server CPU seconds ratio"),
                    unit: Number,
                    range: Range::about(100.0),
                    command: C10K_IO,
                    measure: Box::new(|r| {
                        threads_over_async(r, Model::TokioMultiThread, |m| m.server_cpu_s)
                    }),
                },
                Figure {
                    label: "RSS per unit, parked thread ÷ parked tokio task".into(),
                    source: "costs footprint: thread_2mib_stack ÷ tokio_multi_thread_2w".into(),
                    unit: Number,
                    range: Range::about(500.0),
                    command: FOOTPRINT,
                    measure: Box::new(|r| {
                        Some(
                            r.footprint_of("thread_2mib_stack")?.rss_per_unit
                                / r.footprint_of("tokio_multi_thread_2w")?.rss_per_unit,
                        )
                    }),
                },
            ],
            beyond_this_machine: None,
        },
        Claim {
            id: "C14",
            claim: "memory per connection of an event loop",
            docs: "~10 KiB per connection; Node ~2 KiB",
            figures: [
                Model::TokioCurrentThread,
                Model::TokioMultiThread,
                Model::Smol,
                Model::Monoio,
            ]
            .into_iter()
            .map(|m| {
                c10k(
                    &format!("server peak RSS ÷ connections, {}", m.id()),
                    IO_10K,
                    m,
                    "peak RSS ÷ connections held",
                    Bytes,
                    Range::between(1.0 * KIB, 20.0 * KIB),
                    rss_per_connection,
                )
            })
            .collect(),
            beyond_this_machine: None,
        },
        Claim {
            id: "C20",
            claim: "synchronous work on the loop stalls every other connection for its whole length",
            docs: "stall = block length",
            figures: blocked_loop_figures(
                &[
                    "tokio_current_thread",
                    "smol_local",
                    "futures_local",
                    "tokio_multi_thread_2w",
                    "smol_2w",
                ],
                ("worst probe stall", "max"),
                Range::about(10.0 * MS),
                |s| s.max_ns,
            ),
            beyond_this_machine: None,
        },
        Claim {
            id: "C21",
            claim: "event-loop lag above 50 ms is an alert",
            docs: "50 ms",
            figures: blocked_loop_figures(
                &[
                    "tokio_current_thread",
                    "smol_local",
                    "tokio_multi_thread_2w",
                ],
                ("p99 lag (under the alert?)", "p99"),
                Range::at_most(50.0 * MS),
                |s| s.p99_ns,
            ),
            beyond_this_machine: None,
        },
        Claim {
            id: "C22",
            claim: "CPU-bound work must be offloaded; offloading restores latency",
            docs: "p50 120 → 28–35 ms",
            figures: vec![
                c10k(
                    "p50, hashes inline on one loop",
                    CPU_INLINE,
                    Model::TokioCurrentThread,
                    "p50",
                    Nanoseconds,
                    Range::about(120.0 * MS),
                    p50,
                ),
                c10k(
                    "p50, hashes offloaded (spawn_blocking)",
                    CPU_POOL,
                    Model::TokioMultiThread,
                    "p50",
                    Nanoseconds,
                    Range::between(28.0 * MS, 35.0 * MS),
                    p50,
                ),
            ],
            beyond_this_machine: None,
        },
        Claim {
            id: "C23",
            claim: "a bounded pool whose threads all block makes the next job wait; pool size caps in-flight work",
            docs: "pool of N → N in flight",
            figures: vec![
                bench(
                    "next job's wait, shared pool all blocked 5 ms",
                    "offload/starvation/shared_pool",
                    Nanoseconds,
                    Range::about(5.0 * MS),
                ),
                c10k(
                    "requests in flight, thread_pool of 200",
                    IO_10K,
                    Model::ThreadPool,
                    "throughput × 10 ms (Little's law)",
                    Number,
                    Range::between(100.0, 200.0),
                    |m| in_flight(m, 0.010),
                ),
            ],
            beyond_this_machine: None,
        },
        Claim {
            id: "C30",
            claim: "10,000 clients, 10 ms simulated I/O each",
            docs: "threads 14/95 ms, 10 GB+; asyncio 11/18 ms, 25 MB; goroutines 11/15 ms, 22 MB; Node 11/17 ms, 80 MB",
            figures: [
                percentiles("threads", IO_10K, Model::ThreadPerConnection, (14.0, 95.0)),
                vec![c10k(
                    "threads: server memory",
                    IO_10K,
                    Model::ThreadPerConnection,
                    "peak RSS",
                    Bytes,
                    Range::at_least(10e9),
                    rss,
                )],
                percentiles(
                    "one event loop (asyncio's peer)",
                    IO_10K,
                    Model::TokioCurrentThread,
                    (11.0, 18.0),
                ),
                vec![c10k(
                    "one event loop (asyncio's peer): memory",
                    IO_10K,
                    Model::TokioCurrentThread,
                    "peak RSS",
                    Bytes,
                    Range::about(25e6),
                    rss,
                )],
                percentiles(
                    "coroutines (goroutines' peer)",
                    IO_10K,
                    Model::May,
                    (11.0, 15.0),
                ),
                vec![c10k(
                    "coroutines (goroutines' peer): memory",
                    IO_10K,
                    Model::May,
                    "peak RSS",
                    Bytes,
                    Range::about(22e6),
                    rss,
                )],
            ]
            .into_iter()
            .flatten()
            .collect(),
            beyond_this_machine: Some(
                "Node's row has no peer here beyond the one-loop row (asyncio's)",
            ),
        },
        Claim {
            id: "C31",
            claim: "10,000 CPU-bound (hash) requests",
            docs: "one loop 120/200 ms; process pool 35/55 ms; goroutines 28/45 ms; worker threads 32/50 ms (4 cores)",
            figures: [
                percentiles(
                    "one loop, inline",
                    CPU_INLINE,
                    Model::TokioCurrentThread,
                    (120.0, 200.0),
                ),
                percentiles(
                    "process pool (prefork)",
                    CPU_INLINE,
                    Model::Prefork,
                    (35.0, 55.0),
                ),
                percentiles("coroutines (may)", CPU_INLINE, Model::May, (28.0, 45.0)),
                percentiles(
                    "worker threads (spawn_blocking)",
                    CPU_POOL,
                    Model::TokioMultiThread,
                    (32.0, 50.0),
                ),
            ]
            .into_iter()
            .flatten()
            .collect(),
            beyond_this_machine: Some(
                "the documents used 4 cores; this machine has 2, so parallel rows cannot halve as theirs did",
            ),
        },
        Claim {
            id: "C32",
            claim: "5,000 connections, 50 ms query each",
            docs: "threads ~500 MB; prefork of 100 caps at 100 in flight; event loop ~50 MB; goroutines ~100 MB",
            figures: vec![
                c10k(
                    "threads: server memory",
                    IO_5K_50MS,
                    Model::ThreadPerConnection,
                    "peak RSS",
                    Bytes,
                    Range::about(500e6),
                    rss,
                ),
                c10k(
                    "prefork of 100: requests in flight",
                    IO_5K_50MS,
                    Model::Prefork,
                    "throughput × 50 ms (Little's law)",
                    Number,
                    Range::between(50.0, 100.0),
                    |m| in_flight(m, 0.050),
                ),
                c10k(
                    "event loop: server memory",
                    IO_5K_50MS,
                    Model::TokioCurrentThread,
                    "peak RSS",
                    Bytes,
                    Range::about(50e6),
                    rss,
                ),
                c10k(
                    "coroutines (may): server memory",
                    IO_5K_50MS,
                    Model::May,
                    "peak RSS",
                    Bytes,
                    Range::about(100e6),
                    rss,
                ),
            ],
            beyond_this_machine: Some(
                "process-per-request (~5 GB, falls over) is not a model here; fork's cost is C01",
            ),
        },
        Claim {
            id: "C33",
            claim: "one event-loop thread serves 10K+ connections; async 100,000+ on one core",
            docs: "10K / 100K",
            figures: vec![c10k(
                "connections one loop held and served",
                IO_10K,
                Model::TokioCurrentThread,
                "connections held with every request answered",
                Number,
                Range::at_least(10_000.0),
                all_served,
            )],
            beyond_this_machine: Some(
                "100,000 connections need 100,000 fds per process; the hard limit here is 20,000",
            ),
        },
    ]
}
