//! Both sides of a comparison built from git: the base commit, and the working tree as it is
//! (edits and untracked files included) as the head.
//!
//! Both are built in one worktree (`target/compare/tree`) and one target directory
//! (`target/compare/tree-target`, kept, so the next build is incremental), one after the
//! other: a build's path goes into its symbols and code layout, and two builds of the same
//! source at two paths differed by 5% on a 10 ns benchmark. The executables are copied out,
//! so the worktree is gone when the comparison starts, on every path out of here.

use super::BadInput;
use super::executables::{self, BenchBinary};
use crate::bounded::{errors_bounded, output_bounded};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Where the worktree and its target directory live, under the target directory.
pub const WORKTREE: &str = "target/compare/tree";
pub const TARGET_DIR: &str = "target/compare/tree-target";

/// A git command here takes well under a minute (a worktree of this size: a second).
const GIT_LIMIT: Duration = Duration::from_secs(300);
/// `cargo update` may fetch the registry's index first.
const UPDATE_LIMIT: Duration = Duration::from_secs(600);

/// A dependency at a chosen version on one side of a comparison (`NAME@VERSION`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pin {
    pub name: String,
    pub version: String,
}

impl Pin {
    pub fn parse(text: &str) -> Result<Pin, String> {
        match text.split_once('@') {
            Some((name, version)) if !name.is_empty() && !version.is_empty() => Ok(Pin {
                name: name.to_string(),
                version: version.to_string(),
            }),
            _ => Err(format!("{text}: expected NAME@VERSION, e.g. tokio@1.40.0")),
        }
    }
}

impl std::fmt::Display for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

/// Runs git with `args` (and `env`), returning its trimmed standard output.
fn git(args: &[&str], env: &[(&str, &Path)]) -> Result<String, BadInput> {
    let mut command = Command::new("git");
    command
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let said = |why: String| BadInput::Cannot(format!("git {}: {why}", args.join(" ")));
    let (status, stdout) =
        output_bounded(&mut command, GIT_LIMIT).map_err(|e| said(e.to_string()))?;
    if !status.success() {
        return Err(said(status.to_string()));
    }
    Ok(String::from_utf8_lossy(&stdout).trim().to_string())
}

/// The commit `rev` names here, in full.
pub fn resolve(rev: &str) -> Result<String, BadInput> {
    git(
        &[
            "rev-parse",
            "--quiet",
            "--verify",
            &format!("{rev}^{{commit}}"),
        ],
        &[],
    )
    .map_err(|_| {
        BadInput::Cannot(format!(
            "{rev} is not a commit here; fetch it or name another"
        ))
    })
}

/// The working tree as a commit: HEAD itself when nothing differs from it, otherwise a
/// commit of its own (on no branch) whose parent is HEAD, untracked files included.
pub fn snapshot_of_working_tree() -> Result<String, BadInput> {
    let index = PathBuf::from("target/compare/snapshot.index");
    std::fs::create_dir_all("target/compare")
        .map_err(|e| BadInput::Unwritable("target/compare".into(), e))?;
    let _ = std::fs::remove_file(&index);
    let with_index = [("GIT_INDEX_FILE", index.as_path())];
    let tree = git(&["read-tree", "HEAD"], &with_index)
        .and_then(|_| git(&["add", "-A"], &with_index))
        .and_then(|_| git(&["write-tree"], &with_index));
    let _ = std::fs::remove_file(&index);
    let tree = tree?;
    if tree == git(&["rev-parse", "HEAD^{tree}"], &[])? {
        return git(&["rev-parse", "HEAD"], &[]);
    }
    git(
        &[
            "commit-tree",
            &tree,
            "-p",
            "HEAD",
            "-m",
            "costs compare: the working tree",
        ],
        &[],
    )
}

/// A worktree of this repository, removed (and pruned) when dropped.
pub struct Worktree {
    path: PathBuf,
}

impl Worktree {
    /// Checks `commit` out afresh at [`WORKTREE`], clearing whatever an earlier, interrupted
    /// run left there.
    pub fn at(commit: &str) -> Result<Worktree, BadInput> {
        let path = PathBuf::from(WORKTREE);
        let _ = git(&["worktree", "remove", "--force", WORKTREE], &[]);
        let _ = std::fs::remove_dir_all(&path);
        git(&["worktree", "prune"], &[])?;
        git(
            &["worktree", "add", "--quiet", "--detach", WORKTREE, commit],
            &[],
        )?;
        Ok(Worktree { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the worktree to another commit, discarding what was changed in it (a lock
    /// file a [`Pin`] rewrote).
    pub fn check_out(&self, commit: &str) -> Result<(), BadInput> {
        let tree = self.path.to_string_lossy();
        git(
            &[
                "-C", &tree, "checkout", "--quiet", "--force", "--detach", commit,
            ],
            &[],
        )
        .map(drop)
    }

    /// Removes the lock file if git does not track it (a build resolved it here).
    pub fn remove_untracked_lock(&self) -> Result<(), BadInput> {
        let tree = self.path.to_string_lossy();
        let tracked = git(
            &["-C", &tree, "ls-files", "--error-unmatch", "Cargo.lock"],
            &[],
        );
        if tracked.is_err() {
            let lock = self.path.join("Cargo.lock");
            if let Err(e) = std::fs::remove_file(&lock)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                return Err(BadInput::Unwritable(lock, e));
            }
        }
        Ok(())
    }

    /// Sets a dependency to the version `pin` names, in this tree's lock file only.
    pub fn pin(&self, pin: &Pin) -> Result<(), BadInput> {
        let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cargo
            .current_dir(&self.path)
            .args([
                "update",
                "--quiet",
                "-p",
                &pin.name,
                "--precise",
                &pin.version,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        let cannot = |why: &str| BadInput::Cannot(format!("cannot put {pin} on the base: {why}"));
        let (status, stderr) =
            errors_bounded(&mut cargo, UPDATE_LIMIT).map_err(|e| cannot(&e.to_string()))?;
        if !status.success() {
            // cargo's own reason (no such package, no such version), on the one line.
            let said = String::from_utf8_lossy(&stderr);
            let reason = said
                .lines()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or("cargo update failed");
            return Err(cannot(reason));
        }
        eprintln!(
            "base: {pin} (cargo update -p {} --precise {})",
            pin.name, pin.version
        );
        Ok(())
    }

    /// Builds the benches checked out here into [`TARGET_DIR`].
    pub fn build(&self) -> Result<Vec<BenchBinary>, BadInput> {
        eprintln!("building the benches in {}", self.path.display());
        // cargo runs inside the tree: a relative target directory would land there.
        let target_dir = std::env::current_dir().unwrap_or_default().join(TARGET_DIR);
        executables::build(&self.path, Some(&target_dir), None).map_err(BadInput::Cannot)
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        let _ = git(&["worktree", "remove", "--force", WORKTREE], &[]);
        let _ = git(&["worktree", "prune"], &[]);
    }
}

/// Copies each executable to `into/<bench name>`, replacing what was there.
pub fn keep(built: &[BenchBinary], into: &Path) -> Result<(), BadInput> {
    let _ = std::fs::remove_dir_all(into);
    std::fs::create_dir_all(into).map_err(|e| BadInput::Unwritable(into.into(), e))?;
    for binary in built {
        let copy = into.join(&binary.name);
        std::fs::copy(&binary.path, &copy).map_err(|e| BadInput::Unwritable(copy, e))?;
    }
    eprintln!("{} bench executables in {}", built.len(), into.display());
    Ok(())
}

/// The two builds of a comparison, each a directory of bench executables.
pub struct BuiltSides {
    pub base_commit: String,
    pub head_commit: String,
    pub base: PathBuf,
    pub head: PathBuf,
}

/// Builds `base` (a revision, with its dependencies set to `pins`) and the working tree, one
/// after the other in one worktree, into `target/compare/base-bin` and `target/compare/head-bin`.
pub fn base_and_working_tree(base: &str, pins: &[Pin]) -> Result<BuiltSides, BadInput> {
    let base_commit = resolve(base)?;
    let head_commit = snapshot_of_working_tree()?;
    let sides = BuiltSides {
        base_commit,
        head_commit,
        base: PathBuf::from("target/compare/base-bin"),
        head: PathBuf::from("target/compare/head-bin"),
    };
    let tree = Worktree::at(&sides.base_commit)?;
    for pin in pins {
        tree.pin(pin)?;
    }
    keep(&tree.build()?, &sides.base)?;
    tree.check_out(&sides.head_commit)?;
    // A lock file the base's build resolved (the suite commits none) stays for the head's,
    // so both sides build with the same versions, unless the base's were pinned.
    if !pins.is_empty() {
        tree.remove_untracked_lock()?;
    }
    keep(&tree.build()?, &sides.head)?;
    Ok(sides)
}
