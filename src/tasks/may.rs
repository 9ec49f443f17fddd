//! The task scenarios written for may's coroutines, which block where an async task awaits:
//! the same scenarios as [`super::Async`] runs, in may's terms.

use super::{Arrivals, RingRun, SpawnRun, TaskScheduler, thread_tag, trivial_job};
use crate::batch::scaled;
use crate::footprint::{Memory, ParkedSample};
use crate::loaded_loop::{LoadedLoop, load_may};
use crate::probe::Latencies;
use crate::runtime::may::on_rayon_from_may;
use crate::rusage::process_cpu_time;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// may's stackful coroutines on [`crate::runtime::WORKERS`] worker threads: the goroutine
/// model in Rust.
pub struct MaySchedulers(());

impl MaySchedulers {
    pub fn start() -> Self {
        crate::runtime::may::configure();
        MaySchedulers(())
    }
}

/// Runs `f` in a may coroutine and waits for its result.
///
/// `may::go!` is `unsafe` underneath for two reasons, both kept here: a coroutine must not
/// use thread-local storage across a point where it may move to another OS thread (every
/// coroutine of this file touches thread-locals only through out-of-line calls that compute
/// their addresses afresh: [`thread_tag`], [`crate::runtime::may::on_rayon_from_may`]), and it must not overflow
/// its stack (may's default, 0x1000 words, 32 KiB here: the scenarios' coroutines keep a
/// few counters and call nothing deep).
fn in_coroutine<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    may::go!(f).join().expect("a coroutine panicked")
}

impl TaskScheduler for MaySchedulers {
    fn pool_round_trips(&mut self, n: u64) -> Duration {
        in_coroutine(move || {
            let start = Instant::now();
            for _ in 0..n {
                on_rayon_from_may(|| {
                    trivial_job();
                });
            }
            start.elapsed()
        })
    }

    fn spawn_await(&mut self, n: u64) -> SpawnRun {
        in_coroutine(move || {
            let mut completed = 0;
            let start = Instant::now();
            for _ in 0..n {
                completed += may::go!(|| 1).join().expect("a coroutine panicked");
            }
            SpawnRun {
                elapsed: start.elapsed(),
                completed,
            }
        })
    }

    fn spawn_batch(&mut self, batch: usize, n: u64) -> SpawnRun {
        in_coroutine(move || {
            let rounds = n.div_ceil(batch as u64);
            let mut pending = Vec::with_capacity(batch);
            let start = Instant::now();
            let mut completed = 0;
            for _ in 0..rounds {
                pending.extend((0..batch).map(|_| may::go!(|| 1)));
                for co in pending.drain(..) {
                    completed += co.join().expect("a coroutine panicked");
                }
            }
            SpawnRun {
                elapsed: scaled(start.elapsed(), n, rounds * batch as u64),
                completed,
            }
        })
    }

    fn yield_switches(&mut self, n: u64) -> Duration {
        in_coroutine(move || {
            let turns = n.div_ceil(2);
            let other = may::go!(move || {
                for _ in 0..turns {
                    may::coroutine::yield_now();
                }
            });
            let start = process_cpu_time();
            for _ in 0..turns {
                may::coroutine::yield_now();
            }
            other.join().expect("a coroutine panicked");
            scaled(process_cpu_time() - start, n, turns * 2)
        })
    }

    fn ring(&mut self, members: usize, hops: u64) -> RingRun {
        in_coroutine(move || may_ring(members, hops))
    }

    fn load(&mut self, work: Duration, offloaded: bool) -> LoadedLoop {
        load_may(work, offloaded)
    }

    fn probe(&mut self, loaded: &LoadedLoop, probes: u64) -> Latencies {
        // may's workers run on their own threads: nothing to drive from here.
        loaded.probes(probes, || {}).join()
    }

    fn unload(&mut self, loaded: LoadedLoop) {
        loaded.stop_may();
    }

    fn parked_footprint(&mut self, units: usize) -> ParkedSample {
        in_coroutine(move || {
            may::go!(|| ()).join().expect("a coroutine panicked");
            let before = Memory::read();
            let parked = Arc::new(may::sync::Semphore::new(0));
            let (ready, started) = may::sync::mpsc::channel::<()>();
            let coroutines: Vec<_> = (0..units)
                .map(|_| {
                    let (parked, ready) = (parked.clone(), ready.clone());
                    may::go!(move || {
                        let _ = ready.send(());
                        parked.wait();
                    })
                })
                .collect();
            let alive = (0..units)
                .take_while(|_| {
                    started
                        .recv_timeout(crate::footprint::UNIT_DEADLINE)
                        .is_ok()
                })
                .count();
            let during = Memory::read();
            (0..units).for_each(|_| parked.post());
            let finished = coroutines.into_iter().filter_map(|c| c.join().ok()).count();
            ParkedSample::of(units, before, during, alive, finished)
        })
    }

    fn yield_order(&mut self, turns: usize) -> Vec<u8> {
        in_coroutine(move || {
            let log = Arc::new(Mutex::new(Vec::with_capacity(turns * 2)));
            let other_log = log.clone();
            let other = may::go!(move || {
                for _ in 0..turns {
                    other_log.lock().unwrap().push(1);
                    may::coroutine::yield_now();
                }
            });
            for _ in 0..turns {
                log.lock().unwrap().push(0);
                may::coroutine::yield_now();
            }
            other.join().expect("a coroutine panicked");
            log.lock().unwrap().clone()
        })
    }
}

fn may_ring(members: usize, hops: u64) -> RingRun {
    use may::sync::mpsc::channel;
    assert!(members >= 2, "a ring needs at least two members");
    let (to_first, mut inbox) = channel::<usize>();
    let mut coroutines = Vec::with_capacity(members - 1);
    for _ in 1..members {
        let (next, next_inbox) = channel();
        let own_inbox = std::mem::replace(&mut inbox, next_inbox);
        coroutines.push(may::go!(move || {
            let mut arrivals = Arrivals::default();
            while let Ok(from) = own_inbox.recv() {
                arrivals.count(from);
                if next.send(thread_tag()).is_err() {
                    break;
                }
            }
            arrivals
        }));
    }
    let from_last = inbox;
    let mut arrivals = Arrivals::default();
    let mut lap = || {
        to_first.send(thread_tag()).expect("ring broken");
        arrivals.count(from_last.recv().expect("ring broken"));
    };
    lap();
    let laps = hops.div_ceil(members as u64);
    let start = Instant::now();
    for _ in 0..laps {
        lap();
    }
    let elapsed = start.elapsed();
    drop(to_first);
    for co in coroutines {
        arrivals.add(co.join().expect("a coroutine panicked"));
    }
    RingRun {
        elapsed: scaled(elapsed, hops, laps * members as u64),
        hops: arrivals.hops,
        crossed: arrivals.crossed,
    }
}
