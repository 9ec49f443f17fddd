//! `costs flamegraph`: a flamegraph from `perf script` output, kernel frames included, for
//! the costs that are spent in the kernel (a context switch, a fork), which a profiler inside
//! the process cannot sample.

use inferno::collapse::Collapse;
use inferno::collapse::perf::Folder;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::process::ExitCode;

/// Folds the stacks `perf script` printed (from `input`, or standard input) and writes the
/// flamegraph to `output`.
pub fn flamegraph(input: Option<&Path>, output: &Path, title: &str) -> ExitCode {
    match draw(input, output, title) {
        Ok(0) => {
            eprintln!("costs: no stacks in the input: was it recorded with perf record -g?");
            ExitCode::from(1)
        }
        Ok(stacks) => {
            eprintln!(
                "costs: wrote {} ({stacks} distinct stacks)",
                output.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("costs: {e}");
            ExitCode::from(2)
        }
    }
}

fn draw(input: Option<&Path>, output: &Path, title: &str) -> Result<usize, String> {
    let mut script = Vec::new();
    match input {
        Some(path) => File::open(path)
            .and_then(|mut f| f.read_to_end(&mut script))
            .map_err(|e| format!("{}: {e}", path.display()))?,
        None => io::stdin()
            .read_to_end(&mut script)
            .map_err(|e| format!("standard input: {e}"))?,
    };
    let mut folded = Vec::new();
    Folder::default()
        .collapse(BufReader::new(script.as_slice()), &mut folded)
        .map_err(|e| format!("cannot fold the perf script: {e}"))?;
    let folded = String::from_utf8_lossy(&folded);
    let stacks: Vec<&str> = folded.lines().filter(|l| !l.is_empty()).collect();
    if stacks.is_empty() {
        return Ok(0);
    }
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_string();
    options.count_name = "samples".into();
    let mut svg = Vec::new();
    inferno::flamegraph::from_lines(&mut options, stacks.iter().copied(), &mut svg)
        .map_err(|e| format!("cannot draw the flamegraph: {e}"))?;
    concurrency_costs::durable::write_atomically(output, &svg)
        .map_err(|e| format!("{}: {e}", output.display()))?;
    Ok(stacks.len())
}
