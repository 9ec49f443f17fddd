//! A head's counts against a base's: per benchmark, which count changed beyond what it can
//! carry.
//!
//! A count fails the head when it grew, per iteration, by more than the largest of: the
//! threshold (1% by default) of the base's value, three times the larger of the two sides'
//! spreads, and for a kernel count half an event ([`super::floor`]). Only counts that repeat
//! on both sides are judged; a benchmark with none of at least one event (or instruction) an
//! iteration is left to the time lane, though a count that appears from nothing still fails.
//! Involuntary switches are never judged ([`super::gates`]).

use super::{COUNTS, Count, Counted, floor, gates};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CountVerdict {
    Regressed,
    Improved,
    Unchanged,
    /// No count repeats on both sides: the time lane alone judges it.
    NotCounted,
}

/// One count's change, head against base.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CountChange {
    pub count: String,
    pub base: f64,
    pub head: f64,
    /// The change it would have to exceed.
    pub tolerance: f64,
}

impl CountChange {
    /// The change as a fraction of the base (infinite from zero).
    pub fn relative(&self) -> f64 {
        match self.base {
            0.0 if self.head == 0.0 => 0.0,
            0.0 => f64::INFINITY.copysign(self.head),
            base => self.head / base - 1.0,
        }
    }

    /// `instructions +5.0% (1200 → 1260)`; from nothing, the change an iteration instead
    /// (`major_faults +1.00 an iteration (0.00 → 1.00)`).
    pub fn describe(&self) -> String {
        let change = match self.base {
            0.0 => format!("{:+.2} an iteration", self.head),
            _ => crate::units::signed_pct(self.relative()),
        };
        format!(
            "{} {change} ({} → {})",
            self.count,
            short(self.base),
            short(self.head)
        )
    }
}

fn short(v: f64) -> String {
    match v.abs() >= 100.0 {
        true => format!("{v:.0}"),
        false => format!("{v:.2}"),
    }
}

/// The count lane's word on one benchmark.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CountJudgement {
    pub id: String,
    pub verdict: CountVerdict,
    /// The count that decided (the largest change beyond its tolerance), if one did.
    pub decided_by: Option<CountChange>,
    /// Every count judged.
    pub changes: Vec<CountChange>,
    pub note: Option<String>,
}

impl CountJudgement {
    /// A benchmark only one side counted: not judged on counts.
    pub fn alone(id: &str, note: &str) -> CountJudgement {
        CountJudgement {
            id: id.to_string(),
            verdict: CountVerdict::NotCounted,
            decided_by: None,
            changes: Vec::new(),
            note: Some(note.to_string()),
        }
    }

    /// The change to show beside the time: the deciding count's, else the instructions'
    /// (or the first count judged); none for a benchmark left to the time lane.
    pub fn shown_change(&self) -> Option<&CountChange> {
        if self.verdict == CountVerdict::NotCounted {
            return None;
        }
        self.decided_by.as_ref().or_else(|| {
            self.changes
                .iter()
                .find(|c| c.count == "instructions")
                .or(self.changes.first())
        })
    }
}

/// Judges `head` against `base` at `threshold` (a fraction: 0.01 = 1%).
pub fn judge(base: &Counted, head: &Counted, threshold: f64) -> CountJudgement {
    let changes: Vec<CountChange> = COUNTS
        .iter()
        .filter(|name| gates(name))
        .filter_map(|name| {
            let (b, h) = (base.count(name)?, head.count(name)?);
            (b.repeats(name) && h.repeats(name)).then(|| change(name, b, h, threshold))
        })
        .collect();
    let beyond = |sign: f64| {
        changes
            .iter()
            .filter(|c| sign * (c.head - c.base) > c.tolerance)
            .max_by(|a, b| a.relative().abs().total_cmp(&b.relative().abs()))
            .cloned()
    };
    // A count that stays at nothing (no major fault, ever) catches one that appears, but
    // says nothing of a change in the work itself: unchanged needs a count of some size.
    let substantial = changes
        .iter()
        .any(|c| c.base.abs() >= floor(&c.count).max(1.0));
    let (verdict, decided_by) = match (beyond(1.0), beyond(-1.0)) {
        (Some(up), _) => (CountVerdict::Regressed, Some(up)),
        (None, Some(down)) => (CountVerdict::Improved, Some(down)),
        (None, None) if !substantial => (CountVerdict::NotCounted, None),
        (None, None) => (CountVerdict::Unchanged, None),
    };
    let note = (verdict == CountVerdict::NotCounted).then(|| why_not_counted(base, head));
    CountJudgement {
        id: head.id.clone(),
        verdict,
        decided_by,
        changes,
        note,
    }
}

fn change(name: &str, base: &Count, head: &Count, threshold: f64) -> CountChange {
    let b = base.median();
    CountChange {
        count: name.to_string(),
        base: b,
        head: head.median(),
        tolerance: (threshold * b.abs())
            .max(3.0 * base.spread().max(head.spread()))
            .max(floor(name)),
    }
}

fn why_not_counted(base: &Counted, head: &Counted) -> String {
    // Each reason once, with every lane it kept from counting, on either side.
    let mut lanes_by_reason: Vec<(&str, Vec<&str>)> = Vec::new();
    for (lane, why) in head.not_counted.iter().chain(base.not_counted.iter()) {
        match lanes_by_reason.iter_mut().find(|(w, _)| w == why) {
            Some((_, lanes)) if !lanes.contains(&lane.as_str()) => lanes.push(lane),
            Some(_) => {}
            None => lanes_by_reason.push((why, vec![lane])),
        }
    }
    let reasons: Vec<String> = lanes_by_reason
        .into_iter()
        .map(|(why, lanes)| format!("{}: {why}", lanes.join(" and ")))
        .chain(
            head.counts
                .iter()
                .filter(|(name, c)| gates(name) && !c.values.is_empty() && !c.repeats(name))
                .map(|(name, c)| format!("{name} does not repeat (spread {:.1}%)", c.spread_pct())),
        )
        .collect();
    match reasons.is_empty() {
        true => "no count on both sides".into(),
        false => reasons.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(counts: &[(&str, &[f64])]) -> Counted {
        Counted {
            id: "g/f".into(),
            counts: counts
                .iter()
                .map(|(n, v)| (n.to_string(), Count { values: v.to_vec() }))
                .collect(),
            ..Counted::default()
        }
    }

    #[test]
    fn involuntary_switches_are_shown_but_never_fail_a_benchmark() {
        // Identical code counted in two sittings (herd/epoll/32, AMD EPYC host).
        let base = counted(&[
            ("syscalls", &[454.0, 454.2, 453.9]),
            ("involuntary_switches", &[1.06, 1.05, 1.07]),
        ]);
        let head = counted(&[
            ("syscalls", &[456.0, 455.8, 456.1]),
            ("involuntary_switches", &[1.62, 1.60, 1.63]),
        ]);
        let judged = judge(&base, &head, 0.01);
        assert_eq!(judged.verdict, CountVerdict::Unchanged, "{judged:?}");
        assert!(
            judged
                .changes
                .iter()
                .all(|c| c.count != "involuntary_switches")
        );
    }

    #[test]
    fn two_percent_more_instructions_fail_and_half_a_percent_does_not() {
        let base = counted(&[("instructions", &[1000.0, 1000.0, 1000.0])]);
        let more = counted(&[("instructions", &[1020.0, 1020.0, 1020.0])]);
        let a_little = counted(&[("instructions", &[1005.0, 1005.0, 1005.0])]);
        let regressed = judge(&base, &more, 0.01);
        assert_eq!(regressed.verdict, CountVerdict::Regressed);
        assert_eq!(regressed.decided_by.unwrap().count, "instructions");
        assert_eq!(
            judge(&base, &a_little, 0.01).verdict,
            CountVerdict::Unchanged
        );
        assert_eq!(judge(&more, &base, 0.01).verdict, CountVerdict::Improved);
    }

    #[test]
    fn one_more_syscall_an_iteration_fails_though_instructions_did_not_move() {
        let base = counted(&[("instructions", &[80.0; 3]), ("syscalls", &[1.0, 1.0, 1.0])]);
        let head = counted(&[("instructions", &[80.0; 3]), ("syscalls", &[2.0, 2.0, 2.0])]);
        let j = judge(&base, &head, 0.01);
        assert_eq!(j.verdict, CountVerdict::Regressed);
        assert_eq!(j.decided_by.unwrap().count, "syscalls");
    }

    #[test]
    fn a_count_that_scatters_is_not_judged_and_says_why() {
        let scattered: &[f64] = &[1000.0, 1300.0, 900.0];
        let j = judge(
            &counted(&[("instructions", scattered)]),
            &counted(&[("instructions", &[2000.0, 2600.0, 1800.0])]),
            0.01,
        );
        assert_eq!(j.verdict, CountVerdict::NotCounted);
        assert!(j.note.unwrap().contains("instructions does not repeat"));
    }

    #[test]
    fn counts_that_stay_at_nothing_do_not_make_a_benchmark_counted_but_one_that_appears_fails() {
        let base = counted(&[
            ("major_faults", &[0.0; 3]),
            ("instructions", &[10.0, 900.0, 40.0]),
        ]);
        assert_eq!(judge(&base, &base, 0.01).verdict, CountVerdict::NotCounted);
        let faulting = counted(&[
            ("major_faults", &[1.0; 3]),
            ("instructions", &[10.0, 900.0, 40.0]),
        ]);
        assert_eq!(
            judge(&base, &faulting, 0.01).verdict,
            CountVerdict::Regressed
        );
    }

    #[test]
    fn a_count_from_nothing_is_described_per_iteration() {
        let from_nothing = CountChange {
            count: "major_faults".into(),
            base: 0.0,
            head: 1.0,
            tolerance: 0.5,
        };
        assert_eq!(
            from_nothing.describe(),
            "major_faults +1.00 an iteration (0.00 → 1.00)"
        );
    }

    #[test]
    fn the_tolerance_grows_with_the_spread() {
        // 0.9% spread: three times it is 2.7%, so a 2% change is within.
        let base = counted(&[("instructions", &[1000.0, 1009.0, 1004.0])]);
        let head = counted(&[("instructions", &[1024.0, 1024.0, 1024.0])]);
        assert_eq!(judge(&base, &head, 0.01).verdict, CountVerdict::Unchanged);
    }
}
