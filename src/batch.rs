//! Criterion asks for a number of iterations; many scenarios can only run whole laps of a
//! ring or whole batches of tasks, so they time what they ran and scale it to what was asked.

use std::time::Duration;

/// `elapsed` for `done` operations, scaled to the `asked` ones: benches run whole laps or
/// batches and report the time for exactly the iterations Criterion asked for.
pub fn scaled(elapsed: Duration, asked: u64, done: u64) -> Duration {
    if done == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos((elapsed.as_nanos() * asked as u128 / done as u128) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_for_whole_laps_is_scaled_to_the_iterations_asked() {
        assert_eq!(
            scaled(Duration::from_nanos(900), 10, 30),
            Duration::from_nanos(300)
        );
        assert_eq!(scaled(Duration::from_secs(1), 10, 0), Duration::ZERO);
    }
}
