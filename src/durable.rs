//! Files that are either wholly old or wholly new: the one writer every result, report and
//! baseline goes through. A reader never sees half a file, a crash or a full disk never
//! destroys the old one, and once `write_atomically` returns the new one survives a power cut.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Writes `bytes` to `path` through an exclusively created temporary file in the same
/// directory, synced and renamed over `path`; the directory is synced so the rename persists.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    write_new(&temp, bytes)?;
    if let Err(e) = std::fs::rename(&temp, path) {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    File::open(dir)?.sync_all()
}

/// Creates `path`, failing if it exists (another writer's temporary file is never reused
/// or removed), and removes it again if it cannot be filled.
fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(path)?;
    let filled = file.write_all(bytes).and_then(|()| file.sync_all());
    if filled.is_err() {
        let _ = std::fs::remove_file(path);
    }
    filled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_file_whole_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("costs-durable-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.json");
        write_atomically(&path, b"old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_write_that_cannot_happen_keeps_the_old_file() {
        let dir = std::env::temp_dir().join(format!("costs-durable-keep-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.json");
        write_atomically(&path, b"old").unwrap();
        // A stale temporary file of this very process: the exclusive create refuses it.
        let temp = dir.join(format!(".a.json.{}.tmp", std::process::id()));
        std::fs::write(&temp, b"someone else's").unwrap();
        assert!(write_atomically(&path, b"new").is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read(&temp).unwrap(), b"someone else's");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
