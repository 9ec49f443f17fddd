//! Files that are either wholly old or wholly new: the one writer every result, report and
//! baseline goes through. A reader never sees half a file, a crash or a full disk never
//! destroys the old one, and once `write_atomically` returns the new one survives a power cut.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Writes `bytes` to `path` through an exclusively created temporary file in the same
/// directory, synced and renamed over `path`; the directory is synced so the rename persists.
///
/// A path that names something other than a plain file (`/dev/null`, `/dev/stdout`, a pipe,
/// a symbolic link) is written through in place: a rename would replace the device or the
/// link itself with a file — run as root, `--output /dev/null` once turned the machine's
/// `/dev/null` into a file that every later build read from.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_file()) {
        return write_through(path, bytes);
    }
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

fn write_through(path: &Path, bytes: &[u8]) -> io::Result<()> {
    OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)?
        .write_all(bytes)
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
    use std::os::unix::fs::FileTypeExt;

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

    #[test]
    fn a_pipe_or_a_link_stays_what_it_is() {
        let dir =
            std::env::temp_dir().join(format!("costs-durable-special-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("target.json");
        std::fs::write(&target, b"old").unwrap();
        let link = dir.join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomically(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"new");

        let fifo = dir.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_atomically(&fifo, b"through").unwrap();
        assert_eq!(reader.join().unwrap(), b"through");
        assert!(
            std::fs::symlink_metadata(&fifo)
                .unwrap()
                .file_type()
                .is_fifo()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
