//! `costs claims`: the documents' figures beside the ones measured here.

use concurrency_costs::environment::Environment;
use concurrency_costs::hosts::{self, HostResults};
use std::path::Path;
use std::process::ExitCode;

/// What to write besides the table on standard output.
pub struct Outputs<'a> {
    pub markdown: Option<&'a Path>,
    pub svg: Option<&'a Path>,
    /// A directory for this host's results file.
    pub host_results: Option<&'a Path>,
    /// A README whose generated table to rewrite.
    pub readme: Option<&'a Path>,
}

/// Prints the claims report and writes what `outputs` asks for.
pub fn claims(criterion_dir: &Path, costs_dir: &Path, outputs: Outputs, json: bool) -> ExitCode {
    use concurrency_costs::claims::{Results, evaluate, ladder_svg};
    let results = Results::load(criterion_dir, costs_dir);
    let rows = evaluate(&results);
    let machine = Environment::capture().summary();
    if json {
        for row in &rows {
            println!("{}", serde_json::to_string(row).expect("a row serialises"));
        }
    } else {
        println!("machine: {machine}");
        println!("{}", concurrency_costs::claims::judged_summary(&rows));
        print!("{}", concurrency_costs::claims::text(&rows));
    }
    let mut files = vec![
        (
            outputs.markdown,
            concurrency_costs::claims::markdown(&rows, &machine),
        ),
        (outputs.svg, ladder_svg(&results, &machine)),
    ];
    if let Some(readme) = outputs.readme {
        let block = hosts::readme_block(&HostResults::measured_here(&results));
        let text = std::fs::read_to_string(readme).unwrap_or_default();
        match hosts::replace_readme_block(&text, &block) {
            Some(text) => files.push((Some(readme), text)),
            None => {
                eprintln!(
                    "costs: {} has no generated table between \"{}\" and \"{}\"",
                    readme.display(),
                    hosts::README_START,
                    hosts::README_END
                );
                return ExitCode::from(2);
            }
        }
    }
    for (path, contents) in files {
        let Some(path) = path else { continue };
        if let Err(e) = concurrency_costs::durable::write_atomically(path, contents.as_bytes()) {
            eprintln!("costs: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
        eprintln!("costs: wrote {}", path.display());
    }
    match outputs.host_results {
        Some(dir) => crate::hosts::keep_this_host(&results, dir),
        None => ExitCode::SUCCESS,
    }
}
