//! `costs hosts` and `costs fresh`: every host's figures side by side, and whether the
//! committed reports measured the code as it is now.

use concurrency_costs::environment::Environment;
use concurrency_costs::hosts::{self, HostResults};
use concurrency_costs::provenance::this_commit;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status of a report that is behind the measured code.
const STALE: u8 = 1;
/// Exit status of bad input: a file that cannot be read, or says no build.
const BAD_INPUT: u8 = 2;

fn write(path: &Path, contents: &str) -> Result<(), ExitCode> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    concurrency_costs::durable::write_atomically(path, contents.as_bytes()).map_err(|e| {
        eprintln!("costs: cannot write {}: {e}", path.display());
        ExitCode::from(BAD_INPUT)
    })?;
    eprintln!("costs: wrote {}", path.display());
    Ok(())
}

/// Imports `page` as a host file when asked, then writes the page and the ladder from every
/// host file in `dir`.
pub fn hosts(
    dir: &Path,
    markdown: &Path,
    svg: &Path,
    import: Option<&Path>,
    cpu_id: Option<&str>,
) -> ExitCode {
    if let Some(page) = import
        && let Err(code) = import_page(page, dir, cpu_id)
    {
        return code;
    }
    let all = match hosts::load_all(dir) {
        Ok(all) if all.is_empty() => {
            eprintln!("costs: no host file in {}", dir.display());
            return ExitCode::from(BAD_INPUT);
        }
        Ok(all) => all,
        Err(e) => {
            eprintln!("costs: {e}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    let files_from_page = relative(dir, markdown.parent().unwrap_or(Path::new(".")));
    let written = write(markdown, &hosts::page(&all, &files_from_page))
        .and_then(|()| write(svg, &hosts::ladder_svg(&all)));
    match written {
        Ok(()) => {
            eprintln!("costs: {} hosts side by side", all.len());
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

/// `to` as seen from directory `from`, for links in a page: both are taken from the
/// repository's root, as the defaults are.
fn relative(to: &Path, from: &Path) -> PathBuf {
    let ups = from.components().filter(|c| c.as_os_str() != ".").count();
    let mut path: PathBuf = std::iter::repeat_n("..", ups).collect();
    path.push(to);
    path
}

fn import_page(page: &Path, dir: &Path, cpu_id: Option<&str>) -> Result<(), ExitCode> {
    let text = std::fs::read_to_string(page).map_err(|e| {
        eprintln!("costs: cannot read {}: {e}", page.display());
        ExitCode::from(BAD_INPUT)
    })?;
    let name = page.display().to_string();
    let made_at = last_changed(page).unwrap_or_else(|| "unknown".into());
    let imported = hosts::import_page(&text, &name, &made_at, cpu_id).map_err(|e| {
        eprintln!("costs: {e}");
        ExitCode::from(BAD_INPUT)
    })?;
    for row in &imported.left_out {
        eprintln!("costs: {name}: left out {row}");
    }
    let path = hosts::keep(dir, &imported.results).map_err(|e| {
        eprintln!(
            "costs: cannot write the host file into {}: {e}",
            dir.display()
        );
        ExitCode::from(BAD_INPUT)
    })?;
    eprintln!(
        "costs: imported {} figures of {name} into {}",
        imported.results.rows.len(),
        path.display()
    );
    Ok(())
}

/// When git last changed `path`, as an ISO date: an imported page's figures are as old as
/// the page.
fn last_changed(path: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["log", "-1", "--format=%cI", "--"])
        .arg(path)
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let date = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!date.is_empty()).then_some(date)
}

/// Writes this host's results file into `dir` from what the claims report read.
pub fn keep_this_host(results: &concurrency_costs::claims::Results, dir: &Path) -> ExitCode {
    match hosts::keep(dir, &HostResults::measured_here(results)) {
        Ok(path) => {
            eprintln!("costs: wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "costs: cannot write this host's file into {}: {e}",
                dir.display()
            );
            ExitCode::from(BAD_INPUT)
        }
    }
}

/// The build a committed report was made from: a host file's, or the `Measured on:` line of
/// a markdown report.
fn stamp_of(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if path.extension().is_some_and(|e| e == "json") {
        let host: HostResults = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a host results file: {e}", path.display()))?;
        return Ok(host.host.commit);
    }
    text.lines()
        .find_map(|line| line.strip_prefix("Measured on: "))
        .and_then(|line| Environment::from_summary(line.trim()))
        .map(|env| env.commit)
        .ok_or_else(|| {
            format!(
                "{}: no \"Measured on:\" line says which build",
                path.display()
            )
        })
}

/// Whether each report measured this build's code: the last commit that changed measured
/// code, which build.rs stamps into every build. Exit 0 when all did, 1 when one is behind,
/// 2 when one cannot be read.
pub fn fresh(reports: &[PathBuf]) -> ExitCode {
    let now = this_commit();
    let mut status = ExitCode::SUCCESS;
    for report in reports {
        match stamp_of(report) {
            Ok(stamp) if stamp == now && !now.ends_with("-dirty") => {
                println!(
                    "fresh: {} measured {stamp}, the measured code's last commit",
                    report.display()
                );
            }
            Ok(stamp) => {
                println!(
                    "STALE: {} measured {stamp}; the measured code is now {now}. Measure again: scripts/claims.sh --publish",
                    report.display()
                );
                if status != ExitCode::from(BAD_INPUT) {
                    status = ExitCode::from(STALE);
                }
            }
            Err(e) => {
                eprintln!("costs: {e}");
                status = ExitCode::from(BAD_INPUT);
            }
        }
    }
    status
}
