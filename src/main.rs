//! The `rota` command: thin glue between the command line and the libraries.
//!
//! Parses arguments (clap), loads the schedules directory, runs one command and maps failures to
//! exit codes: 0 ok, 1 invalid input or schedule, 2 usage error (clap's own exit code). Errors are
//! printed with their whole chain (`{:#}`).

mod cli;
mod config;
mod import;
mod output;
mod schedules;
mod serve;
mod timeoff;
mod webhooks;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

/// Parses the command line, with the config file's values (`--config`, `ROTA_CONFIG`) as the
/// options' defaults (see [`config`]).
fn parse() -> Result<cli::Cli, ExitCode> {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut cmd = cli::Cli::command();
    let file = match config::config_path(&argv) {
        Some(path) => match config::read(&path, &cmd) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("error: {e:#}");
                return Err(ExitCode::from(1));
            }
        },
        None => None,
    };
    if let Some(f) = &file {
        cmd = config::apply(cmd, f);
    }
    let matches = cmd.clone().get_matches_from(argv);
    let mut args = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    cmd.build();
    args.built_command = cmd;
    args.matches = matches;
    args.file = file;
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(code) => return code,
    };
    // Logs go to stderr, one line per event. The filter: --log or ROTA_LOG, else RUST_LOG, else
    // the config file's `log`, else info. One that does not parse stops rota, naming it.
    use clap::parser::ValueSource;
    let explicit = matches!(
        args.matches.value_source("log"),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    );
    let rust_log = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let (name, spec) = match (&args.log, rust_log) {
        (Some(l), _) if explicit => ("ROTA_LOG (--log)", l.clone()),
        (_, Some(r)) => ("RUST_LOG", r),
        (Some(l), None) => ("the config file's log", l.clone()),
        (None, None) => ("the default", "info".to_string()),
    };
    let filter = match tracing_subscriber::EnvFilter::try_new(&spec) {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "error: {name}={spec:?} is not a log filter (info, debug, rota=debug,actix=warn): {e}"
            );
            return ExitCode::from(1);
        }
    };
    // ROTA_LOG_FORMAT=json: one JSON object a line (timestamp, level, fields, message), for log
    // shippers; text otherwise.
    match args.log_format.as_str() {
        "json" => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_target(false)
            .init(),
        "text" | "" => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .init(),
        other => {
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
