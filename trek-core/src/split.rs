//! Splitting a SQL script into statements, the way PostgreSQL's lexer sees them.

/// One statement of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement text, from its first non-blank, non-comment character up to and not
    /// including its terminating `;`.
    pub text: &'a str,
    /// Byte offset of `text` in the script.
    pub offset: usize,
}

/// Splits `sql` on the `;` that end statements, ignoring `;` inside single-quoted strings
/// (`'…'`, `E'…'` with backslash escapes), dollar-quoted strings (`$$…$$`, `$tag$…$tag$`),
/// quoted identifiers (`"…"`), `--` comments and nested `/* */` comments. Statements that hold
/// only whitespace and comments are dropped. An unterminated quote or comment runs to the end.
pub fn split(sql: &str) -> Vec<Statement<'_>> {
    todo!()
}
