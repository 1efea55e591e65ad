//! The `rota` command: thin glue between the command line and the libraries.
//!
//! Parses arguments (clap), loads the schedules directory, runs one command and maps failures to
//! exit codes: 0 ok, 1 invalid input or schedule, 2 usage error (clap's own exit code). Errors are
//! printed with their whole chain (`{:#}`).

mod cli;
mod output;
mod schedules;
mod serve;
mod timeoff;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    // Logs go to stderr, one line per event; ROTA_LOG (or RUST_LOG) sets the level.
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROTA_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // ROTA_LOG_FORMAT=json: one JSON object a line (timestamp, level, fields, message), for log
    // shippers; text otherwise.
    match std::env::var("ROTA_LOG_FORMAT").as_deref() {
        Ok("json") => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_target(false)
            .init(),
        Ok("text") | Ok("") | Err(_) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .init(),
        Ok(other) => {
            eprintln!("error: ROTA_LOG_FORMAT={other:?}: expected text or json");
            return ExitCode::from(1);
        }
    }
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
