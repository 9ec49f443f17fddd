//! `criterion-gate`: the regression gate on the Criterion suite in the current directory.
//! Run it where `cargo bench` runs the suite; `--help` lists the commands.

use clap::Parser;
use criterion_gate::cli::{Command, parse, run};
use criterion_gate::host::Build;
use std::path::Path;
use std::process::ExitCode;

const EXAMPLES: &str = "Examples:
  criterion-gate compare --base v1.2.0                      (the working tree against a tag)
  criterion-gate compare --base HEAD --base-dependency tokio@1.40.0
  criterion-gate record && criterion-gate check --criterion-dir round-1
  criterion-gate regressed target/compare/check.json";

#[derive(Parser)]
#[command(version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

fn main() -> ExitCode {
    match parse::<Cli>("criterion-gate") {
        Ok(cli) => run(
            cli.command,
            &Build::of_suite(Path::new(".")),
            "criterion-gate",
        ),
        Err(code) => code,
    }
}
