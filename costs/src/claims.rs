//! `costs claims`: the documents' figures beside the ones measured here.

use concurrency_costs::environment::Environment;
use std::path::Path;
use std::process::ExitCode;

/// Prints the claims report and writes its markdown and SVG where asked.
pub fn claims(
    criterion_dir: &Path,
    costs_dir: &Path,
    markdown: Option<&Path>,
    svg: Option<&Path>,
    json: bool,
) -> ExitCode {
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
    let outputs = [
        (
            markdown,
            concurrency_costs::claims::markdown(&rows, &machine),
        ),
        (svg, ladder_svg(&results, &machine)),
    ];
    for (path, contents) in outputs {
        let Some(path) = path else { continue };
        if let Err(e) = concurrency_costs::durable::write_atomically(path, contents.as_bytes()) {
            eprintln!("costs: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
        eprintln!("costs: wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
