//! The committed reports and the hosts page, through the command: `costs fresh` tells a
//! report made by this build from one made by an older one, `costs hosts` imports an earlier
//! page and puts every host side by side, and `costs claims --readme` rewrites only its table.

use concurrency_costs::environment::Environment;
use concurrency_costs::provenance::this_commit;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const COSTS: &str = env!("CARGO_BIN_EXE_costs");

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("costs-reports-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn costs(args: &[&str], dir: &Path) -> Output {
    Command::new(COSTS)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// A report whose "Measured on:" line names the build `commit`.
fn report_of(commit: &str) -> String {
    let machine = Environment {
        commit: commit.to_string(),
        ..Environment::capture()
    };
    format!("Measured on: {}\n\n| claim | … |\n", machine.summary())
}

#[test]
fn a_report_of_an_older_build_is_stale_and_one_of_this_build_is_fresh() {
    let dir = scratch("fresh");
    std::fs::write(dir.join("old.md"), report_of("0123456789ab")).unwrap();
    std::fs::write(dir.join("now.md"), report_of(this_commit())).unwrap();
    std::fs::write(dir.join("none.md"), "a page that names no build\n").unwrap();

    let stale = costs(&["fresh", "old.md"], &dir);
    let stdout = String::from_utf8_lossy(&stale.stdout);
    assert_eq!(stale.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("STALE: old.md measured 0123456789ab"),
        "{stdout}"
    );

    let now = costs(&["fresh", "now.md"], &dir);
    let stdout = String::from_utf8_lossy(&now.stdout);
    // An edited build is ahead of every report: only a clean one can find one fresh.
    match this_commit().ends_with("-dirty") {
        false => assert_eq!(now.status.code(), Some(0), "{stdout}"),
        true => assert_eq!(now.status.code(), Some(1), "{stdout}"),
    }

    let unreadable = costs(&["fresh", "none.md", "old.md"], &dir);
    assert_eq!(unreadable.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unreadable.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_earlier_page_is_imported_and_every_host_is_a_column_of_the_page() {
    let dir = scratch("hosts");
    let page = "# Results\n\nMeasured on: AMD EPYC | 2 CPUs (2 allowed) | Linux 6.1.0-test | virtualised | \
                rustc 1.95.0 (59807616e 2026-04-14) | concurrency-costs 0.1.0 (298857f58f62)\n\n\
                | claim | the documents | measured | range read | here | from | verdict |\n\
                |---|---|---|---|---|---|---|\n\
                | C01 | hundreds of µs per fork | fork+exit+wait, 1 MiB parent | 100.00 µs – 1.00 ms | 71.25 µs | `fork/fork_exit_wait/1MiB` | cheaper than claimed, ×1.4 |\n\
                | C03 | 1–10 µs (~5 µs) | thread switch, pipe, cross core | 1.00 µs – 10.00 µs | 2.41 µs | `context_switch/thread_pipe/cross_core` | within the claimed range |\n\
                | C99 | a claim no longer catalogued | something | 1 – 2 | 3 | `x` | dearer |\n";
    std::fs::write(dir.join("old.md"), page).unwrap();
    let args = [
        "hosts",
        "--dir",
        "hosts",
        "--markdown",
        "page.md",
        "--svg",
        "ladder.svg",
        "--import",
        "old.md",
        "--cpu-id",
        "f26m2s1",
    ];
    let imported = costs(&args, &dir);
    let stderr = String::from_utf8_lossy(&imported.stderr);
    assert!(imported.status.success(), "{stderr}");
    assert!(stderr.contains("left out C99"), "{stderr}");
    assert!(stderr.contains("imported 2 figures"), "{stderr}");

    let files: Vec<_> = std::fs::read_dir(dir.join("hosts"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().to_string_lossy().to_string();
    assert!(
        name.starts_with("amd-epyc-f26m2s1-") && name.ends_with("linux-6.1.0-test.json"),
        "{name}"
    );

    let table = std::fs::read_to_string(dir.join("page.md")).unwrap();
    let fork = table
        .lines()
        .find(|l| l.contains("fork+exit+wait, 1 MiB parent"))
        .unwrap();
    assert!(fork.contains("71.25 µs ▼×1.4"), "{fork}");
    assert!(table.contains("AMD EPYC f26m2s1<br>6.1.0-test"), "{table}");
    let svg = std::fs::read_to_string(dir.join("ladder.svg")).unwrap();
    assert_eq!(svg.matches("<g class=\"bar\">").count(), 2, "{svg}");

    // A second host is a second column; nothing of the first is lost.
    let second = page.replace("6.1.0-test", "6.2.0-test");
    std::fs::write(dir.join("second.md"), second).unwrap();
    let both = costs(&[&args[..8], &["second.md"]].concat(), &dir);
    assert!(both.status.success());
    let table = std::fs::read_to_string(dir.join("page.md")).unwrap();
    let fork = table
        .lines()
        .find(|l| l.contains("fork+exit+wait, 1 MiB parent"))
        .unwrap();
    assert_eq!(fork.matches("71.25 µs").count(), 2, "{fork}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The claims report, from no results at all, with the README's table rewritten.
const CLAIMS_WITH_README: [&str; 7] = [
    "claims",
    "--criterion-dir",
    "empty",
    "--costs-dir",
    "empty",
    "--readme",
    "README.md",
];

#[test]
fn the_readme_table_is_rewritten_between_its_markers_only() {
    let dir = scratch("readme");
    let readme = "# Title\n\nprose before\n\n<!-- generated by costs claims --readme: start -->\nold table\n<!-- generated by costs claims --readme: end -->\n\nprose after\n";
    std::fs::write(dir.join("README.md"), readme).unwrap();
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let run = costs(&CLAIMS_WITH_README, &dir);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(text.starts_with("# Title\n\nprose before\n\n"), "{text}");
    assert!(text.ends_with("\n\nprose after\n"), "{text}");
    assert!(!text.contains("old table"));
    assert!(text.contains(&format!(
        "Measured on: {}",
        Environment::capture().summary()
    )));

    // A README without the markers is refused and left as it was.
    std::fs::write(dir.join("README.md"), "no markers\n").unwrap();
    let refused = costs(&CLAIMS_WITH_README, &dir);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(dir.join("README.md")).unwrap(),
        "no markers\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
