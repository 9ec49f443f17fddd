//! The scripts users call by hand answer bad input with one line and exit 2, before they
//! build or write anything.

use std::path::Path;
use std::process::{Command, Output};

fn script(name: &str, args: &[&str]) -> Output {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name);
    Command::new(path).args(args).output().unwrap()
}

fn assert_one_line_exit_2(out: &Output, says: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(says), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn compare_commits_needs_a_base_that_is_a_commit() {
    assert_one_line_exit_2(&script("compare-commits.sh", &[]), "usage:");
    let unknown = "no-such-commit-anywhere";
    assert_one_line_exit_2(
        &script("compare-commits.sh", &[unknown]),
        &format!("{unknown} is not a commit here"),
    );
    // Options after it must not be taken for the commit it names.
    assert_one_line_exit_2(
        &script("compare-commits.sh", &[unknown, "--budget-min", "1"]),
        &format!("{unknown} is not a commit here"),
    );
}

#[test]
fn flamegraph_needs_a_bench() {
    assert_one_line_exit_2(&script("flamegraph.sh", &[]), "usage:");
}
