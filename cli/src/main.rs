//! `relance`: parses the command line, finds the stack, runs one command, prints what it did
//! or an error that says what to do next (exit status 1; 2 for a command line clap refuses).

mod cli;

use clap::Parser;
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", relance::failure::chain(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}
