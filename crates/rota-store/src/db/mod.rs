//! The two backends under one small SQL interface, so that every store operation is written once.
//!
//! - [`Sql`] runs a statement with parameters ([`P`]) and returns [`Row`]s of four kinds of value
//!   (null, 64-bit integer, text, bytes): all the store's tables need.
//! - Statements are written once, in the SQL both backends speak, with `$1`, `$2`... parameters
//!   (rewritten to `?1`, `?2`... for SQLite). Instants are whole seconds (`INTEGER` / `BIGINT`).
//!   Both backends have `ON CONFLICT ... DO UPDATE`, `excluded.`, `RETURNING` and `LIMIT`; the
//!   tables that order by insertion have a `rowid` on both (SQLite's own, an identity column in
//!   PostgreSQL).
//! - [`Db::read`] runs a closure on a connection; [`Db::write`] runs it in a transaction that
//!   commits if the closure returns `Ok` and rolls back otherwise. **Write transactions are
//!   serialised** on both backends: SQLite's `BEGIN IMMEDIATE` takes the file's write lock, and on
//!   PostgreSQL every write transaction first takes one transaction-level advisory lock
//!   ([`WRITE_LOCK`]). A write then sees every earlier committed write, exactly as on SQLite, so
//!   "check, then write" (accepting a swap, claiming a ledger entry, taking a lease) is race-free
//!   across processes and replicas without per-operation locking. Writes are rare and short in an
//!   on-call tool (an override, an accept, a ledger claim), so one lock costs nothing measurable;
//!   reads never take it.

use std::fmt;

use crate::{Error, ErrorKind, Result};

mod postgres;
mod sqlite;
mod tls;

pub(crate) use self::postgres::Postgres;
pub(crate) use self::sqlite::Sqlite;

/// The advisory lock key every PostgreSQL write transaction takes (`pg_advisory_xact_lock`): the
/// bytes of "rota" and "wr", so it does not collide with another application's small keys.
pub(crate) const WRITE_LOCK: i64 = 0x726f_7461_0000_7772;

/// A statement parameter.
#[derive(Clone, Copy, Debug)]
pub(crate) enum P<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

impl From<i64> for P<'_> {
    fn from(v: i64) -> Self {
        P::Int(v)
    }
}
impl From<u32> for P<'_> {
    fn from(v: u32) -> Self {
        P::Int(i64::from(v))
    }
}
impl<'a> From<&'a str> for P<'a> {
    fn from(v: &'a str) -> Self {
        P::Text(v)
    }
}
impl<'a> From<&'a String> for P<'a> {
    fn from(v: &'a String) -> Self {
        P::Text(v)
    }
}
impl<'a> From<&'a [u8]> for P<'a> {
    fn from(v: &'a [u8]) -> Self {
        P::Bytes(v)
    }
}
impl<'a> From<&'a Vec<u8>> for P<'a> {
    fn from(v: &'a Vec<u8>) -> Self {
        P::Bytes(v)
    }
}
impl<'a, T: Into<P<'a>>> From<Option<T>> for P<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(P::Null, Into::into)
    }
}

/// `p![a, b, c]`: a parameter list.
macro_rules! p {
    ($($x:expr),* $(,)?) => { &[$($crate::db::P::from($x)),*][..] };
}
pub(crate) use p;

/// A value read from a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum V {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

/// One result row.
#[derive(Clone, Debug)]
pub(crate) struct Row(pub(crate) Vec<V>);

impl Row {
    fn at(&self, i: usize) -> Result<&V> {
        self.0.get(i).ok_or_else(|| column(i, "a column", "none"))
    }

    pub(crate) fn i64(&self, i: usize) -> Result<i64> {
        match self.at(i)? {
            V::Int(v) => Ok(*v),
            other => Err(column(i, "an integer", other)),
        }
    }

    pub(crate) fn opt_i64(&self, i: usize) -> Result<Option<i64>> {
        match self.at(i)? {
            V::Null => Ok(None),
            _ => self.i64(i).map(Some),
        }
    }

    pub(crate) fn text(&self, i: usize) -> Result<String> {
        match self.at(i)? {
            V::Text(v) => Ok(v.clone()),
            other => Err(column(i, "text", other)),
        }
    }

    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.at(i)? {
            V::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    pub(crate) fn bytes(&self, i: usize) -> Result<Vec<u8>> {
        match self.at(i)? {
            V::Bytes(v) => Ok(v.clone()),
            other => Err(column(i, "bytes", other)),
        }
    }
}

fn column(i: usize, wanted: &str, found: impl fmt::Debug) -> Error {
    Error {
        kind: ErrorKind::Corrupt(format!("column {i}: expected {wanted}, found {found:?}")),
    }
}

/// A connection or a transaction of either backend.
pub(crate) trait Sql {
    /// Runs a statement; returns how many rows it changed.
    fn exec(&mut self, sql: &str, params: &[P<'_>]) -> Result<u64>;
    /// Runs a query; returns all its rows.
    fn rows(&mut self, sql: &str, params: &[P<'_>]) -> Result<Vec<Row>>;
    /// Runs a query; returns its first row, if any.
    fn row(&mut self, sql: &str, params: &[P<'_>]) -> Result<Option<Row>> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }
}

/// The backend behind a [`crate::Store`].
pub(crate) enum Db {
    Sqlite(Sqlite),
    Postgres(Postgres),
}

impl Db {
    /// Runs `f` on a connection (no transaction: each statement sees the latest commit).
    pub(crate) fn read<T: Send>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T> + Send,
    ) -> Result<T> {
        match self {
            Db::Sqlite(d) => d.read(f),
            Db::Postgres(d) => d.read(f),
        }
    }

    /// Runs `f` in a serialised write transaction, committed if `f` returns `Ok`.
    pub(crate) fn write<T: Send>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T> + Send,
    ) -> Result<T> {
        match self {
            Db::Sqlite(d) => d.write(f),
            Db::Postgres(d) => d.write(f),
        }
    }
}

/// `$1`, `$2`... as SQLite's `?1`, `?2`... (the store's SQL has no `$` in literals).
pub(crate) fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_rewritten_for_sqlite() {
        assert_eq!(
            super::sqlite_placeholders("SELECT a FROM t WHERE b = $1 AND c > $12 OR d = '$x'"),
            "SELECT a FROM t WHERE b = ?1 AND c > ?12 OR d = '$x'"
        );
    }
}
