//! The dry run for people and for machines: per script, what it would touch, lock and
//! rewrite.

use trek::{DryRun, Outcome, Simulated};

use super::human::{self, Table};
use super::json::{kind, millis, severity};
use super::{paint, style};
use crate::json as doc;

/// `1.2 MiB`.
pub fn bytes(n: i64) -> String {
    let n = n as f64;
    if n >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} GiB", n / (1024.0 * 1024.0 * 1024.0))
    } else if n >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", n / (1024.0 * 1024.0))
    } else if n >= 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// The dry run as text: the plan, then one block per script, then a summary.
pub fn text(dry: &DryRun, database: &str) -> Vec<String> {
    let mut lines = human::plan(&dry.plan);
    lines.push(String::new());
    for script in &dry.scripts {
        lines.extend(block(script));
        lines.push(String::new());
    }
    let simulated = dry
        .scripts
        .iter()
        .filter(|s| s.outcome == Outcome::Simulated)
        .count();
    let mut summary = format!(
        "dry run on {database}: simulated {simulated} of {} script(s) in {} ms and rolled back; nothing was changed",
        dry.scripts.len(),
        dry.duration.as_millis()
    );
    if dry.blocks_reads_on_data() {
        summary.push_str(&paint(
            style::WARN,
            " — some scripts take an AccessExclusiveLock on tables with data: reads and writes wait while they run",
        ));
    }
    lines.push(paint(style::BOLD, summary));
    lines
}

fn block(s: &Simulated) -> Vec<String> {
    let mut lines = Vec::new();
    let (state, state_style) = match &s.outcome {
        Outcome::Simulated => (format!("{} ms", s.duration.as_millis()), style::DIM),
        Outcome::NotSimulated { reason } => (format!("not simulated: {reason}"), style::WARN),
        Outcome::Failed { .. } => ("fails".to_owned(), style::ERROR),
    };
    lines.push(format!(
        "{} {}",
        paint(style::BOLD, &s.script),
        paint(state_style, format!("({state})"))
    ));
    if let Outcome::Failed { error } = &s.outcome {
        for line in error.lines() {
            lines.push(format!("  {line}"));
        }
    }
    if !s.statements.is_empty() {
        let mut table = Table::new(&["  STATEMENT", "ROWS", "MS"]);
        for st in &s.statements {
            table.row(vec![
                (format!("  {}", st.text), style::PLAIN),
                (
                    st.rows.map(|r| r.to_string()).unwrap_or_default(),
                    style::PLAIN,
                ),
                (st.duration.as_millis().to_string(), style::DIM),
            ]);
        }
        lines.extend(table.render());
    }
    for (label, items) in [
        ("created", &s.created),
        ("altered", &s.altered),
        ("dropped", &s.dropped),
    ] {
        if !items.is_empty() {
            lines.push(format!("  {label:<9} {}", items.join(", ")));
        }
    }
    for r in &s.rewritten {
        lines.push(format!(
            "  {} {} {} {}",
            paint(style::WARN, "rewrites "),
            r.relation,
            paint(style::DIM, format!("({})", r.kind)),
            paint(style::WARN, format!("{} before", bytes(r.size_before)))
        ));
    }
    for f in &s.findings {
        let size = f
            .size
            .as_ref()
            .map(|t| {
                format!(
                    " [{}: {}]",
                    f.table.as_deref().unwrap_or("table"),
                    super::lint::table_size(t)
                )
            })
            .unwrap_or_default();
        let text = format!(
            "  lint      {}:{} {} {}: {}{size}",
            s.script.path, f.line, f.severity, f.rule, f.message
        );
        lines.push(match f.severity {
            trek::lint::Severity::Note => paint(style::DIM, text),
            _ => paint(style::WARN, text),
        });
    }
    for l in &s.locks {
        let text = format!("  locks     {} on {} ({})", l.mode, l.relation, l.kind);
        if l.blocks_reads_on_data() {
            lines.push(paint(
                style::ERROR,
                format!("{text}: a table with data; reads and writes wait"),
            ));
        } else {
            lines.push(text);
        }
    }
    lines
}

/// The dry run as one JSON document.
pub fn json(dry: &DryRun, database: &str) -> doc::DryRun {
    doc::DryRun {
        schema: doc::DryRunSchema,
        database: database.to_owned(),
        dry_run: true,
        plan: super::json::plan(&dry.plan),
        duration_ms: millis(dry.duration),
        blocks_reads_on_data: dry.blocks_reads_on_data(),
        scripts: dry.scripts.iter().map(script_json).collect(),
    }
}

fn script_json(s: &Simulated) -> doc::SimulatedScript {
    let (outcome, detail) = match &s.outcome {
        Outcome::Simulated => (doc::Outcome::Simulated, None),
        Outcome::NotSimulated { reason } => (doc::Outcome::NotSimulated, Some(reason.clone())),
        Outcome::Failed { error } => (doc::Outcome::Failed, Some(error.clone())),
    };
    doc::SimulatedScript {
        kind: kind(s.script.kind),
        version: s.script.version.clone(),
        name: s.script.name.clone(),
        path: s.script.path.clone(),
        outcome,
        detail,
        duration_ms: millis(s.duration),
        statements: s
            .statements
            .iter()
            .map(|st| doc::StatementRun {
                text: st.text.clone(),
                rows: st.rows,
                duration_ms: millis(st.duration),
            })
            .collect(),
        created: s.created.clone(),
        altered: s.altered.clone(),
        dropped: s.dropped.clone(),
        rewritten: s
            .rewritten
            .iter()
            .map(|r| doc::Rewrite {
                relation: r.relation.clone(),
                kind: r.kind.clone(),
                size_before_bytes: r.size_before,
            })
            .collect(),
        findings: s
            .findings
            .iter()
            .map(|f| doc::DryRunFinding {
                rule: f.rule.as_str().to_owned(),
                severity: severity(f.severity),
                line: f.line,
                column: f.column,
                message: f.message.clone(),
                help: f.help.clone(),
                table: f.table.clone(),
                rows: f.size.as_ref().map(|t| t.rows),
                bytes: f.size.as_ref().map(|t| t.bytes),
            })
            .collect(),
        locks: s
            .locks
            .iter()
            .map(|l| doc::LockTaken {
                relation: l.relation.clone(),
                kind: l.kind.clone(),
                mode: l.mode.clone(),
                holds_data: l.holds_data,
                blocks_reads_on_data: l.blocks_reads_on_data(),
            })
            .collect(),
    }
}
