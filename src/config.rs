//! Configuration in one place.
//!
//! Every setting of rota is a command-line option with an environment variable (`rota serve
//! --help` lists them all), and may also be given in a config file: `--config FILE` or
//! `ROTA_CONFIG=FILE`. The file is TOML, one key per setting, named after its environment
//! variable without `ROTA_`, in lower case:
//!
//! ```toml
//! bind = "0.0.0.0:8080"
//! base_url = "https://rota.example.com"
//! trusted_proxies = ["10.0.0.0/8"]      # a list is joined with commas
//! smtp_host = "smtp.example.com"
//! smtp_port = 587
//! ```
//!
//! Precedence, highest first: the command line, the environment, the config file, the built-in
//! default. An unknown key or a value that is not a string, number, boolean or list of strings is
//! an error naming the file, line and key. `rota config` prints the effective configuration, where
//! each value came from, with secrets masked.
//!
//! How: clap reads the command line and the environment, and the file's values are handed to
//! clap as each option's default ([`apply`]), so the file cannot bypass an option's own parsing
//! and every command sees one set of values, wherever they came from.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::parser::ValueSource;
use clap::{ArgMatches, Command};
use toml::de::{DeTable, DeValue};

/// The environment variable naming the config file.
pub const CONFIG_ENV: &str = "ROTA_CONFIG";

/// The largest config file read.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// The values a config file gives, keyed by the environment variable they stand for.
#[derive(Debug, Default)]
pub struct FileValues {
    /// The file, as given.
    pub path: PathBuf,
    /// `ROTA_SMTP_HOST` -> `smtp.example.com`.
    pub values: BTreeMap<String, String>,
}

/// The config file named by `--config FILE` / `--config=FILE` in `args`, else by `ROTA_CONFIG`.
/// Read before clap parses, because the file's values become clap's defaults.
pub fn config_path(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(rest) = a.to_str().and_then(|s| s.strip_prefix("--config=")) {
            return Some(PathBuf::from(rest));
        }
    }
    std::env::var_os(CONFIG_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The file key of an environment variable: `ROTA_SMTP_HOST` -> `smtp_host`.
pub fn file_key(env: &str) -> String {
    env.strip_prefix("ROTA_")
        .unwrap_or(env)
        .to_ascii_lowercase()
}

/// Every option with an environment variable, in `cmd` and its subcommands: (env, option).
fn settings(cmd: &Command) -> Vec<(String, clap::Arg)> {
    let mut out = Vec::new();
    let mut stack = vec![cmd];
    while let Some(c) = stack.pop() {
        for a in c.get_arguments() {
            if let Some(env) = a.get_env().and_then(|e| e.to_str())
                && env != CONFIG_ENV
                && !out.iter().any(|(e, _): &(String, clap::Arg)| e == env)
            {
                out.push((env.to_string(), a.clone()));
            }
        }
        stack.extend(c.get_subcommands());
    }
    out
}

/// Reads and checks the config file at `path` against the settings `cmd` knows.
pub fn read(path: &Path, cmd: &Command) -> anyhow::Result<FileValues> {
    let meta = std::fs::metadata(path).with_context(|| {
        format!(
            "the config file {} ({CONFIG_ENV} or --config)",
            path.display()
        )
    })?;
    if !meta.is_file() {
        bail!("the config file {} is not a regular file", path.display());
    }
    if meta.len() > MAX_FILE_BYTES {
        bail!(
            "the config file {} is larger than {} KiB",
            path.display(),
            MAX_FILE_BYTES >> 10
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the config file {}", path.display()))?;
    let values = parse(path, &text, cmd)?;
    use std::os::unix::fs::PermissionsExt;
    let secrets: Vec<String> = settings(cmd)
        .iter()
        .filter(|(env, a)| a.is_hide_env_values_set() && values.values.contains_key(env))
        .map(|(env, _)| file_key(env))
        .collect();
    if !secrets.is_empty() && meta.permissions().mode() & 0o044 != 0 {
        eprintln!(
            "warning: {} holds secrets ({}) and other users may read it: chmod 600 it, or keep \
             secrets in the environment",
            path.display(),
            secrets.join(", ")
        );
    }
    Ok(values)
}

/// The `FILE:LINE:COL` of byte `offset` in `text`.
fn at(path: &Path, text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{}:{line}:{col}", path.display())
}

/// Parses a config file's text; every problem is reported at once, each at its place.
pub fn parse(path: &Path, text: &str, cmd: &Command) -> anyhow::Result<FileValues> {
    let known = settings(cmd);
    let mut problems = Vec::new();
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let where_ = at(path, text, e.span().map_or(0, |s| s.start));
            bail!(
                "{where_}: TOML syntax: {}",
                e.message().trim().replace('\n', " ")
            );
        }
    };
    let mut values = BTreeMap::new();
    for (k, v) in doc.get_ref().iter() {
        let key = k.get_ref().as_ref();
        let Some((env, _)) = known.iter().find(|(env, _)| file_key(env) == key) else {
            let names: Vec<String> = known.iter().map(|(e, _)| file_key(e)).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            problems.push(format!(
                "{}: {}",
                at(path, text, k.span().start),
                rota_core::unknown_id_message("setting", key, &names)
            ));
            continue;
        };
        let value = match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            DeValue::Boolean(b) => Some(b.to_string()),
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|n| n.to_string()),
            DeValue::Array(items) => items
                .iter()
                .map(|i| i.get_ref().as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .map(|v| v.join(",")),
            _ => None,
        };
        match value {
            Some(value) => {
                values.insert(env.clone(), value);
            }
            None => problems.push(format!(
                "{}: {key}: expected a string, a number, a boolean or a list of strings, found {}",
                at(path, text, v.span().start),
                v.get_ref().type_str()
            )),
        }
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(FileValues {
        path: path.to_path_buf(),
        values,
    })
}

/// `cmd` with the file's values as the defaults of the options they stand for, in every
/// subcommand: the command line and the environment still win.
pub fn apply(cmd: Command, file: &FileValues) -> Command {
    // `mut_args` keeps the options in their order (`mut_arg` moves one to the end).
    let mut cmd = cmd.mut_args(|a| {
        let value = a
            .get_env()
            .and_then(|e| e.to_str())
            .and_then(|env| file.values.get(env))
            .cloned();
        // A secret from the file must not show in `--help`'s "[default: ...]".
        let secret = a.is_hide_env_values_set();
        match value {
            Some(v) => a.default_value(v).hide_default_value(secret),
            None => a,
        }
    });
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in subs {
        cmd = cmd.mut_subcommand(name, |s| apply(s, file));
    }
    cmd
}

/// Where a setting's value came from.
fn source(
    m: &ArgMatches,
    id: &clap::Id,
    env: &str,
    flag: &str,
    file: Option<&FileValues>,
) -> String {
    match m.value_source(id.as_str()) {
        Some(ValueSource::CommandLine) => format!("command line ({flag})"),
        Some(ValueSource::EnvVariable) => format!("environment ({env})"),
        Some(ValueSource::DefaultValue) => match file {
            Some(f) if f.values.contains_key(env) => format!("config file ({})", f.path.display()),
            _ => "default".into(),
        },
        _ => "unset".into(),
    }
}

/// A secret's value as shown: `****`, or a URL with its password masked.
fn mask(value: &str) -> String {
    if value.is_empty() {
        return String::new();
    }
    // postgres://user:password@host/db?password=...: the URL stays useful, no password shows.
    if let Some((scheme, rest)) = value.split_once("://") {
        let (authority, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let authority = match authority.rsplit_once('@') {
            Some((auth, host)) => match auth.split_once(':') {
                Some((user, _)) => format!("{user}:****@{host}"),
                None => format!("{auth}@{host}"),
            },
            None => authority.to_string(),
        };
        let query = query.map(|q| {
            q.split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=****"),
                    _ => kv.to_string(),
                })
                .collect::<Vec<_>>()
                .join("&")
        });
        return match query {
            Some(q) => format!("{scheme}://{authority}?{q}"),
            None => format!("{scheme}://{authority}"),
        };
    }
    "****".into()
}

/// Whether a value is a URL that may carry a password (`--state postgres://...` does).
fn is_url_with_credentials(value: &str) -> bool {
    value.starts_with("postgres://") || value.starts_with("postgresql://")
}

/// One line of `rota config`.
#[derive(Debug, serde::Serialize)]
pub struct Effective {
    /// The config file key.
    pub key: String,
    /// The environment variable.
    pub env: String,
    /// The command-line option.
    pub flag: String,
    /// The value (secrets masked); `None` when unset.
    pub value: Option<String>,
    /// Where it came from.
    pub source: String,
    /// Whether it is a secret (masked).
    pub secret: bool,
}

/// The effective value of every setting of subcommand `sub` (`serve`), as parsed into `matches`
/// (the whole command line's).
pub fn effective(
    cmd: &Command,
    matches: &ArgMatches,
    sub: &str,
    file: Option<&FileValues>,
) -> Vec<Effective> {
    let Some(sub_cmd) = cmd.find_subcommand(sub) else {
        return Vec::new();
    };
    let sub_m = matches.subcommand_matches(sub).unwrap_or(matches);
    let mut args: Vec<&clap::Arg> = cmd.get_arguments().filter(|a| a.is_global_set()).collect();
    args.extend(sub_cmd.get_arguments());
    let mut out: Vec<Effective> = Vec::new();
    for a in args {
        let Some(env) = a.get_env().and_then(|e| e.to_str()) else {
            continue;
        };
        if env == CONFIG_ENV || out.iter().any(|e| e.env == env) {
            continue;
        }
        let id = a.get_id();
        let m = if a.is_global_set() && sub_m.try_contains_id(id.as_str()).is_err() {
            matches
        } else {
            sub_m
        };
        let raw = m.try_get_raw(id.as_str()).ok().flatten().map(|vals| {
            vals.map(|v| v.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(",")
        });
        let secret = a.is_hide_env_values_set()
            || raw
                .as_deref()
                .is_some_and(|v| is_url_with_credentials(v) && mask(v) != v);
        let flag = a.get_long().map_or(String::new(), |l| format!("--{l}"));
        out.push(Effective {
            key: file_key(env),
            env: env.to_string(),
            source: source(m, id, env, &flag, file),
            flag,
            value: raw.map(|v| if secret { mask(&v) } else { v }),
            secret,
        });
    }
    out
}

/// `rota config`'s text: a config file of the effective values (secrets masked), each with a
/// comment saying where it came from; unset settings are commented out.
pub fn render(lines: &[Effective]) -> String {
    let mut out = String::from(
        "# rota's effective configuration: command line, then environment, then config file,\n\
         # then defaults. Usable as a config file (--config FILE); secrets are masked and\n\
         # commented out: keep them in the environment.\n",
    );
    let width = lines
        .iter()
        .map(|l| l.key.len() + l.value.as_deref().map_or(0, |v| toml_string(v).len()))
        .max()
        .unwrap_or(0)
        + 3;
    for l in lines {
        // A masked secret is written as a comment: read back as a config file, "****" would
        // become the value.
        let entry = match &l.value {
            Some(v) if l.secret => format!("# {} = {}", l.key, toml_string(v)),
            Some(v) => format!("{} = {}", l.key, toml_string(v)),
            None => format!("# {} =", l.key),
        };
        out.push_str(&format!(
            "{entry:<width$} # {}; {} {}\n",
            l.source, l.env, l.flag
        ));
    }
    out
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, Command};

    fn cmd() -> Command {
        Command::new("rota")
            .arg(
                Arg::new("config")
                    .long("config")
                    .env(CONFIG_ENV)
                    .global(true),
            )
            .subcommand(
                Command::new("serve")
                    .arg(
                        Arg::new("bind")
                            .long("bind")
                            .env("ROTA_TEST_BIND")
                            .default_value("127.0.0.1:8080"),
                    )
                    .arg(
                        Arg::new("smtp_host")
                            .long("smtp-host")
                            .env("ROTA_TEST_SMTP_HOST"),
                    )
                    .arg(
                        Arg::new("smtp_password")
                            .long("smtp-password")
                            .env("ROTA_TEST_SMTP_PASSWORD")
                            .hide_env_values(true),
                    ),
            )
    }

    #[test]
    fn a_file_gives_defaults_that_the_command_line_overrides() {
        let text = "test_bind = \"0.0.0.0:9000\"\ntest_smtp_host = \"mail.example.com\"\ntest_smtp_password = \"hunter2\"\n";
        let file = parse(Path::new("rota.toml"), text, &cmd()).unwrap();
        let c = apply(cmd(), &file);
        let m = c
            .clone()
            .try_get_matches_from(["rota", "serve", "--bind", "[::]:1"])
            .unwrap();
        let s = m.subcommand_matches("serve").unwrap();
        assert_eq!(s.get_one::<String>("bind").unwrap(), "[::]:1");
        assert_eq!(
            s.get_one::<String>("smtp_host").unwrap(),
            "mail.example.com"
        );
        let eff = effective(&c, &m, "serve", Some(&file));
        let by = |k: &str| eff.iter().find(|e| e.key == k).unwrap();
        assert_eq!(by("test_bind").source, "command line (--bind)");
        assert_eq!(by("test_smtp_host").source, "config file (rota.toml)");
        assert_eq!(by("test_smtp_password").value.as_deref(), Some("****"));
        let text = render(&eff);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("\n# test_smtp_password = \"****\""), "{text}");
        // The help never shows a secret from the file.
        let help = c
            .clone()
            .find_subcommand_mut("serve")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(!help.contains("hunter2"), "{help}");
        assert!(help.contains("mail.example.com"), "{help}");
        // What rota config prints is itself a config file giving the same values.
        let back = parse(Path::new("out.toml"), &text, &cmd()).unwrap();
        assert_eq!(back.values["ROTA_TEST_SMTP_HOST"], "mail.example.com");
        assert_eq!(back.values["ROTA_TEST_BIND"], "[::]:1");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named_with_their_line() {
        let text = "test_bind = \"x\"\ntest_smtp_hots = \"y\"\ntest_smtp_host = { a = 1 }\n";
        let e = parse(Path::new("rota.toml"), text, &cmd())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rota.toml:2:1: unknown setting \"test_smtp_hots\" (did you mean \"test_smtp_host\"?)"),
            "{e}"
        );
        assert!(
            e.contains("rota.toml:3:18: test_smtp_host: expected a string"),
            "{e}"
        );
        let e = parse(Path::new("rota.toml"), "bind = ", &cmd())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("rota.toml:1:"), "{e}");
    }

    #[test]
    fn lists_join_and_numbers_read_as_text() {
        let text = "test_bind = [\"a\", \"b\"]\ntest_smtp_host = 0x10\n";
        let f = parse(Path::new("f"), text, &cmd()).unwrap();
        assert_eq!(f.values["ROTA_TEST_BIND"], "a,b");
        assert_eq!(f.values["ROTA_TEST_SMTP_HOST"], "16");
    }

    #[test]
    fn secrets_are_masked_but_urls_stay_readable() {
        assert_eq!(mask("hunter2"), "****");
        assert_eq!(
            mask("postgres://rota:s3cret@db.example.com:5432/rota?sslmode=verify-full"),
            "postgres://rota:****@db.example.com:5432/rota?sslmode=verify-full"
        );
        assert_eq!(
            mask("postgres://rota@db/rota?password=s3cret&sslmode=require"),
            "postgres://rota@db/rota?password=****&sslmode=require"
        );
        assert_eq!(mask(""), "");
        assert_eq!(
            mask("postgres:///rota?host=/run/pg&password=s3cret"),
            "postgres:///rota?host=/run/pg&password=****"
        );
        assert_eq!(
            mask("postgres://db.example.com/rota"),
            "postgres://db.example.com/rota"
        );
    }

    #[test]
    fn the_config_path_comes_from_the_command_line_first() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            config_path(&args(&["rota", "serve", "--config", "a.toml"])),
            Some(PathBuf::from("a.toml"))
        );
        assert_eq!(
            config_path(&args(&["rota", "--config=b.toml", "serve"])),
            Some(PathBuf::from("b.toml"))
        );
    }
}
