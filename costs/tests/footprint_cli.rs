//! `costs footprint` end to end: every kind of unit is measured in its own process, all units
//! are alive when measured and gone afterwards, and the JSON parses.

use std::process::Command;

/// Where these runs keep their rows: never the user's `target/costs`, which `costs claims`
/// reads as measured results.
fn scratch_results() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("costs-footprint-test-{}", std::process::id()))
}

fn costs(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_costs"))
        .args(args)
        .env("COSTS_DIR", scratch_results())
        .output()
        .expect("cannot run costs")
}

#[test]
fn every_kind_is_measured_alive_and_released() {
    let out = costs(&["footprint", "--units", "200", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON row"))
        .collect();
    let kept = std::fs::read(scratch_results().join("footprint.json"))
        .expect("the rows are kept where COSTS_DIR says");
    let kept: serde_json::Value = serde_json::from_slice(&kept).unwrap();
    assert!(kept.as_object().is_some_and(|rows| !rows.is_empty()));
    let _ = std::fs::remove_dir_all(scratch_results());
    let kinds = String::from_utf8(costs(&["footprint", "--list"]).stdout).unwrap();
    assert_eq!(rows.len(), kinds.lines().count());
    for row in rows {
        match row["status"].as_str() {
            Some("measured") => {
                assert_eq!(row["alive"], 200, "{row}");
                assert_eq!(row["finished"], 200, "{row}");
                assert!(row["rss_per_unit"].is_number(), "{row}");
            }
            Some("skipped") => assert!(row["reason"].as_str().is_some_and(|r| !r.is_empty())),
            _ => panic!("unexpected row {row}"),
        }
    }
}

#[test]
fn threads_report_their_stack_as_virtual_memory() {
    let out = costs(&[
        "footprint",
        "--units",
        "100",
        "--unit",
        "thread_8mib_stack",
        "--json",
    ]);
    let row: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        row["virtual_per_unit"].as_f64().unwrap() >= (8 << 20) as f64,
        "{row}"
    );
    assert_eq!(row["threads_added"], 100, "{row}");
}

#[test]
fn an_unknown_kind_is_a_usage_error() {
    let out = costs(&["footprint", "--unit", "fibres"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("unknown unit kind") && err.lines().count() == 1,
        "{err}"
    );
}
