//! The floor under every green-thread switch: a raw stackful coroutine (corosensei) resumed
//! and suspended, with nothing scheduled in between.

use crate::batch::scaled;
use corosensei::Coroutine;
use std::time::{Duration, Instant};

/// A coroutine that suspends straight back to whoever resumed it, forever. Dropping it unwinds
/// its stack.
pub struct Bouncer(Coroutine<(), (), ()>);

impl Bouncer {
    pub fn new() -> Self {
        Bouncer(Coroutine::new(|yielder, ()| {
            loop {
                yielder.suspend(());
            }
        }))
    }

    /// Runs enough resume + suspend round trips for `switches` switches (each round trip is
    /// two: onto the coroutine's stack and back) and returns the time scaled to `switches`.
    pub fn time_switches(&mut self, switches: u64) -> Duration {
        let round_trips = switches.div_ceil(2);
        let start = Instant::now();
        for _ in 0..round_trips {
            self.0.resume(());
        }
        scaled(start.elapsed(), switches, round_trips * 2)
    }
}

impl Default for Bouncer {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corosensei::CoroutineResult;

    #[test]
    fn a_bouncer_suspends_on_every_resume_and_drops_cleanly() {
        let mut bouncer = Bouncer::new();
        for _ in 0..10 {
            assert_eq!(bouncer.0.resume(()), CoroutineResult::Yield(()));
        }
        bouncer.time_switches(100);
        drop(bouncer);
    }
}
