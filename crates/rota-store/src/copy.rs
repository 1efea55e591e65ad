//! Moving between backends (`rota migrate`): every table, row for row, in one write transaction
//! on the target, and a dump of every table to compare two stores.

use serde::Serialize;

use crate::db::{P, V};
use crate::migrations::TABLES;
use crate::*;

/// How many rows of a table were copied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableCount {
    /// The table.
    pub table: &'static str,
    /// Its rows.
    pub rows: usize,
}

/// One table's rows, as [`Store::dump`] gives them.
pub type TableDump = (&'static str, Vec<Vec<serde_json::Value>>);

fn select(table: &str, columns: &[&str]) -> String {
    format!(
        "SELECT {} FROM {table} ORDER BY {}",
        columns.join(", "),
        columns[0]
    )
}

fn json(v: &V) -> serde_json::Value {
    match v {
        V::Null => serde_json::Value::Null,
        V::Int(i) => (*i).into(),
        V::Text(s) => s.clone().into(),
        V::Bytes(b) => serde_json::json!({ "bytes": hex(b) }),
    }
}

impl Store {
    /// Copies everything in this store into `to`, which must hold no rows of its own yet (a new
    /// file or an empty database; its feed secret is replaced by this one's, so feed URLs keep
    /// working). Both must be at the same schema version. All or nothing: one write transaction
    /// on `to`. Open `to` again afterwards to use it (it caches the feed secret).
    pub fn copy_into(&self, to: &Store) -> Result<Vec<TableCount>> {
        let (from_v, to_v) = (self.schema_version()?, to.schema_version()?);
        if from_v != to_v {
            return Err(Error {
                kind: ErrorKind::Config(format!(
                    "{} has schema version {from_v} and {} has {to_v}; open both with this rota \
                     first",
                    self.location(),
                    to.location()
                )),
            });
        }
        let mut tables = Vec::new();
        for (table, columns) in TABLES {
            let rows = self.read(|c| c.rows(&select(table, columns), &[]))?;
            tables.push((*table, *columns, rows));
        }
        let postgres = to.backend() == "postgres";
        let location = to.location();
        to.write(|c| {
            for (table, _, _) in &tables {
                let n = c
                    .row(&format!("SELECT count(*) FROM {table}"), &[])?
                    .map(|r| r.i64(0))
                    .transpose()?
                    .unwrap_or(0);
                let own = matches!(*table, "settings" | "state_version");
                if n > 0 && !own {
                    return Err(conflict(format!(
                        "{location} already holds {n} row(s) in {table}; rota migrate copies \
                         into a new state file or an empty database only"
                    )));
                }
                if own {
                    c.exec(&format!("DELETE FROM {table}"), &[])?;
                }
            }
            let mut counts = Vec::new();
            for (table, columns, rows) in &tables {
                let marks: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    columns.join(", "),
                    marks.join(", ")
                );
                for row in rows {
                    let params: Vec<P<'_>> = row
                        .0
                        .iter()
                        .map(|v| match v {
                            V::Null => P::Null,
                            V::Int(i) => P::Int(*i),
                            V::Text(s) => P::Text(s),
                            V::Bytes(b) => P::Bytes(b),
                        })
                        .collect();
                    c.exec(&sql, &params)?;
                }
                // Identity columns count on from the highest copied value.
                if postgres && matches!(columns[0], "rowid" | "seq") {
                    c.row(
                        &format!(
                            "SELECT setval(pg_get_serial_sequence('{table}', '{col}'),
                                COALESCE((SELECT max({col}) FROM {table}), 0) + 1, false)",
                            col = columns[0]
                        ),
                        &[],
                    )?;
                }
                counts.push(TableCount {
                    table,
                    rows: rows.len(),
                });
            }
            Ok(counts)
        })
    }

    /// Every table's rows, in a fixed order, as JSON values (bytes as `{"bytes": hex}`): two
    /// stores with equal dumps hold the same state.
    pub fn dump(&self) -> Result<Vec<TableDump>> {
        TABLES
            .iter()
            .map(|(table, columns)| {
                let rows = self.read(|c| c.rows(&select(table, columns), &[]))?;
                // Sorted here, not by the database: PostgreSQL sorts text by its collation
                // (en_US puts "amy" before "Zoe"), SQLite bytewise.
                let mut rows: Vec<Vec<serde_json::Value>> = rows
                    .iter()
                    .map(|r| r.0.iter().map(json).collect())
                    .collect();
                rows.sort_by_cached_key(|r| serde_json::to_string(r).unwrap_or_default());
                Ok((*table, rows))
            })
            .collect()
    }
}
