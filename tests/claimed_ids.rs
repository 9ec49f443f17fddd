//! Every benchmark ID the claims report and the ladder read exists in the suite: listed by
//! its bench executable (`--list`, as a benchmark or a distribution), or skipped there with a
//! reason this machine printed.

use criterion_gate::executables::beside_this_test as built;

use concurrency_costs::claims::{GROUPS, benchmark_ids};
use criterion_gate::bounded::output_bounded;
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn every_benchmark_a_claim_reads_is_in_the_suite() {
    let mut known = BTreeSet::new();
    // task_spawn_batch lives in task_spawn's file.
    for bench in GROUPS.iter().filter(|g| **g != "task_spawn_batch") {
        let Some(exe) = built::bench(bench) else {
            println!("skipped: no {bench} executable beside this test; run with --all-targets");
            return;
        };
        let log = std::env::temp_dir().join(format!("costs-ids-{}-{bench}", std::process::id()));
        let (status, stdout) = output_bounded(
            Command::new(&exe)
                .args(["--bench", "--list"])
                .stderr(std::fs::File::create(&log).unwrap())
                .stdin(Stdio::null()),
            Duration::from_secs(120),
        )
        .unwrap();
        assert!(status.success(), "{} --list failed", exe.display());
        let stderr = std::fs::read_to_string(&log).unwrap();
        std::fs::remove_file(&log).unwrap();
        let listed = String::from_utf8_lossy(&stdout)
            .lines()
            .filter_map(|l| {
                // A distribution is measured and kept as a benchmark's latencies are, without
                // a Criterion figure (the blocked loop's configurations that are no stall).
                l.strip_suffix(": benchmark")
                    .or_else(|| l.strip_suffix(": distribution"))
            })
            .map(str::to_string)
            .collect::<Vec<_>>();
        let skipped = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("skipped ")?.split_once(": "))
            .map(|(id, _)| id.to_string())
            .collect::<Vec<_>>();
        known.extend(listed.into_iter().chain(skipped));
    }
    let missing: Vec<String> = benchmark_ids()
        .into_iter()
        .filter(|id| !known.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "claims read benchmarks the suite does not have: {missing:?}"
    );
}
