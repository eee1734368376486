//! Text for people: tables, states in colour, run reports.

use anstyle::Style;
use trek::{AuditEntry, Kind, Report, State, Status, StatusEntry, Step};

use super::{paint, style};

/// A table with a bold header row and columns padded to their widest cell.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<(String, Style)>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&'static str]) -> Table {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row of styled cells.
    pub fn row(&mut self, cells: Vec<(String, Style)>) {
        self.rows.push(cells);
    }

    /// The table as lines, without trailing spaces.
    pub fn render(&self) -> Vec<String> {
        let columns = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, (text, _)) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(text.chars().count());
            }
        }
        let line = |cells: Vec<(String, Style)>| {
            let last = cells
                .iter()
                .rposition(|(text, _)| !text.is_empty())
                .unwrap_or(0);
            let mut out = String::new();
            for (i, (text, style)) in cells.into_iter().enumerate().take(last + 1) {
                if i > 0 {
                    out.push_str("  ");
                }
                let pad = if i == last {
                    0
                } else {
                    widths[i].saturating_sub(text.chars().count())
                };
                out.push_str(&paint(style, &text));
                out.push_str(&" ".repeat(pad));
            }
            out
        };
        let mut lines = vec![line(
            self.headers
                .iter()
                .map(|h| ((*h).to_owned(), style::BOLD))
                .collect(),
        )];
        lines.extend(self.rows.iter().cloned().map(line));
        lines
    }
}

/// The style of a state: green when applied, yellow when pending, red otherwise.
pub fn state_style(state: State) -> Style {
    match state {
        State::Applied => style::GOOD,
        State::Pending => style::WARN,
        _ => style::ERROR,
    }
}

/// How an entry's version is shown: the version, `seed VERSION`, or `repeatable`.
fn version_cell(kind: Kind, version: Option<&str>) -> String {
    match (kind, version) {
        (Kind::Versioned, Some(v)) => v.to_owned(),
        (Kind::Seed, Some(v)) => format!("seed {v}"),
        (Kind::Repeatable, _) => "repeatable".to_owned(),
        (_, None) => String::new(),
    }
}

/// `2026-11-21T09:30:00Z` as `2026-11-21 09:30:00`.
fn when(at: &str) -> String {
    at.trim_end_matches('Z').replacen('T', " ", 1)
}

/// The status table and its summary line.
pub fn status(status: &Status, database: &str) -> Vec<String> {
    let mut lines = Vec::new();
    if status.entries.is_empty() {
        lines.push("no migrations yet: create one with `cargo trek new NAME`".to_owned());
    } else {
        let mut table = Table::new(&["VERSION", "NAME", "STATE", "APPLIED AT (UTC)"]);
        for entry in &status.entries {
            table.row(status_row(entry));
        }
        lines.extend(table.render());
        lines.push(String::new());
    }
    let mut counts = Vec::new();
    for state in [
        State::Applied,
        State::Pending,
        State::Modified,
        State::OutOfOrder,
        State::Missing,
        State::Failed,
    ] {
        let n = status.count(state);
        if n > 0 {
            counts.push(paint(state_style(state), format!("{n} {state}")));
        }
    }
    let mut summary = if counts.is_empty() {
        String::from("nothing")
    } else {
        counts.join(", ")
    };
    summary.push_str(&paint(style::DIM, format!(" · {database}")));
    match &status.stamp {
        Some(stamp) => summary.push_str(&paint(style::DIM, format!(" (stamped {stamp})"))),
        None if !status.initialized => {
            summary.push_str(&paint(style::DIM, " (trek has not run here yet)"));
        }
        None => {}
    }
    lines.push(summary);
    lines
}

fn status_row(entry: &StatusEntry) -> Vec<(String, Style)> {
    vec![
        (
            version_cell(entry.kind, entry.version.as_deref()),
            style::PLAIN,
        ),
        (entry.name.clone(), style::PLAIN),
        (entry.state.to_string(), state_style(entry.state)),
        (
            entry.applied_at.as_deref().map(when).unwrap_or_default(),
            style::DIM,
        ),
    ]
}

/// One line for a step: `applied 0001 create_users (12 ms)`.
pub fn step(verb: &str, step: &Step) -> String {
    format!(
        "{} {step} {}",
        paint(style::GOOD, format!("{verb:>9}")),
        paint(style::DIM, format!("({} ms)", step.duration.as_millis()))
    )
}

/// The lines of a run's report (steps, then a summary: `{database} {noop}` when nothing
/// changed); warnings are printed separately.
pub fn report(report: &Report, verb_done: &str, database: &str, noop: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for s in &report.reverted {
        lines.push(step("reverted", s));
    }
    for s in &report.applied {
        lines.push(step(verb_done, s));
    }
    let summary = if report.is_noop() {
        format!("{database} {noop}")
    } else {
        let mut parts = Vec::new();
        if !report.reverted.is_empty() {
            parts.push(format!(
                "reverted {}",
                plural(report.reverted.len(), "script")
            ));
        }
        if !report.applied.is_empty() {
            parts.push(format!(
                "{verb_done} {}",
                plural(report.applied.len(), "script")
            ));
        }
        format!(
            "{} on {database} in {} ms",
            parts.join(", "),
            report.duration.as_millis()
        )
    };
    lines.push(paint(style::BOLD, summary));
    lines
}

/// `1 script`, `3 scripts`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The audit table.
pub fn audit(entries: &[AuditEntry]) -> Vec<String> {
    if entries.is_empty() {
        return vec!["the audit log is empty".to_owned()];
    }
    let mut table = Table::new(&[
        "AT (UTC)", "ACTION", "SCRIPT", "OUTCOME", "MS", "WORKFLOW", "BY",
    ]);
    for e in entries {
        let script = match (e.kind.as_deref(), e.version.as_deref(), e.name.as_deref()) {
            (Some("versioned") | None, Some(v), Some(n)) => format!("{v} {n}"),
            (Some(kind), Some(v), Some(n)) => format!("{kind} {v} {n}"),
            (Some(kind), None, Some(n)) => format!("{kind} {n}"),
            (_, _, Some(n)) => n.to_owned(),
            _ => String::new(),
        };
        let outcome_style = if e.outcome == "ok" || e.outcome == "success" {
            style::GOOD
        } else {
            style::ERROR
        };
        table.row(vec![
            (when(&e.at), style::DIM),
            (e.action.clone(), style::PLAIN),
            (script, style::PLAIN),
            (e.outcome.clone(), outcome_style),
            (
                e.duration_ms.map(|d| d.to_string()).unwrap_or_default(),
                style::DIM,
            ),
            (e.workflow.clone().unwrap_or_default(), style::PLAIN),
            (e.db_user.clone(), style::DIM),
        ]);
    }
    let mut lines = table.render();
    for e in entries.iter().filter(|e| e.error.is_some()) {
        if let Some(error) = &e.error {
            lines.push(format!(
                "{} {}",
                paint(style::ERROR, format!("#{} error:", e.id)),
                error.lines().next().unwrap_or_default()
            ));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_columns_and_drops_trailing_blanks() {
        let mut t = Table::new(&["A", "BB", "C"]);
        t.row(vec![
            ("xyz".to_owned(), style::PLAIN),
            ("1".to_owned(), style::PLAIN),
            (String::new(), style::PLAIN),
        ]);
        let lines: Vec<String> = t
            .render()
            .iter()
            .map(|l| anstream::adapter::strip_str(l).to_string())
            .collect();
        assert_eq!(lines, vec!["A    BB  C", "xyz  1"]);
    }
}
