//! Fixed-rate probes into a runtime from outside it: how late a trivial request is answered
//! while something else runs on the loop (claims C20, C21). A driver thread sends requests on
//! a fixed schedule, each stamped with the time it was *meant* to go out, whether or not
//! earlier ones were answered; a collector thread records, per reply, the time since that
//! stamp. A stall therefore counts against every probe queued behind it, instead of delaying
//! the next probe and hiding (coordinated omission).

use crate::provenance::{Mode, Run};
use crate::results::{self, Kept};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Time between probes: fine enough that a 100 µs stall is seen, coarse enough that the
/// probes themselves barely load the loop.
pub const PROBE_INTERVAL: Duration = Duration::from_micros(100);

/// How long after its due time a probe may go unanswered before it is given up on. A loop
/// that never turns to its other tasks (a hog that starves them) would otherwise hang here.
pub const PROBE_DEADLINE: Duration = Duration::from_secs(1);

/// One probe: when it was due to go out, and where its answer goes. The responder answers by
/// sending the due time back ([`Probe::answer`]); an answer to a batch that has already been
/// given up on goes nowhere.
pub struct Probe {
    pub due: Instant,
    reply: crossbeam_channel::Sender<Instant>,
}

impl Probe {
    /// Never blocks: the reply channel is unbounded.
    pub fn answer(self) {
        let _ = self.reply.send(self.due);
    }
}

/// Latencies of one batch of probes.
pub struct Latencies {
    /// Sum of every probe's latency: what Criterion divides by the probe count. A probe given
    /// up on counts as [`PROBE_DEADLINE`], a lower bound of its real latency.
    pub total: Duration,
    pub answered: u64,
    /// Probes with no reply within [`PROBE_DEADLINE`] of their due time.
    pub unanswered: u64,
    /// Nanoseconds.
    pub histogram: Histogram<u64>,
}

pub fn new_histogram() -> Histogram<u64> {
    // 1 ns to 100 s at three significant digits.
    Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("valid histogram bounds")
}

/// The driver and collector threads of one batch.
pub struct Probes {
    driver: JoinHandle<()>,
    collector: JoinHandle<Latencies>,
}

impl Probes {
    /// Sends `count` probes through `send` on a fixed schedule; the responder answers each
    /// with [`Probe::answer`]. `finished` is called from the collector once every probe is
    /// answered or given up on.
    pub fn start(
        count: u64,
        mut send: impl FnMut(Probe) -> bool + Send + 'static,
        finished: impl FnOnce() + Send + 'static,
    ) -> Probes {
        let (replies, from_responder) = crossbeam_channel::unbounded::<Instant>();
        let start = Instant::now();
        let due = move |i: u64| start + PROBE_INTERVAL * i as u32;
        let driver = std::thread::Builder::new()
            .name("probe-driver".into())
            .spawn(move || {
                // Wake-ups as close to the schedule as the kernel allows (default slack: 50 µs).
                // SAFETY: prctl with integer arguments only.
                unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1) };
                for i in 0..count {
                    if let Some(wait) = due(i).checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let probe = Probe {
                        due: due(i),
                        reply: replies.clone(),
                    };
                    if !send(probe) {
                        break;
                    }
                }
            })
            .expect("cannot start the probe driver");
        let collector = std::thread::Builder::new()
            .name("probe-collector".into())
            .spawn(move || {
                let mut latencies = Latencies {
                    total: Duration::ZERO,
                    answered: 0,
                    unanswered: 0,
                    histogram: new_histogram(),
                };
                let mut record = |late: Duration| {
                    latencies.total += late;
                    let _ = latencies.histogram.record(late.as_nanos().max(1) as u64);
                };
                while latencies.answered < count {
                    let next = latencies.answered;
                    match from_responder.recv_deadline(due(next) + PROBE_DEADLINE) {
                        Ok(sent) => {
                            record(sent.elapsed());
                            latencies.answered += 1;
                        }
                        Err(_) => break,
                    }
                }
                latencies.unanswered = count - latencies.answered;
                for _ in 0..latencies.unanswered {
                    record(PROBE_DEADLINE);
                }
                finished();
                latencies
            })
            .expect("cannot start the probe collector");
        Probes { driver, collector }
    }

    /// Waits for both threads; call once `finished` has fired, so the wait is short.
    pub fn join(self) -> Latencies {
        let _ = self.driver.join();
        self.collector.join().expect("the probe collector panicked")
    }
}

/// Burns `work` of CPU time on the calling thread: synchronous work that cannot be
/// interrupted by the runtime it runs on.
pub fn burn(work: Duration) {
    let start = Instant::now();
    while start.elapsed() < work {
        std::hint::spin_loop();
    }
}

/// Every blocked-loop benchmark's probe percentiles.
pub const BLOCKED_LOOP: Kept<LatencySummary> = Kept::new("blocked_loop.json");
/// Every offload benchmark's latency percentiles.
pub const OFFLOAD: Kept<LatencySummary> = Kept::new("offload.json");

/// Percentiles of one benchmark's probes, as kept in [`BLOCKED_LOOP`] or [`OFFLOAD`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    pub probes: u64,
    /// Probes never answered within [`PROBE_DEADLINE`]; counted in the percentiles at it.
    #[serde(default)]
    pub unanswered: u64,
    pub mean_ns: f64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub max_ns: u64,
    /// The run that recorded it; none in files kept before runs were recorded.
    #[serde(default)]
    pub run: Option<Run>,
}

impl LatencySummary {
    pub fn of(h: &Histogram<u64>, unanswered: u64) -> LatencySummary {
        LatencySummary {
            probes: h.len(),
            unanswered,
            mean_ns: h.mean(),
            p50_ns: h.value_at_quantile(0.50),
            p99_ns: h.value_at_quantile(0.99),
            max_ns: h.max(),
            run: None,
        }
    }
}

/// Keeps `summary` under `id` in `file`, stamped as a measuring run's. Only a measuring run
/// keeps anything.
pub fn record_summary(
    file: &Kept<LatencySummary>,
    id: &str,
    summary: &LatencySummary,
) -> std::io::Result<()> {
    let run = Some(Run::now(Mode::Bench));
    let summary = LatencySummary {
        run,
        ..summary.clone()
    };
    file.keep(&results::dir(), id, summary).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_through_an_echo_are_all_answered_and_timed() {
        let (to_echo, requests) = crossbeam_channel::unbounded::<Probe>();
        let (done, finished) = crossbeam_channel::bounded(1);
        let probes = Probes::start(
            50,
            move |probe| to_echo.send(probe).is_ok(),
            move || {
                let _ = done.send(());
            },
        );
        let echo = std::thread::spawn(move || {
            for probe in requests {
                probe.answer();
            }
        });
        finished.recv_timeout(Duration::from_secs(10)).unwrap();
        let latencies = probes.join();
        echo.join().unwrap();
        assert_eq!((latencies.answered, latencies.unanswered), (50, 0));
        assert_eq!(latencies.histogram.len(), 50);
        let summary = LatencySummary::of(&latencies.histogram, 0);
        assert!(summary.p50_ns <= summary.p99_ns && summary.p99_ns <= summary.max_ns);
    }

    #[test]
    fn a_responder_that_never_answers_is_given_up_on_at_the_deadline() {
        let (done, finished) = crossbeam_channel::bounded(1);
        let (to_nobody, unread) = crossbeam_channel::unbounded::<Probe>();
        let probes = Probes::start(
            3,
            move |probe| to_nobody.send(probe).is_ok(),
            move || {
                let _ = done.send(());
            },
        );
        finished.recv_timeout(PROBE_DEADLINE * 5).unwrap();
        let latencies = probes.join();
        drop(unread);
        assert_eq!((latencies.answered, latencies.unanswered), (0, 3));
        assert_eq!(latencies.total, PROBE_DEADLINE * 3);
    }

    #[test]
    fn burn_takes_at_least_the_time_asked() {
        let start = Instant::now();
        burn(Duration::from_millis(2));
        assert!(start.elapsed() >= Duration::from_millis(2));
    }
}
