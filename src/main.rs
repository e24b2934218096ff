//! The `tamper` command: parses the command line and runs it; everything else is in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tamper::cli::run(tamper::cli::Cli::parse())
}
