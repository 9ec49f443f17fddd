//! What more than one integration test needs.

use std::path::PathBuf;

/// The newest build of example `name`, which `cargo test --all-targets` builds beside the
/// tests (in `target/<profile>/examples`).
pub fn example(name: &str) -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let examples = deps.parent().unwrap().parent().unwrap().join("examples");
    let prefix = format!("{name}-");
    let newest = std::fs::read_dir(&examples)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let file = p.file_name().unwrap().to_string_lossy();
            (file == name || file.starts_with(&prefix)) && p.extension().is_none()
        })
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok());
    newest.unwrap_or_else(|| {
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
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let prefix = format!("{name}-");
    let newest = std::fs::read_dir(&deps)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let file = p.file_name().unwrap().to_string_lossy();
            file.starts_with(&prefix)
                && p.extension().is_none()
                && file[prefix.len()..].chars().all(|c| c.is_ascii_hexdigit())
        })
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok());
    if newest.is_none() {
        eprintln!(
            "no build of bench {name} in {}: run the tests with --all-targets",
            deps.display()
        );
    }
    newest
}
