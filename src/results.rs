//! `target/costs`: what the suite and `costs` keep beside Criterion's own files. Each kind of
//! result lives in one file, a map from an ID (a benchmark, a unit kind, a scenario) to a value
//! that carries the run that made it, written whole and atomically so a crash never leaves half
//! a file. This module alone finds the directory and reads and writes its files; each file is
//! named once, as a [`Kept`] beside the type it holds.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::io;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// The variable that sends a run's results elsewhere: the regression gate's short runs and the
/// tests set it, so that they never write into the user's results.
pub const DIR_VARIABLE: &str = "COSTS_DIR";

/// Where results are kept: `$COSTS_DIR`, or `<target dir>/costs/`.
pub fn dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DIR_VARIABLE) {
        return PathBuf::from(dir);
    }
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("costs")
}

/// One file of kept results, each a `T` under its ID.
pub struct Kept<T> {
    file: &'static str,
    holds: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Kept<T> {
    pub const fn new(file: &'static str) -> Kept<T> {
        Kept {
            file,
            holds: PhantomData,
        }
    }

    pub fn path(&self, dir: &Path) -> PathBuf {
        dir.join(self.file)
    }

    /// Everything kept in `dir`; none where the file is missing or unreadable (a report then
    /// says the results are missing, which is what they are).
    pub fn load(&self, dir: &Path) -> BTreeMap<String, T> {
        std::fs::read(self.path(dir))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Keeps `value` under `id`, beside everything else the file holds.
    pub fn keep(&self, dir: &Path, id: &str, value: T) -> io::Result<PathBuf> {
        self.update(dir, |all| {
            all.insert(id.to_string(), value);
        })
    }

    /// Reads the file, lets `change` edit what it holds, and writes the result in its place.
    pub fn update(
        &self,
        dir: &Path,
        change: impl FnOnce(&mut BTreeMap<String, T>),
    ) -> io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let mut all = self.load(dir);
        change(&mut all);
        let path = self.path(dir);
        criterion_gate::durable::write_atomically(&path, &serde_json::to_vec_pretty(&all)?)?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NUMBERS: Kept<u32> = Kept::new("numbers.json");

    #[test]
    fn kept_values_are_merged_by_id_and_survive_a_reload() {
        let dir = std::env::temp_dir().join(format!("costs-results-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(NUMBERS.load(&dir).is_empty());
        NUMBERS.keep(&dir, "a", 1).unwrap();
        NUMBERS.keep(&dir, "b", 2).unwrap();
        NUMBERS.keep(&dir, "a", 3).unwrap();
        let kept = NUMBERS.load(&dir);
        assert_eq!(
            kept.into_iter().collect::<Vec<_>>(),
            [("a".into(), 3), ("b".into(), 2)]
        );
        // Only the file itself is left: the temporary one was renamed over it.
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(files.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
