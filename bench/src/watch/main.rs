//! `trek-bench-watch`: how long after a save `cargo trek watch` has the database matching the
//! files, as a whole process: the time from writing the file to reading the pass's
//! `trek.watch/1` line (file event, debounce, reading the folder, the dev workflow, commit).
//!
//! ```text
//! cargo build --release -p cargo-trek -p trek-bench
//! target/release/trek-bench-watch [--migrations N] [--edits N] [--debounce MS] [--settle MS]
//! ```
//!
//! Rows, each the median (and min, max) of `--edits` saves (default 10) on a folder of
//! `--migrations` one-table migrations (default 150):
//! - **newest, downs**: the newest migration edited; every migration has a down script, so a
//!   pass reverts one and applies one.
//! - **first, downs**: the first edited: 150 reverted, 150 applied.
//! - **newest, no downs** and **middle, no downs**: no down scripts, so a pass is a reset:
//!   the database is replaced with a copy of the prefix template (the migrations before the
//!   edited one, built by the first edit and reused by the others), then the edited migration
//!   and those after it are applied.
//! - **first, no downs**: nothing before the edit is unchanged, so every pass is a reset from
//!   nothing and a replay of the whole folder.
//!
//! The last column says which path the passes took (`down_scripts`, `template`, `reset`).
//! `--settle` (default 1000 ms) is the pause between a pass and the next save: `watch` makes
//! the next reset's copy of the prefix template during it, so with a shorter pause a pass may
//! wait for that copy (it is never slower than copying during the reset).
//!
//! The `cargo-trek` binary is the one beside this benchmark (build both the same way). The
//! server is trek's local server, or `TREK_BENCH_DATABASE_URL`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "../server.rs"]
mod server;
use server::Server;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

struct Options {
    migrations: usize,
    edits: usize,
    debounce: u64,
    /// Pause between a pass and the next save, as a person editing would take.
    settle: u64,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trek-bench-watch: {e}");
            ExitCode::FAILURE
        }
    }
}

fn options() -> Result<Options> {
    let mut options = Options {
        migrations: 150,
        edits: 10,
        debounce: 50,
        settle: 1000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || -> Result<usize> {
            Ok(args
                .next()
                .ok_or_else(|| format!("{arg} needs a value"))?
                .parse()?)
        };
        match arg.as_str() {
            "--migrations" => options.migrations = value()?.max(1),
            "--edits" => options.edits = value()?.max(1),
            "--debounce" => options.debounce = u64::try_from(value()?.max(1))?,
            "--settle" => options.settle = u64::try_from(value()?)?,
            other => {
                return Err(format!(
                    "unknown argument {other}; usage: trek-bench-watch [--migrations N] \
                     [--edits N] [--debounce MS] [--settle MS]"
                )
                .into())
            }
        }
    }
    Ok(options)
}

fn run() -> Result<()> {
    let options = options()?;
    let cargo_trek = std::env::current_exe()?
        .parent()
        .map(|d| d.join("cargo-trek"))
        .filter(|p| p.is_file())
        .ok_or("cargo-trek is not beside this benchmark: cargo build --release -p cargo-trek")?;
    let server = Server::connect()?;
    println!(
        "cargo trek watch: from the save to the pass's document, {} migrations, median of {} \
         edits (min .. max), debounce {} ms, {} ms between a pass and the next save",
        options.migrations, options.edits, options.debounce, options.settle
    );
    println!(
        "{:<20} {:>10} {:>16} {:>12}  path",
        "edit", "median", "min .. max", "pass (trek)"
    );
    let (newest, middle) = (options.migrations, options.migrations.div_ceil(2));
    for (label, downs, edited) in [
        ("newest, downs", true, newest),
        ("first, downs", true, 1),
        ("newest, no downs", false, newest),
        ("middle, no downs", false, middle),
        ("first, no downs", false, 1),
    ] {
        let (saves, passes, path) = scenario(&server, &cargo_trek, &options, downs, edited)?;
        println!(
            "{label:<20} {:>7} ms {:>16} {:>9} ms  {path}",
            median(&saves),
            format!(
                "{} .. {} ms",
                saves.iter().min().unwrap_or(&0),
                saves.iter().max().unwrap_or(&0)
            ),
            median(&passes)
        );
    }
    Ok(())
}

fn median(values: &[u64]) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or(0)
}

/// Runs one row, editing migration number `edited`: returns the save-to-document times, the
/// passes' own `duration_ms` and the paths they took.
fn scenario(
    server: &Server,
    cargo_trek: &Path,
    options: &Options,
    downs: bool,
    edited: usize,
) -> Result<(Vec<u64>, Vec<u64>, String)> {
    let name = format!("trek_bench_watch_{}", std::process::id());
    let url = server.fresh_database(&name)?;
    let dir = std::env::temp_dir().join(format!("trek-bench-watch-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let migrations = dir.join("migrations");
    fs::create_dir_all(&migrations)?;
    fs::create_dir_all(dir.join("src"))?;
    fs::write(dir.join("src/lib.rs"), "")?;
    fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"bench_watch\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )?;
    fs::write(
        dir.join("Trek.toml"),
        format!("[env.dev]\nurl = \"{url}\"\nworkflow = \"dev\"\n"),
    )?;
    let file = |i: usize| migrations.join(format!("{i:04}_t{i}.sql"));
    for i in 1..=options.migrations {
        fs::write(file(i), format!("CREATE TABLE t{i} (id int);\n"))?;
        if downs {
            fs::write(
                migrations.join(format!("{i:04}_t{i}.down.sql")),
                format!("DROP TABLE t{i};\n"),
            )?;
        }
    }
    let mut watch = Watch::start(cargo_trek, &dir, options.debounce)?;
    watch.next()?;
    let table = edited;
    let edited = file(edited);
    let mut saves = Vec::new();
    let mut passes = Vec::new();
    let mut paths: Vec<String> = Vec::new();
    for edit in 0..options.edits {
        // A pause between edits, as a person typing would take (watch prepares the next
        // reset's copy of the prefix template meanwhile).
        std::thread::sleep(Duration::from_millis(options.settle));
        let started = Instant::now();
        fs::write(
            &edited,
            format!("CREATE TABLE t{table} (id int, edit{edit} int);\n"),
        )?;
        let line = watch.next()?;
        saves.push(u64::try_from(started.elapsed().as_millis())?);
        if !line.contains(r#""outcome":"applied""#) {
            return Err(format!("the pass did not apply the edit: {line}").into());
        }
        passes.push(field(&line, "duration_ms").unwrap_or(0));
        let path = text_field(&line, "path").unwrap_or_default();
        let path = if line.contains(r#""built":true"#) {
            format!("{path} (built)")
        } else if line.contains(r#""ready_copy":true"#) {
            format!("{path} (copy made ahead)")
        } else {
            path
        };
        if paths.last() != Some(&path) {
            paths.push(path);
        }
    }
    drop(watch);
    server.drop_database(&name);
    let _ = fs::remove_dir_all(&dir);
    Ok((saves, passes, paths.join(", then ")))
}

/// The string after `"name":` in a JSON line (the first one).
fn text_field(line: &str, name: &str) -> Option<String> {
    let key = format!("\"{name}\":\"");
    let at = line.find(&key)? + key.len();
    Some(line[at..].chars().take_while(|c| *c != '"').collect())
}

/// The number after `"name":` in a JSON line (the last one: the pass's own `duration_ms`
/// follows those of the steps).
fn field(line: &str, name: &str) -> Option<u64> {
    let key = format!("\"{name}\":");
    let at = line.rfind(&key)? + key.len();
    let digits: String = line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// `cargo trek watch --json` in the background.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Watch {
    fn start(cargo_trek: &Path, dir: &PathBuf, debounce: u64) -> Result<Watch> {
        let mut child = Command::new(cargo_trek)
            .args([
                "trek",
                "watch",
                "--json",
                "--debounce",
                &debounce.to_string(),
            ])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout)
                .lines()
                .map_while(std::result::Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Watch { child, lines })
    }

    fn next(&mut self) -> Result<String> {
        Ok(self.lines.recv_timeout(Duration::from_secs(120))?)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
