//! The `rota` command: thin glue between the command line and the libraries.
//!
//! Parses arguments (clap), loads the schedules directory, runs one command and maps failures to
//! exit codes: 0 ok, 1 invalid input or schedule, 2 usage error (clap's own exit code). Errors are
//! printed with their whole chain (`{:#}`).

mod cli;
mod output;
mod schedules;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let mut stdout = std::io::stdout().lock();
    match cli::run(args, &mut stdout) {
        Ok(code) => code,
        Err(err) => {
            let _ = stdout.flush();
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
