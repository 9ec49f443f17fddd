//! Records the compiler and the crate's git commit, so that every result can say what built it:
//! the last commit that changed the measured code (sources, benches, manifest, lock file).

use std::path::Path;
use std::process::Command;

/// What a build is made of: edits here make it differ from its commit. Of the gate's crate,
/// only what runs inside a bench process: its judge, reports and command do not move a result.
const MEASURED: [&str; 11] = [
    "src",
    "benches",
    "examples",
    "build.rs",
    "Cargo.toml",
    "Cargo.lock",
    "gate/src/count/bench_process.rs",
    "gate/src/count/kernel.rs",
    "gate/src/durable.rs",
    "gate/src/units.rs",
    "gate/src/host.rs",
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = output(Command::new(rustc).arg("-V")).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=COSTS_RUSTC_VERSION={version}");

    // The last commit that changed what is measured, not HEAD: a commit of documents alone
    // leaves every result of the commit before it standing.
    let commit = output(
        Command::new("git").args(
            ["log", "-1", "--format=%h", "--abbrev=12", "--"]
                .into_iter()
                .chain(MEASURED),
        ),
    )
    .filter(|c| !c.is_empty())
    .unwrap_or_else(|| "unknown".into());
    // A build of edited sources is not that commit: say so, or results and baselines would
    // credit the commit with code it does not hold.
    let edited = output(
        Command::new("git").args(
            ["status", "--porcelain", "--untracked-files=no", "--"]
                .into_iter()
                .chain(MEASURED),
        ),
    )
    .is_some_and(|changes| !changes.is_empty());
    let stamp = if edited {
        format!("{commit}-dirty")
    } else {
        commit
    };
    println!("cargo:rustc-env=COSTS_GIT_COMMIT={stamp}");
    for path in MEASURED {
        println!("cargo:rerun-if-changed={path}");
    }
    // Rebuild when HEAD moves; watching a missing file would rebuild every time.
    let git = Path::new(".git");
    if git.join("HEAD").exists() {
        println!("cargo:rerun-if-changed=.git/HEAD");
        // A fresh clone keeps its branch refs packed in one file.
        if git.join("packed-refs").exists() {
            println!("cargo:rerun-if-changed=.git/packed-refs");
        }
        if let Ok(head) = std::fs::read_to_string(git.join("HEAD"))
            && let Some(reference) = head.trim().strip_prefix("ref: ")
            && git.join(reference).exists()
        {
            println!("cargo:rerun-if-changed=.git/{reference}");
        }
    }
}

fn output(command: &mut Command) -> Option<String> {
    let out = command.output().ok().filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
