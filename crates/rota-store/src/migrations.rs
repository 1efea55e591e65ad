//! The schema: one migration per version, applied in order when the state file is opened.

/// Schema migrations, applied in order; `MIGRATIONS[i]` takes the schema from version `i` to `i+1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: overrides, API tokens, feed token generations, settings, audit log.
    "CREATE TABLE overrides (
        id          TEXT PRIMARY KEY,
        rotation    TEXT NOT NULL,
        person      TEXT NOT NULL,
        start_s     INTEGER NOT NULL,
        end_s       INTEGER NOT NULL CHECK (end_s > start_s),
        reason      TEXT,
        created_by  TEXT NOT NULL,
        created_at  INTEGER NOT NULL
     );
     CREATE INDEX overrides_rotation ON overrides (rotation, start_s);
     CREATE TABLE api_tokens (
        id          TEXT PRIMARY KEY,
        hash        BLOB NOT NULL UNIQUE,
        person      TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        revoked_at  INTEGER
     );
     CREATE TABLE feed_generations (
        person      TEXT PRIMARY KEY,
        generation  INTEGER NOT NULL
     );
     CREATE TABLE settings (
        key         TEXT PRIMARY KEY,
        value       BLOB NOT NULL
     );
     CREATE TABLE audit (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        at          INTEGER NOT NULL,
        actor       TEXT NOT NULL,
        action      TEXT NOT NULL,
        subject     TEXT NOT NULL,
        detail      TEXT NOT NULL
     );",
    // 2: the reminder ledger (what was sent, exactly once) and the change-notice snapshots.
    "CREATE TABLE notify_ledger (
        key             TEXT PRIMARY KEY,
        kind            TEXT NOT NULL,
        person          TEXT NOT NULL,
        recipient       TEXT NOT NULL,
        state           TEXT NOT NULL
                        CHECK (state IN ('sending', 'sent', 'retry', 'failed', 'superseded')),
        owner           TEXT,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_s  INTEGER,
        expires_s       INTEGER,
        last_error      TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
     );
     CREATE INDEX notify_ledger_state ON notify_ledger (state, updated_at);
     CREATE TABLE notify_snapshots (
        person      TEXT PRIMARY KEY,
        shifts      TEXT NOT NULL,
        taken_at    INTEGER NOT NULL
     );",
    // 3: swap requests (a two-way trade or a one-way cover, with consent). Slots and their
    // instants are recorded as they were at request time; `fingerprint` is the resolved schedule
    // of those slots then, so a request whose schedule changed under it is recognised as stale.
    "CREATE TABLE swap_requests (
        id                  TEXT PRIMARY KEY,
        rotation            TEXT NOT NULL,
        kind                TEXT NOT NULL CHECK (kind IN ('trade', 'cover')),
        requester           TEXT NOT NULL,
        requester_slot      INTEGER NOT NULL,
        requester_start     INTEGER NOT NULL,
        requester_end       INTEGER NOT NULL,
        requester_person    TEXT NOT NULL,
        counterpart         TEXT NOT NULL,
        counterpart_slot    INTEGER,
        counterpart_start   INTEGER,
        counterpart_end     INTEGER,
        state               TEXT NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'accepted', 'declined', 'cancelled', 'expired')),
        created_by          TEXT NOT NULL,
        created_at          INTEGER NOT NULL,
        decided_at          INTEGER,
        decided_by          TEXT,
        override_a          TEXT,
        override_b          TEXT,
        fingerprint         TEXT NOT NULL,
        CHECK ((kind = 'cover') = (counterpart_slot IS NULL))
     );
     CREATE INDEX swap_requests_requester ON swap_requests (requester, created_at);
     CREATE INDEX swap_requests_counterpart ON swap_requests (counterpart, created_at);
     CREATE INDEX swap_requests_rotation ON swap_requests (rotation, state);",
    // 4: server-side sign-in sessions of the web pages (see the `sessions` module): a session
    // ends when its API token is revoked, at sign-out, or when an admin ends them all.
    "CREATE TABLE sessions (
        hash        BLOB PRIMARY KEY,
        person      TEXT NOT NULL,
        token_id    TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL,
        ended_at    INTEGER
     );
     CREATE INDEX sessions_person ON sessions (person);
     CREATE INDEX sessions_token ON sessions (token_id);",
];
