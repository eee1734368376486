//! `cargo trek lint` for people (compiler-style findings with the line they point at) and for
//! machines (`--json`).

use trek::lint::{Finding, Severity, TableSize};

use super::human::size;
use super::{paint, style};
use crate::commands::lint::Checked;
use crate::json as doc;

/// `3 warnings`, `1 migration`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The table size for people: `~200000 rows, 9.1 MiB`, `does not exist yet`.
pub fn table_size(table: &TableSize) -> String {
    if !table.exists {
        return "does not exist yet (a pending migration creates it)".to_owned();
    }
    format!(
        "{}{} rows, {}",
        if table.rows_estimated { "~" } else { "" },
        table.rows,
        size(i64::try_from(table.bytes).unwrap_or(i64::MAX))
    )
}

/// The findings, each like a compiler's diagnostic, then a summary line.
pub fn text(checked: &[Checked<'_>], database: Option<&str>) -> Vec<String> {
    let mut lines = Vec::new();
    for file in checked {
        for finding in &file.findings {
            lines.extend(diagnostic(file, finding));
            lines.push(String::new());
        }
    }
    let all: Vec<&Finding> = checked.iter().flat_map(|c| &c.findings).collect();
    let by = |s: Severity| all.iter().filter(|f| f.severity == s).count();
    let scope = match database {
        Some(db) => format!("with table sizes from {db}"),
        None => "without table sizes".to_owned(),
    };
    // A migration and its down are one migration checked.
    let migrations = checked.iter().filter(|c| !c.down).count();
    if all.is_empty() {
        lines.push(format!(
            "{} checked, {scope}: no findings",
            count(migrations, "migration")
        ));
    } else {
        let mut parts = Vec::new();
        for (severity, noun) in [
            (Severity::Error, "error"),
            (Severity::Warning, "warning"),
            (Severity::Note, "note"),
        ] {
            if by(severity) > 0 {
                parts.push(count(by(severity), noun));
            }
        }
        lines.push(paint(
            style::BOLD,
            format!(
                "{} checked, {scope}: {}",
                count(migrations, "migration"),
                parts.join(", ")
            ),
        ));
    }
    lines
}

fn diagnostic(file: &Checked<'_>, f: &Finding) -> Vec<String> {
    let severity_style = match f.severity {
        Severity::Note => style::DIM,
        Severity::Warning => style::WARN,
        _ => style::ERROR,
    };
    let mut lines = vec![
        format!(
            "{}{} {}",
            paint(severity_style, format!("{}[{}]", f.severity, f.rule)),
            paint(style::BOLD, ":"),
            f.message
        ),
        format!(
            "{} {}:{}:{}",
            paint(style::DIM, "  -->"),
            file.path,
            f.line,
            f.column
        ),
    ];
    if let Some(text) = file.sql.lines().nth(f.line - 1) {
        let number = f.line.to_string();
        let pad = " ".repeat(number.len());
        let caret = " ".repeat(
            text.chars()
                .take(f.column.saturating_sub(1))
                .map(|c| if c == '\t' { c.len_utf8() * 4 } else { 1 })
                .sum(),
        );
        lines.push(format!(" {pad} {}", paint(style::DIM, "|")));
        lines.push(format!(" {number} {} {text}", paint(style::DIM, "|")));
        lines.push(format!(
            " {pad} {} {caret}{}",
            paint(style::DIM, "|"),
            paint(severity_style, "^")
        ));
    }
    if let (Some(table), Some(size)) = (&f.table, &f.size) {
        let mut note = format!("{table}: {}", table_size(size));
        if f.severity == Severity::Note && f.rule.scales_with_table() {
            note.push_str(" — small enough that this is only a note");
        }
        lines.push(format!("   {} {note}", paint(style::DIM, "=")));
    }
    lines.push(format!("   {} {}", paint(style::DIM, "= help:"), f.help));
    lines
}

/// The findings as one JSON document.
pub fn json(checked: &[Checked<'_>], database: Option<&str>, small_table_rows: u64) -> doc::Lint {
    let findings = checked
        .iter()
        .flat_map(|c| c.findings.iter().map(move |f| (c, f)))
        .map(|(c, f)| doc::LintFinding {
            file: c.path.clone(),
            migration: c.label.clone(),
            line: f.line,
            column: f.column,
            rule: f.rule.as_str().to_owned(),
            severity: super::json::severity(f.severity),
            message: f.message.clone(),
            help: f.help.clone(),
            table: f.table.clone(),
            table_size: f.size.map(|s| doc::TableSize {
                exists: s.exists,
                rows: s.rows,
                rows_estimated: s.rows_estimated,
                bytes: s.bytes,
            }),
        })
        .collect();
    doc::Lint {
        schema: doc::LintSchema,
        database: database.map(str::to_owned),
        small_table_rows,
        checked: checked.iter().map(|c| c.path.clone()).collect(),
        findings,
    }
}
