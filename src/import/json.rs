//! Reading the vendors' JSON with the path of every value, so that a response of the wrong shape
//! is refused with the file and the JSON path of the problem (`schedule.json:
//! schedule.schedule_layers[1].rotation_turn_length_seconds: expected an integer, found a
//! string`), never with a panic or a silently skipped field.

use std::path::Path;

use anyhow::{Context, anyhow};
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use serde_json::Value;

/// The largest JSON file read: a whole organisation's users or shifts are a few MiB.
pub(crate) const MAX_BYTES: u64 = 64 << 20;

/// A parsed JSON file and its name for messages.
pub(crate) struct Doc {
    file: String,
    root: Value,
}

impl Doc {
    /// Reads and parses `path`; the error names the file (and the line and column of a syntax
    /// error). A file larger than [`MAX_BYTES`] is refused before it is parsed (its value tree
    /// would take several times its size in memory).
    pub(crate) fn read(path: &Path) -> anyhow::Result<Doc> {
        use std::io::Read;
        let file = path.display().to_string();
        let too_big = || {
            anyhow!(
                "{file}: larger than {} MiB, the most rota import reads from one file",
                MAX_BYTES >> 20
            )
        };
        let f = std::fs::File::open(path).with_context(|| format!("reading {file}"))?;
        if f.metadata().is_ok_and(|m| m.len() > MAX_BYTES) {
            return Err(too_big());
        }
        // Read at most one byte past the limit: a pipe or a device has no length to ask.
        let mut bytes = Vec::new();
        f.take(MAX_BYTES + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading {file}"))?;
        if bytes.len() as u64 > MAX_BYTES {
            return Err(too_big());
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            anyhow!(
                "{file}: not UTF-8 text (at byte {})",
                e.utf8_error().valid_up_to()
            )
        })?;
        Doc::parse(&file, &text)
    }

    /// Parses `text`, which came from `file`.
    pub(crate) fn parse(file: &str, text: &str) -> anyhow::Result<Doc> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let root: Value =
            serde_json::from_str(text).map_err(|e| anyhow!("{file}: not valid JSON: {e}"))?;
        Ok(Doc {
            file: file.to_string(),
            root,
        })
    }

    /// The whole document.
    pub(crate) fn root(&self) -> J<'_> {
        J {
            v: &self.root,
            path: String::new(),
            file: &self.file,
        }
    }

    /// The file's name, as given.
    pub(crate) fn file(&self) -> &str {
        &self.file
    }
}

/// One value of a [`Doc`] and where it is.
#[derive(Clone, Debug)]
pub(crate) struct J<'a> {
    v: &'a Value,
    path: String,
    file: &'a str,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> J<'a> {
    /// The JSON path of this value (`schedule.schedule_layers[0].start`); `(the document)` for
    /// the root.
    pub(crate) fn path(&self) -> &str {
        if self.path.is_empty() {
            "(the document)"
        } else {
            &self.path
        }
    }

    /// An error about this value: `FILE: PATH: message`.
    pub(crate) fn error(&self, message: impl std::fmt::Display) -> anyhow::Error {
        anyhow!("{}: {}: {message}", self.file, self.path())
    }

    fn expected(&self, what: &str) -> anyhow::Error {
        self.error(format!("expected {what}, found {}", kind(self.v)))
    }

    fn child(&self, key: &str, v: &'a Value) -> J<'a> {
        let path = if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        };
        J {
            v,
            path,
            file: self.file,
        }
    }

    /// The member `key`, which must be there and not null.
    pub(crate) fn get(&self, key: &str) -> anyhow::Result<J<'a>> {
        self.opt(key)?.ok_or_else(|| {
            let at = if self.path.is_empty() {
                String::new()
            } else {
                format!(" in {}", self.path)
            };
            anyhow!("{}: missing `{key}`{at}", self.file)
        })
    }

    /// The member `key`, or `None` when it is absent or null. This value must be an object.
    pub(crate) fn opt(&self, key: &str) -> anyhow::Result<Option<J<'a>>> {
        let Value::Object(m) = self.v else {
            return Err(self.expected("an object"));
        };
        Ok(match m.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(self.child(key, v)),
        })
    }

    /// Whether this value is an object with a non-null member `key`.
    pub(crate) fn has(&self, key: &str) -> bool {
        matches!(self.v, Value::Object(m) if m.get(key).is_some_and(|v| !v.is_null()))
    }

    /// The elements of this array.
    pub(crate) fn array(&self) -> anyhow::Result<Vec<J<'a>>> {
        let Value::Array(items) = self.v else {
            return Err(self.expected("an array"));
        };
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, v)| J {
                v,
                path: format!("{}[{i}]", self.path),
                file: self.file,
            })
            .collect())
    }

    /// The elements of the array `key`; an absent or null member is an empty list.
    pub(crate) fn array_at(&self, key: &str) -> anyhow::Result<Vec<J<'a>>> {
        match self.opt(key)? {
            Some(a) => a.array(),
            None => Ok(Vec::new()),
        }
    }

    /// This string.
    pub(crate) fn str(&self) -> anyhow::Result<&'a str> {
        match self.v {
            Value::String(s) => Ok(s),
            _ => Err(self.expected("a string")),
        }
    }

    /// The string `key`, which must be there.
    pub(crate) fn str_at(&self, key: &str) -> anyhow::Result<&'a str> {
        self.get(key)?.str()
    }

    /// The string `key`, or `None` when absent or null.
    pub(crate) fn opt_str(&self, key: &str) -> anyhow::Result<Option<&'a str>> {
        self.opt(key)?.map(|v| v.str()).transpose()
    }

    /// This whole number (a JSON integer, or a float with no fraction).
    pub(crate) fn int(&self) -> anyhow::Result<i64> {
        match self.v {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                })
                .ok_or_else(|| self.error(format!("expected a whole number, found {n}"))),
            _ => Err(self.expected("a whole number")),
        }
    }

    /// The whole number `key`, which must be there.
    pub(crate) fn int_at(&self, key: &str) -> anyhow::Result<i64> {
        self.get(key)?.int()
    }

    /// The whole number `key`, or `None` when absent or null.
    pub(crate) fn opt_int(&self, key: &str) -> anyhow::Result<Option<i64>> {
        self.opt(key)?.map(|v| v.int()).transpose()
    }

    /// This boolean.
    pub(crate) fn bool(&self) -> anyhow::Result<bool> {
        match self.v {
            Value::Bool(b) => Ok(*b),
            _ => Err(self.expected("true or false")),
        }
    }

    /// This string as an RFC 3339 date-time with an offset.
    pub(crate) fn instant(&self) -> anyhow::Result<DateTime<FixedOffset>> {
        let s = self.str()?;
        DateTime::parse_from_rfc3339(s.trim()).map_err(|e| {
            self.error(format!(
                "{s:?} is not an RFC 3339 date-time with an offset ({e})"
            ))
        })
    }

    /// The RFC 3339 date-time `key`, which must be there.
    pub(crate) fn instant_at(&self, key: &str) -> anyhow::Result<DateTime<FixedOffset>> {
        self.get(key)?.instant()
    }

    /// The RFC 3339 date-time `key`, or `None` when absent or null.
    pub(crate) fn opt_instant(&self, key: &str) -> anyhow::Result<Option<DateTime<FixedOffset>>> {
        self.opt(key)?.map(|v| v.instant()).transpose()
    }

    /// This string as a date-time without an offset (`2025-05-05T08:00:00`).
    pub(crate) fn civil(&self) -> anyhow::Result<NaiveDateTime> {
        let s = self.str()?;
        rota_core::tz::parse_civil(s).ok_or_else(|| {
            self.error(format!(
                "{s:?} is not a date-time without offset such as \"2025-05-05T08:00:00\""
            ))
        })
    }

    /// The offset-free date-time `key`, or `None` when absent or null.
    pub(crate) fn opt_civil(&self, key: &str) -> anyhow::Result<Option<NaiveDateTime>> {
        self.opt(key)?.map(|v| v.civil()).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_and_the_path() {
        let d = Doc::parse("s.json", r#"{"a": {"b": [1, "x", null]}}"#).unwrap();
        let b = d
            .root()
            .get("a")
            .unwrap()
            .get("b")
            .unwrap()
            .array()
            .unwrap();
        assert_eq!(b[0].int().unwrap(), 1);
        let e = b[1].int().unwrap_err().to_string();
        assert_eq!(e, "s.json: a.b[1]: expected a whole number, found a string");
        let e = d.root().get("a").unwrap().get("c").unwrap_err().to_string();
        assert_eq!(e, "s.json: missing `c` in a");
        let e = b[0].get("x").unwrap_err().to_string();
        assert_eq!(e, "s.json: a.b[0]: expected an object, found a number");
        let e = Doc::parse("t.json", "{").err().unwrap().to_string();
        assert!(e.starts_with("t.json: not valid JSON: EOF"), "{e}");
    }

    #[test]
    fn files_over_the_limit_are_refused_before_parsing() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.json");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_BYTES + 1).unwrap();
        let e = Doc::read(&big).err().unwrap().to_string();
        assert_eq!(
            e,
            format!(
                "{}: larger than 64 MiB, the most rota import reads from one file",
                big.display()
            )
        );
        // A device has no length: read up to the limit, then refused.
        if Path::new("/dev/zero").exists() {
            let e = Doc::read(Path::new("/dev/zero")).err().unwrap().to_string();
            assert!(e.contains("larger than 64 MiB"), "{e}");
        }
        let ok = dir.path().join("ok.json");
        std::fs::write(&ok, "{\"a\": 1}").unwrap();
        assert_eq!(Doc::read(&ok).unwrap().root().int_at("a").unwrap(), 1);
    }
}
