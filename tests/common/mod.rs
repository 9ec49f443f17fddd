//! What more than one integration test needs.

use std::path::{Path, PathBuf};

/// The newest file in `dir` named `name` or `name-<suffix>` with no extension, whose suffix
/// passes `suffix_ok`: cargo names a test-profile build `<name>-<hash>`.
fn newest(dir: &Path, name: &str, suffix_ok: impl Fn(&str) -> bool) -> Option<PathBuf> {
    let prefix = format!("{name}-");
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let file = p.file_name().unwrap().to_string_lossy();
            let suffix = file.strip_prefix(&prefix);
            (file == name || suffix.is_some_and(&suffix_ok)) && p.extension().is_none()
        })
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

/// Where this test's executable was built (`target/<profile>/deps`).
fn deps_dir() -> PathBuf {
    std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The newest build of example `name`, which `cargo test --all-targets` builds beside the
/// tests (in `target/<profile>/examples`).
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
#[allow(dead_code)] // Not every test file that shares this module counts benches.
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
