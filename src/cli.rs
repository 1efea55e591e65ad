//! The command line: one subcommand per use (the README's "The CLI" section), and what each
//! one does.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, Utc};
use clap::{Args, Parser, Subcommand};
use rota_core::{Schedule, Tz, tz::parse_instant};

use crate::{output, schedules};

/// `rota --version`: the package version and the git revision it was built from (build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git ",
    env!("ROTA_GIT_REV"),
    ")"
);

/// rota: on-call rotations (Support Hero and team secondaries) with swaps that never alter the order.
#[derive(Parser, Debug)]
#[command(name = "rota", version = VERSION, about, long_about = None)]
pub struct Cli {
    /// The schedules directory: every *.toml file in it is merged into one schedule.
    #[arg(
        long,
        global = true,
        env = "ROTA_SCHEDULES",
        default_value = "schedules",
        value_name = "DIR"
    )]
    schedules: PathBuf,

    /// Keep the run-time state in this PostgreSQL database (postgres://user:password@host/db)
    /// instead of the SQLite file of --state: for several `rota serve` replicas on one
    /// database. `--state postgres://...` means the same.
    #[arg(
        long,
        global = true,
        env = "ROTA_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database_url: Option<String>,

    /// A config file (TOML): one key per setting, named after its environment variable without
    /// ROTA_, in lower case (`smtp_host = "..."`). The command line and the environment win over
    /// it. `rota config` prints the effective configuration.
    #[arg(long, global = true, env = "ROTA_CONFIG", value_name = "FILE")]
    config: Option<String>,

    /// Log level and filters (tracing's syntax: `info`, `debug`, `rota=debug,actix=warn`);
    /// RUST_LOG is read when this is unset.
    #[arg(long, global = true, env = "ROTA_LOG", value_name = "FILTER")]
    pub log: Option<String>,

    /// Log format: `text`, or `json` (one JSON object a line, for log shippers).
    #[arg(
        long,
        global = true,
        env = "ROTA_LOG_FORMAT",
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub log_format: String,

    #[command(subcommand)]
    command: Command,

    /// The command as built for this run (with the config file's values as defaults), for
    /// `rota config`. Set by main.
    #[arg(skip)]
    pub built_command: clap::Command,
    /// The whole command line as parsed, for `rota config`. Set by main.
    #[arg(skip)]
    pub matches: clap::ArgMatches,
    /// The config file's values. Set by main.
    #[arg(skip)]
    pub file: Option<crate::config::FileValues>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate the schedule files; print every problem as file:line:col and exit 1 if any.
    /// With --conflicts, also read the absence calendars and list the shifts whose person is away
    /// (exit 1 if there are any), with the colleagues who could trade.
    Check(CheckArgs),
    /// Who is the Support Hero (the person on call in `hero_rotation`).
    Whoishero(At),
    /// Who is on call in every rotation.
    Oncall(At),
    /// The resolved shifts of one rotation, or of one person in all rotations. The table shows one
    /// row per continuous stretch of a person in a rotation; --json lists the API's per-slot
    /// shifts.
    Shifts(ShiftsArgs),
    /// Which hours of each shift of a rotation fall outside the on-call person's working hours
    /// (`hours` in the people file), and which colleagues are inside theirs then.
    Coverage(CoverageArgs),
    /// Write a calendar (.ics) of one rotation or one person to stdout: the same text the service's
    /// feed serves.
    Ics(IcsArgs),
    /// Run the service: JSON API, calendar feeds, pages, email reminders. Every setting is an
    /// option here, an environment variable, and a key of the config file (--config).
    Serve(ServeArgs),
    /// Print the effective configuration of `rota serve` (the same options), where each value
    /// came from, with secrets masked. The output is itself a config file.
    Config {
        #[command(flatten)]
        serve: ServeArgs,
        /// Print JSON instead: key, env, flag, value, source and secret for each setting.
        #[arg(long)]
        json: bool,
    },
    /// API tokens for writes (`Authorization: Bearer TOKEN`).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Calendar feed URLs, which carry a secret per-person token.
    #[command(subcommand)]
    Feed(FeedCommand),
    /// The fairness report: per person and rotation, shifts, on-call, weekend and public-holiday
    /// hours, overrides given and taken, and the spread between the most and least loaded.
    Report(WindowArgs),
    /// Send the email reminders and change notices that are due (SMTP settings from ROTA_SMTP_*;
    /// see the README, "Email reminders").
    Remind(RemindArgs),
    /// Copy the run-time state from one store to another: a SQLite file into PostgreSQL when a
    /// team moves to replicas, or back. The target must be new or empty; every table is copied
    /// in one transaction and compared row for row afterwards.
    Migrate(MigrateArgs),
    /// Write a consistent copy of the SQLite state file to FILE while the service runs (SQLite's
    /// online backup API). Restore by stopping the service and putting the copy in place.
    Backup(BackupArgs),
    /// Read another tool's schedule into rota schedule files in a directory: PagerDuty,
    /// Opsgenie and Grafana OnCall from their APIs' JSON, any tool from its on-call calendar.
    /// What could not be carried over is printed and written to DIR/IMPORT-REPORT.md.
    #[command(subcommand)]
    Import(crate::import::ImportCommand),
    /// Print a shell completion script: `rota completions bash > /etc/bash_completion.d/rota`
    /// (or zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `rota man > rota.1; man ./rota.1`. With COMMAND, that
    /// command's page (`rota-whoishero(1)`), with all of its options.
    Man {
        /// A subcommand, e.g. whoishero.
        command: Option<String>,
    },
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Also list conflicts: shifts whose person's absence calendar says they are away.
    #[arg(long)]
    conflicts: bool,
    #[command(flatten)]
    window: WindowArgs,
}

#[derive(Args, Debug)]
struct WindowArgs {
    /// Start of the window: RFC 3339 or a date (midnight in the hero rotation's zone). Default:
    /// now for conflicts, 91 days ago for the report.
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// End of the window (exclusive). Default: 91 days after now.
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// Print JSON (the service's shape) instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    state: ServedState,
    /// Pretend it is TIME (RFC 3339): shifts that started are not offered for trades.
    #[arg(long, value_name = "TIME", hide = true)]
    now: Option<String>,
}

#[derive(Args, Debug)]
struct RemindArgs {
    /// Run once and exit (for cron); otherwise run every --interval seconds until stopped.
    #[arg(long)]
    once: bool,
    /// Print what would be sent, to whom and why; send nothing and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Seconds between runs without --once.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    interval: u64,
    /// Pretend it is TIME (RFC 3339). For tests and for previewing with --dry-run.
    #[arg(long, value_name = "TIME", hide = true)]
    now: Option<String>,
    #[command(flatten)]
    state: StateArg,
    /// The URL people reach rota at, for the links in emails.
    #[arg(long, env = "ROTA_BASE_URL", value_name = "URL")]
    base_url: Option<String>,
    #[command(flatten)]
    mail: MailArgs,
}

#[derive(Args, Debug)]
struct MigrateArgs {
    /// The store to copy from: a SQLite file or a postgres:// URL.
    #[arg(long, value_name = "PATH|URL")]
    from: String,
    /// The store to copy into (new or empty): a SQLite file or a postgres:// URL.
    #[arg(long, value_name = "PATH|URL")]
    to: String,
}

#[derive(Args, Debug)]
struct BackupArgs {
    /// Where to write the copy (must not exist).
    file: PathBuf,
    #[command(flatten)]
    state: StateArg,
}

#[derive(Args, Debug)]
pub(crate) struct StateArg {
    /// The state file (SQLite; created on first use), or a postgres:// URL (see
    /// --database-url).
    #[arg(
        long = "state",
        env = "ROTA_STATE",
        default_value = "rota.db",
        value_name = "PATH"
    )]
    pub path: PathBuf,
}

/// The state file of a query command: read, never created.
#[derive(Args, Debug)]
struct ServedState {
    /// The state file `rota serve` uses: its run-time overrides (API overrides, accepted swaps)
    /// are included, so the answer is the service's. Never created; when missing, the schedule
    /// files alone are shown (and stderr says so).
    #[arg(
        long = "state",
        env = "ROTA_STATE",
        default_value = "rota.db",
        value_name = "PATH"
    )]
    path: PathBuf,
}

#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(
        long,
        env = "ROTA_BIND",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub bind: String,
    #[command(flatten)]
    pub state: StateArg,
    /// The URL people reach rota at (`https://rota.example.com`): the links in emails, and the
    /// origin that page forms must come from.
    #[arg(long, env = "ROTA_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// Reverse proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-* headers
    /// are believed. Nobody's, by default.
    #[arg(long, env = "ROTA_TRUSTED_PROXIES", value_name = "ADDRS")]
    pub trusted_proxies: Option<String>,
    /// A header naming the signed-in person, set by a trusted single sign-on proxy
    /// (X-Remote-User). Off by default: turn it on only when every request passes that proxy.
    #[arg(long, env = "ROTA_TRUSTED_USER_HEADER", value_name = "HEADER")]
    pub trusted_user_header: Option<String>,
    /// How often to look for writes by other replicas or the CLI (milliseconds, 50 to 60000).
    #[arg(
        long,
        env = "ROTA_STATE_POLL_MS",
        default_value_t = 500,
        value_name = "MS",
        value_parser = poll_ms
    )]
    pub state_poll_ms: u64,
    /// Seconds between reads of the absence and holiday calendars given by URL.
    #[arg(
        long,
        env = "ROTA_CALENDAR_REFRESH",
        default_value_t = rota_server::calendars::DEFAULT_REFRESH.as_secs(),
        value_name = "SECS",
        value_parser = at_least_one_second
    )]
    pub calendar_refresh: u64,
    /// Seconds between reminder runs (with SMTP configured).
    #[arg(
        long,
        env = "ROTA_REMIND_INTERVAL",
        default_value_t = 60,
        value_name = "SECS",
        value_parser = at_least_one_second
    )]
    pub remind_interval: u64,
    /// A bearer token that /metrics asks for (Authorization: Bearer TOKEN); open without it.
    #[arg(
        long,
        env = "ROTA_METRICS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// The Slack app's signing secret: with it, rota answers the slash commands /whoishero and
    /// /oncall at /integrations/slack/commands (README, "Slack").
    #[arg(
        long,
        env = "ROTA_SLACK_SIGNING_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub slack_signing_secret: Option<String>,
    /// The Slack app's bot token (xoxb-...): with it, rota keeps each rotation's user group,
    /// channel topic and handoff messages as its [rotations.ID.slack] table says.
    #[arg(
        long,
        env = "ROTA_SLACK_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub slack_token: Option<String>,
    /// Slack's Web API (a stand-in for tests).
    #[arg(
        long,
        env = "ROTA_SLACK_API_URL",
        default_value = rota_notify::slack::DEFAULT_API_URL,
        value_name = "URL"
    )]
    pub slack_api_url: String,
    #[command(flatten)]
    pub mail: MailArgs,
}

/// A whole number, spaces around it allowed (as the environment variables always were).
fn whole(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<u64>()
        .map_err(|_| format!("{s:?} is not a whole number"))
}

/// `--state-poll-ms`: clamped to 50 ms to 60 s, as it always was.
fn poll_ms(s: &str) -> Result<u64, String> {
    whole(s).map(|v| v.clamp(50, 60_000))
}

/// Seconds, at least one (0 means 1, as it always did).
fn at_least_one_second(s: &str) -> Result<u64, String> {
    whole(s).map(|v| v.max(1))
}

/// The email settings (SMTP and reminders), shared by `rota serve` and `rota remind`.
#[derive(Args, Debug, Clone)]
pub(crate) struct MailArgs {
    /// The SMTP server; email is off without it.
    #[arg(long, env = "ROTA_SMTP_HOST", value_name = "HOST")]
    smtp_host: Option<String>,
    /// The SMTP port: default 587 (starttls), 465 (tls), 25 (plain).
    #[arg(long, env = "ROTA_SMTP_PORT", value_name = "PORT")]
    smtp_port: Option<String>,
    /// `starttls` (default), `tls` (implicit TLS) or `plain` (no TLS: a local relay).
    #[arg(long, env = "ROTA_SMTP_SECURITY", value_name = "MODE")]
    smtp_security: Option<String>,
    /// The SMTP user name, if the server wants one.
    #[arg(long, env = "ROTA_SMTP_USERNAME", value_name = "USER")]
    smtp_username: Option<String>,
    /// The SMTP password. Prefer the environment or the config file: a command line is visible
    /// to every user of the machine.
    #[arg(
        long,
        env = "ROTA_SMTP_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    smtp_password: Option<String>,
    /// The From address, e.g. "rota <rota@example.com>" (required with --smtp-host).
    #[arg(long, env = "ROTA_SMTP_FROM", value_name = "ADDRESS")]
    smtp_from: Option<String>,
    /// Seconds per SMTP command (default 30).
    #[arg(long, env = "ROTA_SMTP_TIMEOUT", value_name = "SECS")]
    smtp_timeout: Option<String>,
    /// The name rota gives in EHLO (default this host's name).
    #[arg(long, env = "ROTA_SMTP_EHLO_NAME", value_name = "NAME")]
    smtp_ehlo_name: Option<String>,
    /// When reminders go out before a shift (default "7 days, 1 day").
    #[arg(long, env = "ROTA_REMIND_LEADS", value_name = "LEADS")]
    remind_leads: Option<String>,
}

impl MailArgs {
    /// The settings by environment variable name, as rota-notify reads them; `base_url` is
    /// `ROTA_BASE_URL`.
    pub fn lookup<'a>(&'a self, base_url: Option<&'a str>) -> impl Fn(&str) -> Option<String> + 'a {
        move |k: &str| {
            let v = match k {
                "ROTA_SMTP_HOST" => self.smtp_host.as_deref(),
                "ROTA_SMTP_PORT" => self.smtp_port.as_deref(),
                "ROTA_SMTP_SECURITY" => self.smtp_security.as_deref(),
                "ROTA_SMTP_USERNAME" => self.smtp_username.as_deref(),
                "ROTA_SMTP_PASSWORD" => self.smtp_password.as_deref(),
                "ROTA_SMTP_FROM" => self.smtp_from.as_deref(),
                "ROTA_SMTP_TIMEOUT" => self.smtp_timeout.as_deref(),
                "ROTA_SMTP_EHLO_NAME" => self.smtp_ehlo_name.as_deref(),
                "ROTA_REMIND_LEADS" => self.remind_leads.as_deref(),
                "ROTA_BASE_URL" => base_url,
                _ => None,
            };
            // Unset and empty are the same, as they were for plain environment variables.
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        }
    }
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Issue a new API token for PERSON and print it (it is shown only once).
    Issue {
        /// The person id.
        person: String,
        #[command(flatten)]
        state: StateArg,
    },
    /// Revoke a token, given its id (from `rota token list`) or the token itself.
    Revoke {
        /// Token id or token.
        token: String,
        #[command(flatten)]
        state: StateArg,
    },
    /// List tokens (ids and owners, never the secrets).
    List {
        #[command(flatten)]
        state: StateArg,
    },
}

#[derive(Subcommand, Debug)]
enum FeedCommand {
    /// Print PERSON's calendar feed URL.
    Url {
        /// The person id.
        person: String,
        /// The service's public base URL.
        #[arg(
            long,
            env = "ROTA_BASE_URL",
            default_value = "http://127.0.0.1:8080",
            value_name = "URL"
        )]
        base_url: String,
        #[command(flatten)]
        state: StateArg,
    },
    /// Make a new feed token for PERSON; the old URL stops working.
    Rotate {
        /// The person id.
        person: String,
        /// The service's public base URL.
        #[arg(
            long,
            env = "ROTA_BASE_URL",
            default_value = "http://127.0.0.1:8080",
            value_name = "URL"
        )]
        base_url: String,
        #[command(flatten)]
        state: StateArg,
    },
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("who").required(true).args(["rotation", "person"]))]
struct IcsArgs {
    /// The rotation id.
    rotation: Option<String>,
    /// A person id instead of a rotation: their shifts in every rotation.
    #[arg(long, value_name = "ID")]
    person: Option<String>,
    #[command(flatten)]
    state: ServedState,
}

#[derive(Args, Debug)]
struct At {
    /// The instant to ask about: RFC 3339 (2026-12-07T10:00:00Z) or a date (2026-12-07: midnight
    /// in the display zone). Default: now.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Show times in this IANA zone (default: each rotation's own zone).
    #[arg(long, value_name = "ZONE", value_parser = parse_tz)]
    tz: Option<Tz>,
    #[command(flatten)]
    state: ServedState,
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("who").required(true).args(["rotation", "person"]))]
struct ShiftsArgs {
    /// The rotation id.
    rotation: Option<String>,
    /// A person id instead of a rotation: their shifts in every rotation.
    #[arg(long, value_name = "ID")]
    person: Option<String>,
    /// Start of the range: RFC 3339 or a date (midnight in the display zone). Default: now.
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// End of the range (exclusive). Default: 28 days after --from.
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Show times in this IANA zone (default: each rotation's own zone; for --person, the
    /// person's zone if the schedule gives one).
    #[arg(long, value_name = "ZONE", value_parser = parse_tz)]
    tz: Option<Tz>,
    #[command(flatten)]
    state: ServedState,
}

#[derive(Args, Debug)]
struct CoverageArgs {
    /// The rotation id.
    rotation: String,
    /// Start of the range: RFC 3339 or a date (midnight in the display zone). Default: now.
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// End of the range (exclusive). Default: 14 days after --from.
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// Print JSON (the API's shape) instead of text.
    #[arg(long)]
    json: bool,
    /// Show times in this IANA zone (default: the rotation's).
    #[arg(long, value_name = "ZONE", value_parser = parse_tz)]
    tz: Option<Tz>,
    #[command(flatten)]
    state: ServedState,
}

/// `--tz`: the schedule files' rule and message, with the closest zone name when one is close.
fn parse_tz(s: &str) -> Result<Tz, String> {
    rota_core::tz::parse_zone(s)
}

/// The longest range `shifts` accepts, so a typo in a year cannot ask for millennia of output.
const MAX_RANGE_DAYS: i64 = 366 * 20;

fn time_arg(
    arg: &Option<String>,
    name: &str,
    zone: Tz,
    default: DateTime<Utc>,
) -> anyhow::Result<DateTime<Utc>> {
    match arg {
        None => Ok(default),
        Some(s) => parse_instant(s, zone).with_context(|| format!("--{name}")),
    }
}

/// Runs one command, writing its output to `out`.
pub fn run(mut cli: Cli, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let now = Utc::now();
    if let Some(url) = cli.database_url.take() {
        use_database(&mut cli.command, &url)?;
    }
    match cli.command {
        Command::Check(a) => {
            // With --conflicts --json, stdout is one JSON document (the service's shape): the
            // summary line of the files' check goes to stderr then.
            let code = if a.conflicts && a.window.json {
                check(&cli.schedules, &mut std::io::stderr())?
            } else {
                check(&cli.schedules, out)?
            };
            if code != ExitCode::SUCCESS || !a.conflicts {
                return Ok(code);
            }
            let (schedule, window, now) = window(&cli.schedules, &a.window, now, 0)?;
            crate::timeoff::conflicts(&schedule, &cli.schedules, window, now, a.window.json, out)
        }
        Command::Report(a) => {
            let (schedule, window, now) = window(&cli.schedules, &a, now, 91)?;
            crate::timeoff::report(&schedule, &cli.schedules, window, now, a.json, out)
        }
        Command::Whoishero(a) => {
            let schedule = schedules::served(&cli.schedules, &a.state.path, now)?;
            let Some(hero) = schedule.hero_rotation() else {
                // whoishero names the problem (no hero_rotation) and how to fix it.
                schedule.whoishero(now)?;
                bail!("the schedule has no hero rotation");
            };
            let zone = a.tz.unwrap_or(hero.timezone);
            let at = time_arg(&a.at, "at", zone, now)?;
            let shift = schedule.whoishero(at)?;
            if a.json {
                output::json_one(out, shift.as_ref())?;
            } else {
                match &shift {
                    Some(s) => output::paragraph(out, &hero.name, s, zone)?,
                    None => writeln!(
                        out,
                        "Nobody is {} at {}: {}.",
                        hero.name,
                        output::local(at, zone),
                        why_nobody(&schedule, hero, at, zone)
                    )?,
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Oncall(a) => {
            let schedule = schedules::served(&cli.schedules, &a.state.path, now)?;
            let at = time_arg(&a.at, "at", a.tz.unwrap_or(Tz::UTC), now)?;
            let shifts = schedule.on_call_all(at);
            if a.json {
                output::json_array(out, &shifts)?;
            } else {
                let zone = a.tz.unwrap_or(Tz::UTC);
                if shifts.is_empty() {
                    writeln!(out, "Nobody is on call at {}.", output::local(at, zone))?;
                } else {
                    output::table(out, &shifts, a.tz)?;
                }
                // The rotations with nobody on call, and why.
                for r in schedule.rotations() {
                    if !shifts.iter().any(|s| s.rotation.id == r.id) {
                        writeln!(
                            out,
                            "{}: nobody on call, {}.",
                            r.name,
                            why_nobody(&schedule, r, at, zone)
                        )?;
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Shifts(a) => shifts(&cli.schedules, a, now, out),
        Command::Coverage(a) => coverage(&cli.schedules, a, now, out),
        Command::Ics(a) => ics(&cli.schedules, a, now, out),
        Command::Serve(a) => {
            crate::serve::serve(cli.schedules, a)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Config { json, .. } => {
            // Printed from the parsed command line (main keeps it), which saw exactly what
            // `rota serve` with the same options, environment and file would see.
            let lines = crate::config::effective(
                &cli.built_command,
                &cli.matches,
                "config",
                cli.file.as_ref(),
            );
            if json {
                serde_json::to_writer_pretty(&mut *out, &lines)?;
                writeln!(out)?;
            } else {
                out.write_all(crate::config::render(&lines).as_bytes())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(t) => token(&cli.schedules, t, now, out),
        Command::Feed(f) => feed(&cli.schedules, f, now, out),
        Command::Remind(a) => remind(&cli.schedules, a, out),
        Command::Migrate(a) => migrate(&a, out),
        Command::Backup(a) => {
            let store = open_store(&a.state.path)?;
            store.backup(&a.file)?;
            writeln!(
                out,
                "backed up {} to {}",
                store.location(),
                a.file.display()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(c) => crate::import::run(&cli.schedules, c, now, out),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            // Into a buffer first: clap_complete panics when its writer fails (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "rota", &mut script);
            out.write_all(&script)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { command } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            // Built, so global options (--schedules) reach each subcommand's page.
            cmd.build();
            let man = match command {
                None => clap_mangen::Man::new(cmd),
                Some(name) => {
                    let known: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
                    let Some(sub) = cmd.find_subcommand(&name) else {
                        return Err(unknown("command", &name, known.into_iter()));
                    };
                    // The page's title is rota-COMMAND, as git and cargo name theirs.
                    let title = format!("rota-{}", sub.get_name());
                    let sub = sub.clone().bin_name(format!("rota {}", sub.get_name()));
                    clap_mangen::Man::new(sub)
                        .title(title)
                        .source(format!("rota {VERSION}"))
                }
            };
            man.render(out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The schedule (with run-time overrides), the window `[from, to)` and "now" of a time-off
/// command. `from` defaults to `back_days` before now, `to` to 91 days after now (or after `from`
/// when only `from` is given).
#[allow(clippy::type_complexity)]
fn window(
    dir: &std::path::Path,
    a: &WindowArgs,
    now: DateTime<Utc>,
    back_days: i64,
) -> anyhow::Result<(
    std::sync::Arc<Schedule>,
    (DateTime<Utc>, DateTime<Utc>),
    DateTime<Utc>,
)> {
    let now = time_arg(&a.now, "now", Tz::UTC, now)?;
    let schedule = schedules::served(dir, &a.state.path, now)?;
    let zone = schedule.hero_rotation().map_or(Tz::UTC, |r| r.timezone);
    let from = time_arg(&a.from, "from", zone, now - Duration::days(back_days))?;
    let default_to = if a.from.is_some() {
        from + Duration::days(91 + back_days)
    } else {
        now + Duration::days(91)
    };
    let to = time_arg(&a.to, "to", zone, default_to)?;
    if to <= from {
        bail!(
            "--to ({}) must be after --from ({})",
            rota_core::view::utc(to),
            rota_core::view::utc(from)
        );
    }
    if to - from > Duration::days(MAX_RANGE_DAYS) {
        bail!("the window is longer than {MAX_RANGE_DAYS} days");
    }
    Ok((schedule, (from, to), now))
}

/// The schedule as the service resolves it (files plus the state file's run-time overrides) and
/// the service's state over `store`, for commands that also write to the store.
fn resolved_schedule(
    dir: &std::path::Path,
    store: rota_store::Store,
    now: DateTime<Utc>,
) -> anyhow::Result<(std::sync::Arc<Schedule>, rota_server::AppState)> {
    let st = schedules::app_state(dir, store, now)?;
    Ok((st.snapshot().schedule.clone(), st))
}

fn remind(dir: &std::path::Path, a: RemindArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let env = a.mail.lookup(a.base_url.as_deref());
    let settings = rota_notify::Settings::from_env(&env)?;
    let fixed = match &a.now {
        Some(t) => Some(parse_instant(t, Tz::UTC).context("--now")?),
        None => None,
    };
    let clock = move || fixed.unwrap_or_else(Utc::now);
    if a.dry_run {
        let (schedule, state) = resolved_schedule(dir, open_store(&a.state.path)?, clock())?;
        let now = clock();
        let run = rota_notify::plan_run(&schedule, state.store(), &settings, now)?;
        let mut lines = rota_notify::describe(&run, now);
        let off = conflict_time_off(&schedule, dir, now)?;
        let conflicts =
            rota_notify::plan_conflict_run(&schedule, &off, state.store(), &settings, now)?;
        lines.extend(rota_notify::describe(&conflicts, now));
        if lines.is_empty() {
            writeln!(out, "nothing due at {}", rota_core::view::utc(now))?;
        }
        for l in lines {
            writeln!(out, "{l}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let smtp = rota_notify::SmtpConfig::from_env(&env)?.ok_or_else(|| {
        anyhow::anyhow!(
            "ROTA_SMTP_HOST is not set: set ROTA_SMTP_HOST and ROTA_SMTP_FROM (README, \"Email reminders\"), or use --dry-run"
        )
    })?;
    let settings = rota_notify::Settings {
        from: smtp.from.clone(),
        ..settings
    };
    let mailer = rota_notify::SmtpMailer::new(&smtp)?;
    loop {
        let (schedule, state) = resolved_schedule(dir, open_store(&a.state.path)?, clock())?;
        let mut report =
            rota_notify::run_once(&schedule, state.store(), &mailer, &settings, &clock)?;
        let off = conflict_time_off(&schedule, dir, clock())?;
        let c =
            rota_notify::run_conflicts(&schedule, &off, state.store(), &mailer, &settings, &clock)?;
        report.sent.extend(c.sent);
        report.failed.extend(c.failed);
        report.finished.extend(c.finished);
        report.skipped += c.skipped;
        writeln!(
            out,
            "sent {}, failed {}, superseded or expired {}, skipped {}",
            report.sent.len(),
            report.failed.len(),
            report.finished.len(),
            report.skipped
        )?;
        if a.once {
            return Ok(ExitCode::SUCCESS);
        }
        out.flush()?;
        std::thread::sleep(std::time::Duration::from_secs(a.interval.max(1)));
    }
}

/// Everyone's absences for conflict emails planned at `now` (the calendars are read once).
fn conflict_time_off(
    schedule: &Schedule,
    dir: &std::path::Path,
    now: DateTime<Utc>,
) -> anyhow::Result<rota_core::timeoff::TimeOff> {
    let (cals, _) = crate::timeoff::read_calendars(schedule, dir, now)?;
    let horizon = now + Duration::days(rota_notify::plan::CONFLICT_HORIZON_DAYS);
    Ok(cals.time_off_for(schedule, now, horizon, horizon))
}

fn known_person(schedule: &Schedule, id: &str) -> anyhow::Result<()> {
    if schedule.person(id).is_none() {
        return Err(unknown(
            "person",
            id,
            schedule.people().iter().map(|p| p.id.as_str()),
        ));
    }
    Ok(())
}

/// Opens the store a `--state` names: a SQLite file, or a PostgreSQL database for a
/// `postgres://` URL.
pub fn open_store(path: &std::path::Path) -> anyhow::Result<rota_store::Store> {
    let target = path.to_string_lossy();
    if rota_store::is_database_url(&target) {
        // The error names the database without its password.
        return Ok(rota_store::Store::open_postgres(&target)?);
    }
    rota_store::Store::open(path)
        .with_context(|| format!("opening the state file {}", path.display()))
}

/// `--database-url`: every command's store is that database instead of its `--state` file.
fn use_database(command: &mut Command, url: &str) -> anyhow::Result<()> {
    if !rota_store::is_database_url(url) {
        bail!("--database-url / ROTA_DATABASE_URL must start with postgres:// or postgresql://");
    }
    let url = PathBuf::from(url);
    match command {
        Command::Whoishero(a) | Command::Oncall(a) => a.state.path = url,
        Command::Shifts(a) => a.state.path = url,
        Command::Coverage(a) => a.state.path = url,
        Command::Ics(a) => a.state.path = url,
        Command::Check(a) => a.window.state.path = url,
        Command::Report(a) => a.state.path = url,
        Command::Serve(a) | Command::Config { serve: a, .. } => a.state.path = url,
        Command::Remind(a) => a.state.path = url,
        Command::Backup(a) => a.state.path = url,
        Command::Token(
            TokenCommand::Issue { state, .. }
            | TokenCommand::Revoke { state, .. }
            | TokenCommand::List { state },
        ) => state.path = url,
        Command::Feed(FeedCommand::Url { state, .. } | FeedCommand::Rotate { state, .. }) => {
            state.path = url
        }
        Command::Migrate(_)
        | Command::Import(_)
        | Command::Completions { .. }
        | Command::Man { .. } => {}
    }
    Ok(())
}

/// `rota migrate --from A --to B`: copies every table, then checks that both hold the same rows.
fn migrate(a: &MigrateArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let from = open_store(std::path::Path::new(&a.from))?;
    let to = open_store(std::path::Path::new(&a.to))?;
    if from.location() == to.location() {
        bail!("--from and --to are the same store ({})", from.location());
    }
    let counts = from.copy_into(&to)?;
    drop(to);
    let to = open_store(std::path::Path::new(&a.to))?;
    if from.dump()? != to.dump()? {
        bail!(
            "{} does not hold the same rows as {} after the copy; it was written in one \
             transaction, so check for writes to either during the copy and try again",
            to.location(),
            from.location()
        );
    }
    for c in &counts {
        writeln!(out, "{:>8} {}", c.rows, c.table)?;
    }
    writeln!(
        out,
        "copied {} to {}: every table compared equal",
        from.location(),
        to.location()
    )?;
    Ok(ExitCode::SUCCESS)
}

fn token(
    dir: &std::path::Path,
    cmd: TokenCommand,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    match cmd {
        TokenCommand::Issue { person, state } => {
            known_person(&schedules::load(dir)?, &person)?;
            let t = open_store(&state.path)?.issue_token(&person, "cli", now)?;
            writeln!(out, "{}", t.token)?;
            eprintln!(
                "token {} issued for {person}; it is shown only once. Revoke it with: rota token revoke {}",
                t.id, t.id
            );
        }
        TokenCommand::Revoke { token, state } => {
            let store = open_store(&state.path)?;
            if store.revoke_token(&token, "cli", now)? {
                writeln!(out, "revoked")?;
            } else {
                writeln!(out, "already revoked")?;
            }
        }
        TokenCommand::List { state } => {
            let tokens = open_store(&state.path)?.tokens()?;
            writeln!(
                out,
                "ID            PERSON        ISSUED                REVOKED"
            )?;
            for t in tokens {
                let revoked = t
                    .revoked_at
                    .map(rota_core::view::utc)
                    .unwrap_or_else(|| "-".into());
                writeln!(
                    out,
                    "{:<13} {:<13} {:<21} {revoked}",
                    t.id,
                    t.person,
                    rota_core::view::utc(t.created_at)
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn feed(
    dir: &std::path::Path,
    cmd: FeedCommand,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let (person, base_url, state, rotate) = match cmd {
        FeedCommand::Url {
            person,
            base_url,
            state,
        } => (person, base_url, state, false),
        FeedCommand::Rotate {
            person,
            base_url,
            state,
        } => (person, base_url, state, true),
    };
    known_person(&schedules::load(dir)?, &person)?;
    let store = open_store(&state.path)?;
    let token = if rotate {
        store.rotate_feed_token(&person, "cli", now)?
    } else {
        store.feed_token(&person)?
    };
    writeln!(
        out,
        "{}/calendars/people/{person}.ics?token={token}",
        base_url.trim_end_matches('/')
    )?;
    Ok(ExitCode::SUCCESS)
}

fn ics(
    dir: &std::path::Path,
    a: IcsArgs,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let schedule = schedules::served(dir, &a.state.path, now)?;
    let (stamp, from, to) = rota_server::ics::window(now);
    let text = match (&a.rotation, &a.person) {
        (Some(r), _) => {
            let rot = schedule.rotation(r).ok_or_else(|| {
                unknown(
                    "rotation",
                    r,
                    schedule.rotations().iter().map(|r| r.id.as_str()),
                )
            })?;
            rota_server::ics::render(&schedule, &rot.name, &schedule.shifts(r, from, to)?, stamp)
        }
        (None, Some(p)) => {
            known_person(&schedule, p)?;
            let name = &schedule
                .person(p)
                .map(|x| x.name.clone())
                .unwrap_or_default();
            rota_server::ics::render(
                &schedule,
                &format!("On call: {name}"),
                &schedule.shifts_for_person(p, from, to)?,
                stamp,
            )
        }
        (None, None) => bail!("give a ROTATION or --person ID"),
    };
    out.write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// `rota check`: every problem and warning of the schedule files in one run. Calendar files
/// (`absence`, `holidays` paths) must exist here; URLs are only fetched by `--conflicts`.
fn check(dir: &std::path::Path, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let files = schedules::read_dir(dir)?;
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    // The same rule the calendar reader applies: the real path, symlinks resolved, inside the
    // schedules directory, and a regular file (not a FIFO, which would hang the reader).
    let root = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let calendar_file = |path: &str| -> Result<(), String> {
        let full = dir.join(path);
        let real = std::fs::canonicalize(&full).map_err(|e| {
            format!(
                "cannot read calendar file {path:?} ({}): {e}; paths are relative to the schedules directory",
                full.display()
            )
        })?;
        if !real.starts_with(&root) {
            return Err(format!(
                "calendar {path:?} resolves outside the schedules directory (a symlink?); it is not read"
            ));
        }
        match std::fs::metadata(&real) {
            Ok(m) if m.is_file() => Ok(()),
            _ => Err(format!(
                "calendar {path:?} is not a regular file ({})",
                full.display()
            )),
        }
    };
    let checked = Schedule::check(&refs, &calendar_file);
    for w in &checked.warnings {
        eprintln!("warning: {w}");
    }
    let n_warn = checked.warnings.len();
    let warned = match n_warn {
        0 => String::new(),
        1 => ", 1 warning".to_string(),
        n => format!(", {n} warnings"),
    };
    match checked.schedule {
        Ok(s) => {
            writeln!(
                out,
                "ok: {} file{}, {} people, {} teams, {} rotations, {} links, {} overrides{warned}",
                files.len(),
                if files.len() == 1 { "" } else { "s" },
                s.people().len(),
                s.teams().len(),
                s.rotations().len(),
                s.links().len(),
                s.overrides().len()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            for d in e.diagnostics() {
                eprintln!("{d}");
            }
            let n = e.diagnostics().len();
            eprintln!(
                "error: {n} problem{} in {}{warned}",
                if n == 1 { "" } else { "s" },
                dir.display()
            );
            Ok(ExitCode::from(1))
        }
    }
}

fn shifts(
    dir: &std::path::Path,
    a: ShiftsArgs,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let schedule = schedules::served(dir, &a.state.path, now)?;
    let zone = match (&a.rotation, &a.person) {
        (Some(r), _) => {
            let rot = schedule.rotation(r).ok_or_else(|| {
                unknown(
                    "rotation",
                    r,
                    schedule.rotations().iter().map(|r| r.id.as_str()),
                )
            })?;
            a.tz.unwrap_or(rot.timezone)
        }
        (None, Some(p)) => {
            let person = schedule.person(p).ok_or_else(|| {
                unknown("person", p, schedule.people().iter().map(|p| p.id.as_str()))
            })?;
            a.tz.or(person.timezone).unwrap_or(Tz::UTC)
        }
        (None, None) => bail!("give a ROTATION or --person ID"),
    };
    let from = time_arg(&a.from, "from", zone, now)?;
    let to = time_arg(&a.to, "to", zone, from + Duration::days(28))?;
    if to <= from {
        bail!(
            "--to ({}) must be after --from ({})",
            rota_core::view::utc(to),
            rota_core::view::utc(from)
        );
    }
    if to - from > Duration::days(MAX_RANGE_DAYS) {
        bail!(
            "the range from --from to --to is longer than {MAX_RANGE_DAYS} days; ask for a shorter one"
        );
    }
    let list = match (&a.rotation, &a.person) {
        (Some(r), _) => schedule.shifts(r, from, to)?,
        (None, Some(p)) => schedule.shifts_for_person(p, from, to)?,
        (None, None) => bail!("give a ROTATION or --person ID"),
    };
    if a.json {
        output::json_array(out, &list)?;
    } else if list.is_empty() {
        writeln!(
            out,
            "No shifts between {} and {}.",
            output::local(from, zone),
            output::local(to, zone)
        )?;
    } else {
        let display = if a.tz.is_some() || a.person.is_some() {
            Some(zone)
        } else {
            None
        };
        output::table(out, &list, display)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// An unknown id, worded as `rota check` words it (with "did you mean").
fn unknown<'a>(what: &str, id: &str, known: impl Iterator<Item = &'a str>) -> anyhow::Error {
    let known: Vec<&str> = known.collect();
    anyhow::anyhow!("{}", rota_core::unknown_id_message(what, id, &known))
}

/// Why nobody is on call in `rot` at `at`: it has not started, or `at` is outside its `active`
/// windows; with who is on call next when that is within two weeks.
fn why_nobody(
    schedule: &Schedule,
    rot: &rota_core::Rotation,
    at: DateTime<Utc>,
    zone: Tz,
) -> String {
    // The first handoff of any layer (a plain rotation has one).
    let first = rot
        .layers
        .iter()
        .filter_map(|l| rota_core::tz::resolve(l.timezone, l.start).map(|r| r.instant))
        .min();
    let mut why = match (first, &rot.active) {
        (Some(s), _) if at < s && rot.layers.len() > 1 => {
            format!("the rotation starts {}", output::local(s, zone))
        }
        (Some(s), _) if at < s => {
            format!("the rotation starts {}", rot.start.format("%Y-%m-%d %H:%M"))
        }
        _ if rot.layers.len() > 1 => "no layer has anyone on call then".to_string(),
        (_, Some(w)) => format!(
            "outside its active hours ({}, {})",
            w.windows.join(", "),
            rot.timezone
        ),
        _ => "nobody holds this shift".to_string(),
    };
    if let Ok(Some(n)) = schedule.next_shift(&rot.id, at) {
        why.push_str(&format!(
            "; next: {} from {}",
            n.person.name,
            output::local(n.start, zone)
        ));
    }
    why
}

/// `rota coverage`: each shift's hours outside its person's working hours, and who is at work then.
fn coverage(
    dir: &std::path::Path,
    a: CoverageArgs,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let schedule = schedules::served(dir, &a.state.path, now)?;
    let rot = schedule.rotation(&a.rotation).ok_or_else(|| {
        unknown(
            "rotation",
            &a.rotation,
            schedule.rotations().iter().map(|r| r.id.as_str()),
        )
    })?;
    let zone = a.tz.unwrap_or(rot.timezone);
    let from = time_arg(&a.from, "from", zone, now)?;
    let to = time_arg(&a.to, "to", zone, from + Duration::days(14))?;
    if to <= from {
        bail!(
            "--to ({}) must be after --from ({})",
            rota_core::view::utc(to),
            rota_core::view::utc(from)
        );
    }
    if to - from > Duration::days(MAX_RANGE_DAYS) {
        bail!(
            "the range from --from to --to is longer than {MAX_RANGE_DAYS} days; ask for a shorter one"
        );
    }
    let list = schedule.coverage(&rot.id, from, to)?;
    if a.json {
        let views: Vec<rota_core::view::CoverageView<'_>> = list.iter().map(Into::into).collect();
        writeln!(out, "{}", serde_json::to_string(&views)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if list.is_empty() {
        writeln!(
            out,
            "No shifts of {} between {} and {}.",
            rot.name,
            output::local(from, zone),
            output::local(to, zone)
        )?;
    }
    for c in &list {
        let s = &c.shift;
        writeln!(
            out,
            "{}: {} to {}",
            s.person.name,
            output::local(s.start, zone),
            output::local(s.end, zone)
        )?;
        if !c.hours_known {
            writeln!(
                out,
                "  working hours unknown (no `hours` for {})",
                s.person.id
            )?;
        } else if c.gaps.is_empty() {
            writeln!(out, "  all inside their working hours")?;
        }
        for g in &c.gaps {
            let who: Vec<&str> = g.available.iter().map(|p| p.name.as_str()).collect();
            let who = if who.is_empty() {
                "nobody at work".to_string()
            } else {
                who.join(", ")
            };
            writeln!(
                out,
                "  outside their hours {} to {}: {}",
                output::local(g.start, zone),
                output::local(g.end, zone),
                who
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
