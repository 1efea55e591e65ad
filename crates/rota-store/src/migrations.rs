//! The schema: one migration per version, applied in order when the store is opened, in two
//! dialects. `SQLITE[i]` and `POSTGRES[i]` make the same tables (version `i` to `i+1`), so a
//! store's schema version means the same on both and `rota migrate` can copy one into the other.
//!
//! The dialects differ only in types: SQLite's `INTEGER` is PostgreSQL's `BIGINT` (instants are
//! whole seconds, counts and generations 64-bit), `BLOB` is `BYTEA`, and `AUTOINCREMENT` is an
//! identity column. Tables listed in insertion order (overrides, tokens, the ledger, swap
//! requests) order by SQLite's implicit `rowid`, which PostgreSQL gets as an explicit identity
//! column of the same name.

/// Every table and its columns in a fixed order (what `rota migrate` copies and compares),
/// including the `rowid` that orders inserts.
pub const TABLES: &[(&str, &[&str])] = &[
    ("settings", &["key", "value"]),
    (
        "overrides",
        &[
            "rowid",
            "id",
            "rotation",
            "person",
            "start_s",
            "end_s",
            "reason",
            "created_by",
            "created_at",
        ],
    ),
    (
        "api_tokens",
        &["rowid", "id", "hash", "person", "created_at", "revoked_at"],
    ),
    ("feed_generations", &["person", "generation"]),
    (
        "audit",
        &["seq", "at", "actor", "action", "subject", "detail"],
    ),
    (
        "notify_ledger",
        &[
            "rowid",
            "key",
            "kind",
            "person",
            "recipient",
            "state",
            "owner",
            "attempts",
            "next_attempt_s",
            "expires_s",
            "last_error",
            "created_at",
            "updated_at",
        ],
    ),
    ("notify_snapshots", &["person", "shifts", "taken_at"]),
    (
        "swap_requests",
        &[
            "rowid",
            "id",
            "rotation",
            "kind",
            "requester",
            "requester_slot",
            "requester_start",
            "requester_end",
            "requester_person",
            "counterpart",
            "counterpart_slot",
            "counterpart_start",
            "counterpart_end",
            "state",
            "created_by",
            "created_at",
            "decided_at",
            "decided_by",
            "override_a",
            "override_b",
            "fingerprint",
            "undo_requested_by",
            "undo_requested_at",
            "override_more",
        ],
    ),
    (
        "sessions",
        &[
            "hash",
            "person",
            "token_id",
            "created_at",
            "expires_at",
            "ended_at",
        ],
    ),
    ("state_version", &["id", "version"]),
    ("leases", &["name", "holder", "since_s", "expires_s"]),
    (
        "outbox",
        &["rowid", "key", "endpoint", "event", "body", "created_at"],
    ),
    (
        "handoff_notes",
        &[
            "rowid",
            "id",
            "rotation",
            "slot",
            "author",
            "body",
            "created_at",
        ],
    ),
];

/// SQLite's migrations (the schema version is `PRAGMA user_version`).
pub const SQLITE: &[&str] = &[
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
    // 5: the state version (bumped by every write that changes what is served, so replicas and
    // other processes notice it) and leases (which replica does the background work).
    "CREATE TABLE state_version (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        version     INTEGER NOT NULL
     );
     INSERT INTO state_version (id, version) VALUES (1, 0);
     CREATE TABLE leases (
        name        TEXT PRIMARY KEY,
        holder      TEXT NOT NULL,
        since_s     INTEGER NOT NULL,
        expires_s   INTEGER NOT NULL
     );",
    // 6: undoing an accepted swap: its state `undone`, and who asked to undo it and when. SQLite
    // cannot change a CHECK constraint in place, so the table is rebuilt (rowids kept).
    "CREATE TABLE swap_requests_6 (
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
                            CHECK (state IN ('pending', 'accepted', 'declined', 'cancelled', 'expired', 'undone')),
        created_by          TEXT NOT NULL,
        created_at          INTEGER NOT NULL,
        decided_at          INTEGER,
        decided_by          TEXT,
        override_a          TEXT,
        override_b          TEXT,
        fingerprint         TEXT NOT NULL,
        undo_requested_by   TEXT,
        undo_requested_at   INTEGER,
        CHECK ((kind = 'cover') = (counterpart_slot IS NULL))
     );
     INSERT INTO swap_requests_6 (rowid, id, rotation, kind, requester, requester_slot,
        requester_start, requester_end, requester_person, counterpart, counterpart_slot,
        counterpart_start, counterpart_end, state, created_by, created_at, decided_at, decided_by,
        override_a, override_b, fingerprint)
     SELECT rowid, id, rotation, kind, requester, requester_slot, requester_start, requester_end,
        requester_person, counterpart, counterpart_slot, counterpart_start, counterpart_end, state,
        created_by, created_at, decided_at, decided_by, override_a, override_b, fingerprint
     FROM swap_requests;
     DROP TABLE swap_requests;
     ALTER TABLE swap_requests_6 RENAME TO swap_requests;
     CREATE INDEX swap_requests_requester ON swap_requests (requester, created_at);
     CREATE INDEX swap_requests_counterpart ON swap_requests (counterpart, created_at);
     CREATE INDEX swap_requests_rotation ON swap_requests (rotation, state);",
    // 7: the outbox: what a webhook delivery sends, kept until the ledger says it is done.
    "CREATE TABLE outbox (
        key         TEXT PRIMARY KEY,
        endpoint    TEXT NOT NULL,
        event       TEXT NOT NULL,
        body        TEXT NOT NULL,
        created_at  INTEGER NOT NULL
     );",
    // 8: handoff notes, one row per note on a rotation's shift (slot).
    "CREATE TABLE handoff_notes (
        id          TEXT PRIMARY KEY,
        rotation    TEXT NOT NULL,
        slot        INTEGER NOT NULL,
        author      TEXT NOT NULL,
        body        TEXT NOT NULL,
        created_at  INTEGER NOT NULL
     );
     CREATE INDEX handoff_notes_shift ON handoff_notes (rotation, slot);",
    // 9: a swap of a layered rotation's shift with another layer's time inside it is an override
    // per piece of the shift's own time: the ids after the first two, separated by spaces.
    "ALTER TABLE swap_requests ADD COLUMN override_more TEXT;",
];

/// PostgreSQL's migrations (the schema version is the one row of `rota_schema`).
pub const POSTGRES: &[&str] = &[
    "CREATE TABLE overrides (
        rowid       BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,
        id          TEXT PRIMARY KEY,
        rotation    TEXT NOT NULL,
        person      TEXT NOT NULL,
        start_s     BIGINT NOT NULL,
        end_s       BIGINT NOT NULL CHECK (end_s > start_s),
        reason      TEXT,
        created_by  TEXT NOT NULL,
        created_at  BIGINT NOT NULL
     );
     CREATE INDEX overrides_rotation ON overrides (rotation, start_s);
     CREATE TABLE api_tokens (
        rowid       BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,
        id          TEXT PRIMARY KEY,
        hash        BYTEA NOT NULL UNIQUE,
        person      TEXT NOT NULL,
        created_at  BIGINT NOT NULL,
        revoked_at  BIGINT
     );
     CREATE TABLE feed_generations (
        person      TEXT PRIMARY KEY,
        generation  BIGINT NOT NULL
     );
     CREATE TABLE settings (
        key         TEXT PRIMARY KEY,
        value       BYTEA NOT NULL
     );
     CREATE TABLE audit (
        seq         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        at          BIGINT NOT NULL,
        actor       TEXT NOT NULL,
        action      TEXT NOT NULL,
        subject     TEXT NOT NULL,
        detail      TEXT NOT NULL
     );",
    "CREATE TABLE notify_ledger (
        rowid           BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,
        key             TEXT PRIMARY KEY,
        kind            TEXT NOT NULL,
        person          TEXT NOT NULL,
        recipient       TEXT NOT NULL,
        state           TEXT NOT NULL
                        CHECK (state IN ('sending', 'sent', 'retry', 'failed', 'superseded')),
        owner           TEXT,
        attempts        BIGINT NOT NULL DEFAULT 0,
        next_attempt_s  BIGINT,
        expires_s       BIGINT,
        last_error      TEXT,
        created_at      BIGINT NOT NULL,
        updated_at      BIGINT NOT NULL
     );
     CREATE INDEX notify_ledger_state ON notify_ledger (state, updated_at);
     CREATE TABLE notify_snapshots (
        person      TEXT PRIMARY KEY,
        shifts      TEXT NOT NULL,
        taken_at    BIGINT NOT NULL
     );",
    "CREATE TABLE swap_requests (
        rowid               BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,
        id                  TEXT PRIMARY KEY,
        rotation            TEXT NOT NULL,
        kind                TEXT NOT NULL CHECK (kind IN ('trade', 'cover')),
        requester           TEXT NOT NULL,
        requester_slot      BIGINT NOT NULL,
        requester_start     BIGINT NOT NULL,
        requester_end       BIGINT NOT NULL,
        requester_person    TEXT NOT NULL,
        counterpart         TEXT NOT NULL,
        counterpart_slot    BIGINT,
        counterpart_start   BIGINT,
        counterpart_end     BIGINT,
        state               TEXT NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'accepted', 'declined', 'cancelled', 'expired')),
        created_by          TEXT NOT NULL,
        created_at          BIGINT NOT NULL,
        decided_at          BIGINT,
        decided_by          TEXT,
        override_a          TEXT,
        override_b          TEXT,
        fingerprint         TEXT NOT NULL,
        CHECK ((kind = 'cover') = (counterpart_slot IS NULL))
     );
     CREATE INDEX swap_requests_requester ON swap_requests (requester, created_at);
     CREATE INDEX swap_requests_counterpart ON swap_requests (counterpart, created_at);
     CREATE INDEX swap_requests_rotation ON swap_requests (rotation, state);",
    "CREATE TABLE sessions (
        hash        BYTEA PRIMARY KEY,
        person      TEXT NOT NULL,
        token_id    TEXT NOT NULL,
        created_at  BIGINT NOT NULL,
        expires_at  BIGINT NOT NULL,
        ended_at    BIGINT
     );
     CREATE INDEX sessions_person ON sessions (person);
     CREATE INDEX sessions_token ON sessions (token_id);",
    "CREATE TABLE state_version (
        id          BIGINT PRIMARY KEY CHECK (id = 1),
        version     BIGINT NOT NULL
     );
     INSERT INTO state_version (id, version) VALUES (1, 0);
     CREATE TABLE leases (
        name        TEXT PRIMARY KEY,
        holder      TEXT NOT NULL,
        since_s     BIGINT NOT NULL,
        expires_s   BIGINT NOT NULL
     );",
    "ALTER TABLE swap_requests DROP CONSTRAINT swap_requests_state_check;
     ALTER TABLE swap_requests ADD CONSTRAINT swap_requests_state_check
        CHECK (state IN ('pending', 'accepted', 'declined', 'cancelled', 'expired', 'undone'));
     ALTER TABLE swap_requests ADD COLUMN undo_requested_by TEXT;
     ALTER TABLE swap_requests ADD COLUMN undo_requested_at BIGINT;",
    "CREATE TABLE outbox (
        rowid       BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,
        key         TEXT PRIMARY KEY,
        endpoint    TEXT NOT NULL,
        event       TEXT NOT NULL,
        body        TEXT NOT NULL,
        created_at  BIGINT NOT NULL
     );",
    "CREATE TABLE handoff_notes (
        rowid       BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,
        id          TEXT PRIMARY KEY,
        rotation    TEXT NOT NULL,
        slot        BIGINT NOT NULL,
        author      TEXT NOT NULL,
        body        TEXT NOT NULL,
        created_at  BIGINT NOT NULL
     );
     CREATE INDEX handoff_notes_shift ON handoff_notes (rotation, slot);",
    // 9: a swap of a layered rotation's shift with another layer's time inside it is an override
    // per piece of the shift's own time: the ids after the first two, separated by spaces.
    "ALTER TABLE swap_requests ADD COLUMN override_more TEXT;",
];

#[cfg(test)]
mod tests {
    /// Version `i` means the same tables on both backends.
    #[test]
    fn both_dialects_have_every_migration() {
        assert_eq!(super::SQLITE.len(), super::POSTGRES.len());
    }
}
