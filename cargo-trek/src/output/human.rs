//! Text for people: tables, states in colour, run reports, plans, snapshots and diffs.

use anstyle::Style;
use trek::{
    AuditEntry, Kind, Plan, Report, SnapshotInfo, State, Status, StatusEntry, Step, StepAction,
    Undo, Workflow,
};

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
        (Kind::Seed, Some(v)) => v.to_owned(),
        (Kind::Repeatable, _) => String::new(),
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
        // Migrations, repeatables and seeds each get their own table; the headings appear
        // when there is more than one.
        let groups: Vec<(Kind, &str, &[&'static str])> = vec![
            (
                Kind::Versioned,
                "migrations",
                &["VERSION", "NAME", "STATE", "APPLIED AT (UTC)"],
            ),
            (
                Kind::Repeatable,
                "repeatables (run when they change, after the migrations)",
                &["NAME", "STATE", "LAST RUN (UTC)"],
            ),
            (
                Kind::Seed,
                "seeds (test data, never in prod)",
                &["VERSION", "NAME", "STATE", "APPLIED AT (UTC)"],
            ),
        ];
        let present = groups
            .iter()
            .filter(|(kind, ..)| status.entries.iter().any(|e| e.kind == *kind))
            .count();
        for (kind, heading, headers) in groups {
            let entries: Vec<&StatusEntry> =
                status.entries.iter().filter(|e| e.kind == kind).collect();
            if entries.is_empty() {
                continue;
            }
            if present > 1 {
                lines.push(paint(style::BOLD, heading));
            }
            let mut table = Table::new(headers);
            for entry in entries {
                table.row(status_row(entry));
            }
            lines.extend(table.render());
            lines.push(String::new());
        }
    }
    let mut counts = Vec::new();
    for state in [
        State::Applied,
        State::Pending,
        State::Modified,
        State::OutOfOrder,
        State::Missing,
        State::Failed,
        State::HalfReverted,
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
    let version = (entry.kind != Kind::Repeatable).then(|| {
        (
            version_cell(entry.kind, entry.version.as_deref()),
            style::PLAIN,
        )
    });
    version
        .into_iter()
        .chain([
            (entry.name.clone(), style::PLAIN),
            (entry.state.to_string(), state_style(entry.state)),
            (
                entry.applied_at.as_deref().map(when).unwrap_or_default(),
                style::DIM,
            ),
        ])
        .collect()
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

/// What a workflow run will do, for `status` (and any command that shows a plan before
/// running it): where the database leaves the migrations and why, how that is undone, and the
/// steps the run takes, in order, each with its reason (the list the engine walks).
///
/// ```text
/// plan (qa workflow):
///   differs at  0003 add_orders: edited since it was applied
///   undo        restore snapshot #4 (before 0003 add_orders, pg_dump, taken 2026-11-21 09:30:00)
///   steps       restore snapshot #4 (...) (the newest snapshot whose applied migrations are ...)
///               apply 0003 add_orders
///               apply 0004 add_index
/// ```
pub fn plan(plan: &Plan) -> Vec<String> {
    let workflow = plan.workflow;
    if plan.is_noop() && plan.divergence.is_none() {
        return vec![format!(
            "{} {}",
            paint(style::BOLD, "plan:"),
            paint(style::DIM, format!("nothing to do ({workflow} workflow)"))
        )];
    }
    let mut lines = vec![paint(style::BOLD, format!("plan ({workflow} workflow):"))];
    let row = |key: &str, value: String| {
        format!("  {}  {value}", paint(style::DIM, format!("{key:<10}")))
    };
    if let Some(d) = &plan.divergence {
        lines.push(row(
            "differs at",
            format!("{}: {}", paint(style::WARN, &d.label), d.reason),
        ));
    }
    let undo = match &plan.undo {
        Undo::Nothing if plan.divergence.is_some() && workflow == Workflow::Prod => Some(paint(
            style::DIM,
            "nothing: the prod workflow never rewinds",
        )),
        Undo::Nothing => None,
        Undo::Rewind { scripts } => Some(format!(
            "rewind {} with the captured down scripts: {}",
            plural(scripts.len(), "script"),
            scripts.join(", ")
        )),
        Undo::Reset { reason, .. } => Some(format!(
            "{} ({reason})",
            paint(style::WARN, "reset the database")
        )),
        Undo::Restore { snapshot } => Some(format!(
            "restore snapshot #{} ({}, {}, taken {})",
            snapshot.id,
            snapshot.label,
            snapshot.strategy,
            when(&snapshot.taken_at)
        )),
        Undo::Blocked { reason } => Some(format!("{} {reason}", paint(style::ERROR, "blocked:"))),
    };
    if let Some(undo) = undo {
        lines.push(row("undo", undo));
    }
    if plan.steps.is_empty() {
        // A blocked plan has no steps; show what is pending.
        if plan.apply.is_empty() {
            lines.push(row("steps", paint(style::DIM, "nothing")));
        }
        for (i, script) in plan.apply.iter().enumerate() {
            lines.push(row(if i == 0 { "pending" } else { "" }, script.to_string()));
        }
    }
    for (i, step) in plan.steps.iter().enumerate() {
        let routine = step.action == StepAction::Apply && step.reason.starts_with("pending");
        // `run repeatable views` rather than `run-repeatable repeatable views`.
        let verb = match step.action {
            StepAction::RunRepeatable => "run",
            other => other.as_str(),
        };
        let text = if routine {
            format!("{verb} {}", step.subject)
        } else {
            format!(
                "{verb} {} {}",
                step.subject,
                paint(style::DIM, format!("({})", step.reason))
            )
        };
        lines.push(row(if i == 0 { "steps" } else { "" }, text));
    }
    lines
}

/// The path a run took to undo a divergence, in one line, from the plan it followed (`None`
/// when there was nothing to undo):
/// `rewound 2 scripts with their captured down scripts — 0003 x: edited since it was applied`,
/// `reset the database: 0002 y has no captured down script`,
/// `restored snapshot #4 (before 0003 add_orders, pg_dump) — 0003 add_orders: edited since it
/// was applied`.
pub fn path_taken(plan: &Plan) -> Option<String> {
    let because = plan
        .divergence
        .as_ref()
        .map(|d| format!("{}: {}", d.label, d.reason));
    let line = match &plan.undo {
        Undo::Nothing | Undo::Blocked { .. } => return None,
        Undo::Rewind { scripts } => format!(
            "{} {} with {} captured down script{}{}",
            paint(style::GOOD, "rewound"),
            plural(scripts.len(), "script"),
            if scripts.len() == 1 { "its" } else { "their" },
            if scripts.len() == 1 { "" } else { "s" },
            because.map(|b| format!(" — {b}")).unwrap_or_default()
        ),
        Undo::Reset { reason, .. } => {
            format!("{} the database: {reason}", paint(style::GOOD, "reset"))
        }
        Undo::Restore { snapshot } => format!(
            "{} snapshot #{} ({}, {}){}",
            paint(style::GOOD, "restored"),
            snapshot.id,
            snapshot.label,
            snapshot.strategy,
            because.map(|b| format!(" — {b}")).unwrap_or_default()
        ),
    };
    Some(line)
}

/// One line for the prefix template a reset copied: `copied the prefix template
/// app__trek_prefix_3fa2c1d0e9b8 (143 migrations, built now in 812 ms) in 41 ms`.
pub fn prefix_template(used: &trek::PrefixTemplateUse) -> String {
    let built = if used.built {
        format!(", built now in {} ms", used.build.as_millis())
    } else if used.ready_copy {
        ", a copy made ahead".to_owned()
    } else {
        String::new()
    };
    format!(
        "{} the prefix template {} ({}{built}) in {} ms",
        paint(style::GOOD, "copied"),
        used.name,
        plural(used.migrations, "migration"),
        used.copy.as_millis()
    )
}

/// One line for a snapshot a run took: `took snapshot #5 (before 0004 x, pg_dump, 12.0 KiB)
/// in target/trek/snapshots/qa/5.dump`.
pub fn snapshot_taken(snapshot: &SnapshotInfo) -> String {
    let size = snapshot
        .size_bytes
        .map(|b| format!(", {}", size(b)))
        .unwrap_or_default();
    format!(
        "{} snapshot #{} ({}, {}{size}) {}",
        paint(style::GOOD, "took"),
        snapshot.id,
        snapshot.label,
        snapshot.strategy,
        paint(style::DIM, format!("at {}", snapshot.location))
    )
}

/// The snapshot catalogue as a table, newest first as given.
pub fn snapshots(list: &[SnapshotInfo], database: &str) -> Vec<String> {
    if list.is_empty() {
        return vec![format!("no snapshots of {database}")];
    }
    let mut table = Table::new(&[
        "ID",
        "TAKEN AT (UTC)",
        "STRATEGY",
        "LABEL",
        "SIZE",
        "LOCATION",
    ]);
    for s in list {
        table.row(vec![
            (s.id.to_string(), style::BOLD),
            (when(&s.taken_at), style::DIM),
            (s.strategy.clone(), style::PLAIN),
            (s.label.clone(), style::PLAIN),
            (
                s.size_bytes.map(size).unwrap_or_else(|| "-".to_owned()),
                style::PLAIN,
            ),
            (s.location.clone(), style::DIM),
        ]);
    }
    let mut lines = table.render();
    lines.push(String::new());
    lines.push(paint(
        style::DIM,
        format!("{} · {database}", plural(list.len(), "snapshot")),
    ));
    lines
}

/// A size for people: `512 B`, `12.0 KiB`, `3.4 MiB`, `1.2 GiB`.
pub fn size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A unified diff of an edited migration: the script as it was applied against the file now,
/// `-` lines red and `+` lines green (on a terminal), headers bold.
pub fn diff(applied: &str, file: &str, path: &str) -> Vec<String> {
    unified_diff(applied, file, path)
        .lines()
        .map(|line| {
            if line.starts_with("---") || line.starts_with("+++") {
                paint(style::BOLD, line)
            } else if line.starts_with("@@") {
                paint(style::HUNK, line)
            } else if line.starts_with('-') {
                paint(style::REMOVED, line)
            } else if line.starts_with('+') {
                paint(style::ADDED, line)
            } else {
                line.to_owned()
            }
        })
        .collect()
}

/// The plain unified diff (`--- applied`, `+++ PATH`, hunks with 3 lines of context).
pub fn unified_diff(applied: &str, file: &str, path: &str) -> String {
    let mut text = similar::TextDiff::from_lines(applied, file)
        .unified_diff()
        .context_radius(3)
        .header("applied", path)
        .missing_newline_hint(false)
        .to_string();
    if !text.ends_with('\n') && !text.is_empty() {
        text.push('\n');
    }
    text
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
        "AT (UTC)", "ACTION", "SCRIPT", "OUTCOME", "MS", "WORKFLOW", "BY", "CLIENT",
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
            (e.client.clone().unwrap_or_default(), style::DIM),
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

    fn plain(lines: &[String]) -> Vec<String> {
        lines
            .iter()
            .map(|l| anstream::adapter::strip_str(l).to_string())
            .collect()
    }

    #[test]
    fn diffs_show_removed_and_added_lines() {
        let lines = plain(&diff(
            "CREATE TABLE users (\n  id int\n);\n",
            "CREATE TABLE users (\n  id bigint\n);\n",
            "migrations/0001_users.sql",
        ));
        assert_eq!(
            lines,
            vec![
                "--- applied",
                "+++ migrations/0001_users.sql",
                "@@ -1,3 +1,3 @@",
                " CREATE TABLE users (",
                "-  id int",
                "+  id bigint",
                " );",
            ]
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(size(512), "512 B");
        assert_eq!(size(12 * 1024), "12.0 KiB");
        assert_eq!(size(3 * 1024 * 1024 + 400 * 1024), "3.4 MiB");
    }

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
