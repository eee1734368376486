//! What `trek-bench-restore` prints: a line per measurement as it happens, then a table of
//! the medians over the rounds with the ratio trek / baseline (below 1.0: trek is faster).

use std::time::Duration;

use crate::baseline::Baseline;
use crate::trek_runs::Measured;
use crate::workload::{Seed, Workload};

pub fn print_seed(load: &Workload, seed: &Seed) {
    println!(
        "seed: {} rows, table {} with its index, database {}; 0001 applied by trek in {}",
        load.rows,
        mb(seed.table_bytes),
        mb(seed.database_bytes),
        secs(seed.fill)
    );
}

pub fn print_baseline(round: usize, b: &Baseline) {
    println!(
        "round {round} baseline: pg_dump -Fc {} ({}) / pg_restore {}; pg_dump -Fc -Z1 {} ({}) \
         / pg_restore {}; createdb -T {} / createdb -T {}; dropdb + createdb -T {}; createdb -T \
         --strategy=file_copy {}",
        secs(b.dump.dump),
        mb(b.dump.bytes),
        secs(b.dump.restore),
        secs(b.dump_z1.dump),
        mb(b.dump_z1.bytes),
        secs(b.dump_z1.restore),
        secs(b.copy),
        secs(b.copy_restore),
        secs(b.replace),
        b.file_copy.map_or_else(|| "n/a".to_owned(), secs)
    );
}

pub fn print_measured(round: usize, name: &str, m: &Measured) {
    println!(
        "round {round} {name}: snapshot {} (audit log {}, size {}); restore run {} (without \
         applying 0002: {}, audit log {}); rows checked",
        secs(m.snapshot),
        m.snapshot_audited.map_or_else(|| "-".to_owned(), secs),
        m.snapshot_bytes.map_or_else(|| "-".to_owned(), mb),
        secs(m.restore_run),
        secs(m.restore),
        m.restore_audited.map_or_else(|| "-".to_owned(), secs),
    );
}

/// The table of medians; `measured[i]` holds the rounds of strategy `names[i]`.
pub fn print(
    size_mb: u64,
    seed: &Seed,
    baselines: &[Baseline],
    names: &[&str],
    measured: &[Vec<Measured>],
) {
    println!();
    println!(
        "--size-mb {size_mb}: table {}, database {}; medians of {} round(s); restore = wall \
         time of the qa run that restores the snapshot and applies the edited 0002",
        mb(seed.table_bytes),
        mb(seed.database_bytes),
        baselines.len()
    );
    println!(
        "{:<16} {:>9} {:>9} {:>6}   {:>9} {:>9} {:>6}   baseline",
        "strategy", "snapshot", "baseline", "ratio", "restore", "baseline", "ratio"
    );
    for (name, rounds) in names.iter().zip(measured) {
        let (snap, restore, what) = if *name == "pg_dump" {
            (
                median(baselines, |b| b.dump.dump),
                median(baselines, |b| b.dump.restore),
                "pg_dump -Fc / pg_restore",
            )
        } else {
            (
                median(baselines, |b| b.copy),
                median(baselines, |b| b.copy_restore),
                "createdb -T / createdb -T",
            )
        };
        let (t_snap, t_restore) = (
            median(rounds, |m| m.snapshot),
            median(rounds, |m| m.restore_run),
        );
        println!(
            "{name:<16} {:>9} {:>9} {:>6.2}   {:>9} {:>9} {:>6.2}   {what}",
            secs(t_snap),
            secs(snap),
            ratio(t_snap, snap),
            secs(t_restore),
            secs(restore),
            ratio(t_restore, restore)
        );
        if *name == "pg_dump" {
            let (snap, restore) = (
                median(baselines, |b| b.dump_z1.dump),
                median(baselines, |b| b.dump_z1.restore),
            );
            println!(
                "{:<16} {:>9} {:>9} {:>6.2}   {:>9} {:>9} {:>6.2}   pg_dump -Fc -Z1 / pg_restore \
                 (trek's compression)",
                "",
                "",
                secs(snap),
                ratio(t_snap, snap),
                "",
                secs(restore),
                ratio(t_restore, restore)
            );
        } else {
            let replace = median(baselines, |b| b.replace);
            println!(
                "{:<16} {:>9} {:>9} {:>6}   {:>9} {:>9} {:>6.2}   dropdb --force + createdb -T \
                 (replacing the database)",
                "",
                "",
                "",
                "",
                "",
                secs(replace),
                ratio(t_restore, replace)
            );
        }
    }
}

/// The median of `f` over `items` (the upper one of an even count).
fn median<T>(items: &[T], f: impl Fn(&T) -> Duration) -> Duration {
    let mut values: Vec<Duration> = items.iter().map(f).collect();
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn mb<N: TryInto<i64>>(bytes: N) -> String {
    let bytes = bytes.try_into().unwrap_or(i64::MAX);
    format!("{:.0} MB", bytes as f64 / (1024.0 * 1024.0))
}

fn ratio(trek: Duration, baseline: Duration) -> f64 {
    trek.as_secs_f64() / baseline.as_secs_f64().max(1e-9)
}
