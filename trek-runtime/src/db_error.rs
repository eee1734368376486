//! PostgreSQL errors turned into reports that point into the migration file.

use std::fmt;

use postgres::error::ErrorPosition;
use trek_core::Location;

/// A statement of a migration failed in PostgreSQL.
///
/// Carries what PostgreSQL said (SQLSTATE, message, detail, hint) and where in the file it
/// happened, mapped from PostgreSQL's error position. Its `Display` looks like a compiler's:
///
/// ```text
/// 0003_orders.sql:4:17: ERROR 42P01: relation "userz" does not exist
///     |
///   4 |     user_id int REFERENCES userz(id),
///     |                 ^
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlFailure {
    /// The five-character SQLSTATE (`42P01`).
    pub code: String,
    /// PostgreSQL's primary message.
    pub message: String,
    /// PostgreSQL's detail, when it gave one.
    pub detail: Option<String>,
    /// PostgreSQL's hint, when it gave one.
    pub hint: Option<String>,
    /// The script's path relative to the migrations folder.
    pub path: String,
    /// Where in the script, when PostgreSQL reported a position.
    pub location: Option<Location>,
    /// For errors inside a function body: the internal query and position PostgreSQL reported.
    pub internal: Option<(String, u32)>,
    /// What trek adds about the text it ran, e.g. that a down script is the one captured when
    /// its migration was applied, not today's file.
    pub note: Option<String>,
}

impl SqlFailure {
    /// One line: `0003_orders.sql:4:17: ERROR 42P01: relation "userz" does not exist`.
    pub fn headline(&self) -> String {
        let at = self
            .location
            .as_ref()
            .map(|l| format!(":{}:{}", l.line, l.column))
            .unwrap_or_default();
        format!("{}{at}: ERROR {}: {}", self.path, self.code, self.message)
    }

    /// For SQLSTATE 25001 ("cannot run inside a transaction block") in `script`, which trek
    /// ran inside a transaction: points at the statement (PostgreSQL gives no position) and
    /// says the file needs `-- trek:no_transaction`.
    pub(crate) fn explain_transaction_block(&mut self, script: &str) {
        if self.code != "25001" {
            return;
        }
        let found = trek_core::split::split(script)
            .into_iter()
            .find_map(|s| Some((s.offset, trek_core::split::outside_transaction(s.text)?)));
        let what = found.map_or("this statement", |(_, what)| what);
        if self.location.is_none() {
            self.location = found.map(|(offset, _)| Location::of_byte_offset(script, offset));
        }
        let advice = format!(
            "{what} cannot run inside a transaction block, and trek runs this file in one: put \
             `-- trek:no_transaction` on its first line (trek then sends it statement by \
             statement, outside a transaction; keep such a file to statements that need it)"
        );
        self.hint = Some(match self.hint.take() {
            Some(hint) => format!("{hint}; {advice}"),
            None => advice,
        });
    }

    /// When PostgreSQL gave no position (it gives none for, e.g., `DROP TABLE` of a table that
    /// does not exist, or a duplicate object), points at the first place in `script` that
    /// names the object its message quotes (`table "u_typo" does not exist`): an identifier
    /// with that name, unquoted (compared as PostgreSQL folds it) or quoted (exactly).
    /// Nothing is re-run. Leaves the location empty when no statement names it.
    pub(crate) fn locate_named_object(&mut self, script: &str) {
        if self.location.is_some() {
            return;
        }
        let names: Vec<&str> = self.message.split('"').skip(1).step_by(2).collect();
        let found = names.iter().find_map(|name| {
            trek_core::lex::tokens(script).find(|t| match t.kind {
                trek_core::lex::TokenKind::Word => t.text.to_lowercase() == *name,
                trek_core::lex::TokenKind::QuotedIdent => {
                    t.text.len() >= 2 && t.text[1..t.text.len() - 1].replace("\"\"", "\"") == *name
                }
                _ => false,
            })
        });
        if let Some(token) = found {
            self.location = Some(Location::of_byte_offset(script, token.offset));
        }
    }

    /// Builds the report for an error raised while running `script` (the file at `path`),
    /// which was sent starting at character `char_offset` of the query text and, inside the
    /// file, starts at byte `byte_offset`. Returns `None` when the error did not come from the
    /// server (a broken connection, say).
    pub fn from_error(
        error: &postgres::Error,
        path: &str,
        file_text: &str,
        byte_offset: usize,
        char_offset: usize,
        sent_chars: usize,
    ) -> Option<SqlFailure> {
        let db = error.as_db_error()?;
        let mut location = None;
        let mut internal = None;
        match db.position() {
            Some(ErrorPosition::Original(pos)) => {
                let pos = *pos as usize;
                if pos > char_offset && pos <= char_offset + sent_chars + 1 {
                    let within = pos - char_offset;
                    let start_chars = file_text[..byte_offset.min(file_text.len())]
                        .chars()
                        .count();
                    location = Some(Location::of_char_position(file_text, start_chars + within));
                }
            }
            Some(ErrorPosition::Internal { position, query }) => {
                internal = Some((query.clone(), *position));
            }
            None => {}
        }
        Some(SqlFailure {
            code: db.code().code().to_owned(),
            message: db.message().to_owned(),
            detail: db.detail().map(str::to_owned),
            hint: db.hint().map(str::to_owned),
            path: path.to_owned(),
            location,
            internal,
            note: None,
        })
    }
}

impl fmt::Display for SqlFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "{}:{}:{}: ", self.path, loc.line, loc.column)?,
            None => write!(f, "{}: ", self.path)?,
        }
        write!(f, "ERROR {}: {}", self.code, self.message)?;
        if let Some(loc) = &self.location {
            let number = loc.line.to_string();
            let pad = " ".repeat(number.len());
            let caret_pad: String = loc
                .line_text
                .chars()
                .take(loc.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(
                f,
                "\n {pad} |\n {number} | {}\n {pad} | {caret_pad}^",
                loc.line_text
            )?;
        }
        if let Some((query, position)) = &self.internal {
            let loc = Location::of_char_position(query, *position as usize);
            write!(
                f,
                "\n  in a function body, line {}: {}",
                loc.line,
                loc.line_text.trim()
            )?;
        }
        if let Some(note) = &self.note {
            write!(f, "\n  note: {note}")?;
        }
        if let Some(detail) = &self.detail {
            write!(f, "\n  detail: {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Describes a `postgres::Error` for people: the server's SQLSTATE, message, detail and hint
/// (since postgres 0.19.12 a server error displays as just "db error"), or for a client-side
/// error its chain of causes (`error connecting to server: Connection refused (os error 111)`).
pub fn describe(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        let mut text = format!("ERROR {}: {}", db.code().code(), db.message());
        if let Some(detail) = db.detail() {
            text.push_str(&format!(" (detail: {detail})"));
        }
        if let Some(hint) = db.hint() {
            text.push_str(&format!(" (hint: {hint})"));
        }
        return text;
    }
    error_chain(error)
}

/// An error and its causes on one line, `error: cause: cause`. A `postgres::Error` from the
/// server is described by [`describe`] (its own text is just "db error"); each layer's
/// message describes only that layer, so nothing repeats.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        if let Some(pg) = cause
            .downcast_ref::<postgres::Error>()
            .filter(|e| e.as_db_error().is_some())
        {
            text.push_str(&describe(pg));
            break;
        }
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(message: &str) -> SqlFailure {
        SqlFailure {
            code: "42P01".to_owned(),
            message: message.to_owned(),
            detail: None,
            hint: None,
            path: "2_u.down.sql".to_owned(),
            location: None,
            internal: None,
            note: None,
        }
    }

    #[test]
    fn an_error_without_a_position_points_at_the_object_it_names() {
        let script = "DROP TABLE u;\n-- u_typo in a comment does not count\nDROP TABLE U_Typo;\n";
        let mut f = failure("table \"u_typo\" does not exist");
        f.locate_named_object(script);
        let at = f.location.expect("located");
        assert_eq!((at.line, at.column), (3, 12));

        let mut quoted = failure("relation \"Mixed Case\" already exists");
        quoted.locate_named_object("SELECT 1;\nCREATE TABLE \"Mixed Case\" (id int);");
        assert_eq!(quoted.location.map(|l| l.line), Some(2));

        let mut nowhere = failure("table \"elsewhere\" does not exist");
        nowhere.locate_named_object(script);
        assert!(nowhere.location.is_none());
    }
}
