//! `rota serve`: opens the state file, loads the schedules, binds, and runs the service until
//! SIGINT or SIGTERM; SIGHUP re-reads the schedule files.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use rota_server::{AppState, Loader, SystemClock};

use crate::cli::ServeArgs;
use crate::schedules;

/// Runs the service; returns when it has shut down.
pub fn serve(dir: PathBuf, args: ServeArgs) -> anyhow::Result<()> {
    // The pages' security settings (ROTA_BASE_URL, ROTA_TRUSTED_PROXIES, ...): a typo must stop
    // the start, not quietly leave the forms refusing everyone or believing everyone.
    let opt = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
    let pages = rota_server::pages::PagesConfig::from_values(
        &opt(&args.trusted_user_header),
        &opt(&args.base_url),
        &opt(&args.trusted_proxies),
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let server_config = rota_server::ServerConfig {
        pages,
        metrics_token: args
            .metrics_token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        slack_signing_secret: args
            .slack_signing_secret
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string),
    };
    let bind = args.bind.as_str();
    let slack_token = args
        .slack_token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let slack_api_url = args.slack_api_url.clone();
    let store = crate::cli::open_store(&args.state.path)?;
    let state_location = store.location();
    match store.encrypted() {
        Ok(Some(true)) => {
            tracing::info!(database = %state_location, "the database connection is encrypted (TLS)")
        }
        Ok(Some(false)) => {
            tracing::warn!(database = %state_location, "the database connection is not encrypted: keep the database on a private network, or set sslmode=verify-full in the URL")
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %e, "cannot tell whether the database connection is encrypted")
        }
    }
    let loader_dir = dir.clone();
    let loader: Loader = Arc::new(move || schedules::load_for_service(&loader_dir));
    let state = AppState::new(store, Arc::new(SystemClock), loader)
        .map_err(|problems| anyhow::anyhow!("{problems}"))
        .with_context(|| format!("loading the schedules in {}", dir.display()))?;
    if !state.configure(server_config) {
        anyhow::bail!("the service's settings were read before they were set");
    }
    // Writes by other replicas (or by the CLI on a shared SQLite file) are served within
    // ROTA_STATE_POLL_MS (default 500 ms): the watcher reads the store's state version.
    let poll = args.state_poll_ms;
    state
        .spawn_state_watcher(std::time::Duration::from_millis(poll))
        .context("starting the state watcher")?;
    // Email reminders run beside the service only when SMTP is configured.
    let env = args.mail.lookup(args.base_url.as_deref());
    let smtp = rota_notify::SmtpConfig::from_env(&env).context("the email settings")?;
    let notify = match smtp {
        Some(smtp) => {
            let settings = rota_notify::Settings {
                from: smtp.from.clone(),
                ..rota_notify::Settings::from_env(&env).context("the email settings")?
            };
            let mailer = rota_notify::SmtpMailer::new(&smtp).context("the email settings")?;
            Some((settings, mailer, args.remind_interval.max(1), smtp))
        }
        None => {
            tracing::info!("ROTA_SMTP_HOST is not set: email reminders are off");
            None
        }
    };
    // Absence and holiday calendars: files are read before serving (so the first requests see
    // them); URLs are fetched at once by a thread of their own, which keeps all of them fresh.
    let refresh = std::time::Duration::from_secs(args.calendar_refresh.max(1));
    let fetcher = rota_calendar::Fetcher::new();
    let cals = rota_server::calendars::read_files(&state, &dir, &fetcher);
    if !cals.is_empty() {
        tracing::info!(
            sources = cals.len(),
            every_secs = refresh.as_secs(),
            "absence calendars on"
        );
    }
    // Runs even with no calendars, to pick up a reload that adds some.
    let _refresher = rota_server::calendars::spawn(state.clone(), cals, fetcher, refresh)
        .context("starting the calendar thread")?;
    let fd_limit = raise_fd_limit();
    let limits = rota_server::Limits::for_fd_limit(fd_limit);
    tracing::info!(
        fd_limit,
        max_connections = limits.max_connections,
        request_timeout_ms = limits.request_timeout.as_millis() as u64,
        "connection limits"
    );
    let listener = TcpListener::bind(bind).with_context(|| format!("binding {bind}"))?;
    let addr = listener.local_addr()?;

    let system = actix_web::rt::System::new();
    system.block_on(async move {
        use tokio::signal::unix::{SignalKind, signal};
        // Signal handlers first: SIGHUP's default action ends the process, so a reload signal sent
        // as soon as the address is printed must already find its handler.
        let mut hup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;

        tracing::info!(%addr, schedules = %dir.display(), state = %state_location, "rota serving");
        // Tests and scripts read this line to learn the port when binding port 0.
        println!("rota: listening on http://{addr}");
        use std::io::Write;
        std::io::stdout().flush()?;

        // One replica does the background work (reminders, webhook deliveries): the holder of
        // the lease (rota_notify::leader).
        let leader = rota_notify::leader::Leader::spawn(
            state.clone(),
            { let st = state.clone(); move || st.now() },
            rota_notify::run::owner(),
        )
        .context("starting the lease thread")?;
        // Webhooks: events go to the outbox from whichever replica sees them; the lease holder
        // delivers them (crate::webhooks).
        let slack = slack_token.map(|t| Arc::new(rota_notify::slack::SlackClient::new(&t, &slack_api_url)));
        crate::webhooks::install(&state, &leader, slack).context("starting the webhook thread")?;
        let mail = notify.as_ref().map(|(settings, _, _, smtp)| (settings.clone(), smtp.clone()));
        state.on_swap_change(Arc::new(move |st, request| {
            crate::webhooks::swap_changed(st, request);
            let Some((hook_settings, hook_smtp)) = &mail else {
                return;
            };
            let snap = st.snapshot();
            let Some(event) = rota_notify::SwapEvent::from_request(&snap.schedule, request) else {
                return;
            };
            let (st, settings, smtp) = (st.clone(), hook_settings.clone(), hook_smtp.clone());
            // Swap emails: on a thread of their own (never holding up the response), through the
            // ledger, so never twice.
            let spawned = std::thread::Builder::new().name("rota-swap-mail".into()).spawn(move || {
                let clock = || st.now();
                let sent = rota_notify::SmtpMailer::new(&smtp)
                    .map_err(|e| e.to_string())
                    .and_then(|mailer| {
                        rota_notify::send_swap(&event, st.store(), &mailer, &settings, &clock).map_err(|e| e.to_string())
                    });
                if let Err(e) = sent {
                    tracing::error!(swap = %event.id, error = %e, "swap email failed");
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start the swap email thread");
            }
        }));
        if let Some((settings, mailer, interval, smtp)) = notify {
            tracing::info!(host = %smtp.host, port = smtp.port, every_secs = interval, "email reminders on");
            let st = state.clone();
            let l = leader.clone();
            // A plain thread: sending is blocking I/O, and a run must never hold up requests. It
            // ends with the process; a run cut short is safe (see rota-notify's ledger).
            std::thread::Builder::new()
                .name("rota-remind".into())
                .spawn(move || {
                    let mut last: Option<std::time::Instant> = None;
                    loop {
                        let due = last.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(interval));
                        if !l.holding() {
                            // Whoever takes the lease next runs at once.
                            last = None;
                        } else if due {
                            last = Some(std::time::Instant::now());
                            let snap = st.snapshot();
                            let clock = || st.now();
                            if let Err(e) = rota_notify::run_once(&snap.schedule, st.store(), &mailer, &settings, &clock) {
                                tracing::error!(error = %e, "reminder run failed; trying again next time");
                            }
                            // One email per new conflict, from the calendars as last read.
                            let now = st.now();
                            let horizon = now + chrono::Duration::days(rota_notify::plan::CONFLICT_HORIZON_DAYS);
                            let off = st.calendars().time_off_for(&snap.schedule, now, horizon, horizon);
                            if let Err(e) = rota_notify::run_conflicts(&snap.schedule, &off, st.store(), &mailer, &settings, &clock) {
                                tracing::error!(error = %e, "conflict email run failed; trying again next time");
                            }
                        }
                        std::thread::sleep(std::time::Duration::from_secs(1));
                    }
                })
                .context("starting the reminder thread")?;
        }
        let reload_state = state.clone();
        actix_web::rt::spawn(async move {
            while hup.recv().await.is_some() {
                let st = reload_state.clone();
                match actix_web::rt::task::spawn_blocking(move || st.reload()).await {
                    Ok(Ok(())) => tracing::info!("SIGHUP: schedule files reloaded"),
                    Ok(Err(problems)) => {
                        for line in problems.lines() {
                            tracing::error!(target: "rota::reload", "{line}");
                        }
                        tracing::error!("SIGHUP: the schedule files have problems; the previous schedule keeps running");
                    }
                    Err(e) => tracing::error!(error = %e, "SIGHUP: reload failed"),
                }
            }
        });
        let shutdown = async move {
            tokio::select! {
                _ = int.recv() => tracing::info!("SIGINT"),
                _ = term.recv() => tracing::info!("SIGTERM"),
            }
        };
        rota_server::run(listener, state.clone(), limits, shutdown).await?;
        leader.release(state.store());
        Ok::<_, anyhow::Error>(())
    })?;
    tracing::info!("rota stopped");
    Ok(())
}

/// Raises the soft limit on open files to the hard limit and returns the limit now in force.
///
/// The soft limit is often 1024 by default while the hard limit is far higher; at 1024, a few
/// hundred slow clients exhaust it, `accept` fails with "Too many open files", and actix's accept
/// loop backs off for half a second at a time, so even `/healthz` waits seconds. Raising the soft
/// limit is what the hard limit is for; the connection cap ([`rota_server::Limits`]) keeps the
/// service below whatever limit it ends up with. `libc` directly rather than the `rlimit` crate:
/// it is already in the dependency tree (through tokio), and these are two plain calls.
fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass and reads nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        tracing::warn!(error = %std::io::Error::last_os_error(), "cannot read the open files limit");
        return 1024;
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            tracing::info!(
                from = lim.rlim_cur,
                to = lim.rlim_max,
                "raised the open files limit"
            );
            lim.rlim_cur = lim.rlim_max;
        } else {
            tracing::warn!(error = %std::io::Error::last_os_error(), limit = lim.rlim_cur, "cannot raise the open files limit");
        }
    }
    // RLIM_INFINITY is u64::MAX: Limits caps connections on its own.
    lim.rlim_cur
}
