//! What more than one integration test needs.

use criterion_gate::executables::newest;
use std::path::PathBuf;

/// Where this test's executable was built (`target/<profile>/deps`).
fn deps_dir() -> PathBuf {
    std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The newest build of example `name`, which `cargo test --all-targets` builds beside the
/// tests (in `target/<profile>/examples`), for every package of the workspace.
#[allow(dead_code)] // Not every test file that shares this module runs examples.
pub fn example(name: &str) -> PathBuf {
    let examples = deps_dir().parent().unwrap().join("examples");
    newest(&examples, name, |_| true).unwrap_or_else(|| {
        panic!(
            "no {name} in {}: run the tests with --all-targets (or --examples)",
            examples.display()
        )
    })
}

/// The newest test-profile build of bench `name` (`target/<profile>/deps/<name>-<hash>`),
/// which `cargo test --all-targets` builds beside the tests; `None`, said, where it has not.
#[allow(dead_code)] // Not every test file that shares this module lists benches.
pub fn bench(name: &str) -> Option<PathBuf> {
    let deps = deps_dir();
    let found = newest(&deps, name, |hash| {
        hash.chars().all(|c| c.is_ascii_hexdigit())
    });
    if found.is_none() {
        eprintln!(
            "no build of bench {name} in {}: run the tests with --all-targets",
            deps.display()
        );
    }
    found
}
