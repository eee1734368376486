//! The `pg_dump` strategy: a custom-format dump per snapshot, restored in one transaction.
//!
//! Restoring streams `pg_restore --file=-` through trek into `psql`, wrapped as
//! `BEGIN; <drop the managed schemas>; <the dump>; <carried rows>; COMMIT;`. The database is
//! therefore either restored or untouched: if trek is killed midway, `psql` reads the end of
//! its input before `COMMIT` and the server rolls the transaction back.

use std::fs;
use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;

use super::tools::ClientTools;
use crate::error::{Error, Result};

/// Dumps the database `env` points at into `dir/<name>.dump` (written under a temporary name
/// and renamed, so a file of that name is always complete). `schemas` limits the dump.
pub(crate) fn take(
    tools: &ClientTools,
    env: &[(String, String)],
    dir: &Path,
    name: &str,
    schemas: &[String],
) -> Result<(PathBuf, i64)> {
    fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("could not create {}", dir.display()), e))?;
    let file = dir.join(format!("{name}.dump"));
    let partial = dir.join(format!("{name}.dump.partial"));
    let mut command = Command::new(tools.program("pg_dump"));
    command
        .arg("--format=custom")
        .arg("--compress=1")
        .arg("--no-sync")
        .arg(format!("--file={}", partial.display()));
    for schema in schemas {
        command.arg(format!("--schema={}", pattern(schema)));
    }
    run(&mut command, env, "could not take a snapshot", "pg_dump")?;
    fs::rename(&partial, &file)
        .map_err(|e| Error::io(format!("could not move the dump to {}", file.display()), e))?;
    let size = fs::metadata(&file).map_or(0, |m| i64::try_from(m.len()).unwrap_or(i64::MAX));
    Ok((file, size))
}

/// A dump to replay.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Dump<'a> {
    /// A custom-format dump, turned into SQL by `pg_restore`.
    Custom(&'a Path),
    /// A plain SQL dump (`pg_dump --format=plain`, a committed schema dump), replayed as it is.
    Plain(&'a Path),
}

/// Replays `dump` into the database `env` points at, in one transaction that runs `prelude`
/// first and `postlude` last.
pub(crate) fn restore(
    tools: &ClientTools,
    env: &[(String, String)],
    dump: Dump<'_>,
    prelude: &str,
    postlude: &str,
) -> Result<()> {
    let (file, plain) = match dump {
        Dump::Custom(file) => (file, false),
        Dump::Plain(file) => (file, true),
    };
    if !file.is_file() {
        return Err(Error::Snapshot {
            message: format!("the dump {} is gone", file.display()),
        });
    }
    let mut psql = Command::new(tools.program("psql"));
    psql.args(["--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1"])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut psql = psql
        .spawn()
        .map_err(|e| Error::io("could not start psql", e))?;
    let psql_errors = drain(&mut psql);

    let mut restore = if plain {
        let mut cat = Command::new("cat");
        cat.arg(file);
        cat
    } else {
        let mut pg_restore = Command::new(tools.program("pg_restore"));
        pg_restore.arg("--file=-").arg(file);
        pg_restore
    };
    restore
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut pg_restore = match restore.spawn() {
        Ok(child) => child,
        Err(e) => {
            let _ = psql.kill();
            let _ = psql.wait();
            return Err(Error::io("could not start pg_restore", e));
        }
    };
    let restore_errors = drain(&mut pg_restore);

    let streamed = (|| -> io::Result<()> {
        let stdin = psql
            .stdin
            .as_mut()
            .ok_or_else(|| io::Error::other("psql has no stdin"))?;
        stdin.write_all(b"BEGIN;\n")?;
        stdin.write_all(prelude.as_bytes())?;
        let mut dump = pg_restore
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("pg_restore has no stdout"))?;
        copy_for_server(&mut dump, stdin, tools.server_version_num())?;
        Ok(())
    })();
    let restore_status = pg_restore.wait();
    let restore_ok = restore_status.as_ref().is_ok_and(|s| s.success()) && streamed.is_ok();
    if !restore_ok {
        // Close psql's input without COMMIT: the server rolls everything back.
        let _ = psql.kill();
        let _ = psql.wait();
        let errors = restore_errors.join().unwrap_or_default();
        let context = format!(
            "could not read {} (the database was not changed)",
            file.display()
        );
        return Err(match (restore_status, streamed) {
            (Ok(status), _) if !status.success() => Error::Program {
                context,
                program: if plain { "cat" } else { "pg_restore" }.to_owned(),
                status: status.to_string(),
                output: first_lines(&errors),
            },
            (Err(e), _) | (_, Err(e)) => Error::io(context, e),
            (Ok(_), Ok(())) => Error::Snapshot { message: context },
        });
    }
    let finished = (|| -> io::Result<()> {
        let stdin = psql
            .stdin
            .as_mut()
            .ok_or_else(|| io::Error::other("psql has no stdin"))?;
        stdin.write_all(b"\n")?;
        stdin.write_all(postlude.as_bytes())?;
        stdin.write_all(b"COMMIT;\n")?;
        Ok(())
    })();
    drop(psql.stdin.take());
    let status = psql
        .wait()
        .map_err(|e| Error::io("psql did not finish", e))?;
    let errors = psql_errors.join().unwrap_or_default();
    let context = format!("restoring {} failed and was rolled back", file.display());
    if !status.success() {
        return Err(Error::Program {
            context,
            program: "psql".to_owned(),
            status: status.to_string(),
            output: first_lines(&errors),
        });
    }
    finished.map_err(|e| Error::io(context, e))
}

/// Deletes a snapshot's dump; a dump already gone is not an error.
pub(crate) fn delete(file: &Path) -> Result<()> {
    match fs::remove_file(file) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(format!("could not delete {}", file.display()), e)),
    }
}

/// Runs a client program with `env`; returns what it wrote to stdout, or fails with its
/// error output. `context` says what trek was doing, `name` names the program.
pub(crate) fn run(
    command: &mut Command,
    env: &[(String, String)],
    context: &str,
    name: &str,
) -> Result<Vec<u8>> {
    let out = command
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io(format!("{context}: could not start {name}"), e))?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    Err(Error::Program {
        context: context.to_owned(),
        program: name.to_owned(),
        status: out.status.to_string(),
        output: first_lines(&String::from_utf8_lossy(&out.stderr)),
    })
}

/// Reads a child's stderr on a thread, so it never blocks on a full pipe.
fn drain(child: &mut Child) -> thread::JoinHandle<String> {
    let stderr = child.stderr.take();
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut stderr) = stderr {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    })
}

/// The first five non-blank lines of a program's error output, on one line.
/// The first lines of a program's error output, from its first `ERROR:` or `FATAL:` line when
/// it has one (psql prints the prelude's notices before the error that matters).
fn first_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let from = lines
        .iter()
        .position(|l| l.contains("ERROR:") || l.contains("FATAL:"))
        .unwrap_or(0);
    lines[from..]
        .iter()
        .take(5)
        .copied()
        .collect::<Vec<_>>()
        .join("; ")
}

/// Settings `pg_dump` and `pg_restore` set at the top of every script whatever the server
/// (the server they came from, or none for a script), with the first major that knows them.
/// Replaying into an older server, trek leaves those lines out: they only turn off a timeout
/// that server does not have, and psql would stop at them (`unrecognized configuration
/// parameter`), so a newer client's dump could not be restored into an older server.
const SETTINGS_SINCE: &[(&str, i32)] = &[("SET transaction_timeout = 0;", 170_000)];

/// Copies the SQL script `dump` into `out`, leaving out the lines of [`SETTINGS_SINCE`] a
/// server of `server_version_num` does not know: lines that are exactly such a setting, outside
/// `COPY … FROM stdin` data (a row of data is never touched). A script may hold several
/// preambles (trek's dumps are two `pg_dump` runs, concatenated).
fn copy_for_server(
    dump: impl io::Read,
    out: &mut impl Write,
    server_version_num: i32,
) -> io::Result<()> {
    let unknown: Vec<&str> = SETTINGS_SINCE
        .iter()
        .filter(|(_, since)| server_version_num < *since)
        .map(|(setting, _)| *setting)
        .collect();
    let mut dump = io::BufReader::with_capacity(1 << 16, dump);
    if unknown.is_empty() {
        io::copy(&mut dump, out)?;
        return Ok(());
    }
    let mut line = Vec::new();
    let mut in_data = false;
    loop {
        line.clear();
        if dump.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if in_data {
            in_data = text != b"\\.";
        } else if text.starts_with(b"COPY ") && text.ends_with(b" FROM stdin;") {
            in_data = true;
        } else if unknown.iter().any(|setting| text == setting.as_bytes()) {
            continue;
        }
        out.write_all(&line)?;
    }
}

/// A `pg_dump --schema` pattern matching exactly `schema`.
pub(crate) fn pattern(schema: &str) -> String {
    format!("\"{}\"", schema.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\n\
        SET statement_timeout = 0;\nSET transaction_timeout = 0;\n\
        SELECT pg_catalog.set_config('search_path', '', false);\n\n\
        CREATE TABLE t (s text);\nCOPY t (s) FROM stdin;\nSET transaction_timeout = 0;\n\\.\n\
        -- trek: the history rows of the schema above\n\nSET transaction_timeout = 0;\r\n\
        SELECT 1;\n";

    fn copied(server_version_num: i32) -> String {
        let mut out = Vec::new();
        copy_for_server(SCRIPT.as_bytes(), &mut out, server_version_num).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn an_older_server_gets_the_script_without_settings_it_does_not_know() {
        let old = copied(130_022);
        assert_eq!(
            old.matches("SET transaction_timeout = 0;").count(),
            1,
            "{old}"
        );
        assert!(
            old.contains("COPY t (s) FROM stdin;\nSET transaction_timeout = 0;\n\\.\n"),
            "a row of data is never touched: {old}"
        );
        // Both preambles' settings are left out (the second ends in CR LF).
        assert_eq!(
            old.len(),
            SCRIPT.len() - "SET transaction_timeout = 0;\n".len() * 2 - 1,
            "{old:?}"
        );
        assert_eq!(copied(170_000), SCRIPT);
        assert_eq!(copied(180_004), SCRIPT);
    }

    #[test]
    fn an_error_is_shown_from_its_first_error_line() {
        let output = "NOTICE:  drop cascades to table users\nNOTICE:  x\n\
                      psql:<stdin>:13: ERROR:  unrecognized configuration parameter\n";
        assert_eq!(
            first_lines(output),
            "psql:<stdin>:13: ERROR:  unrecognized configuration parameter"
        );
        assert_eq!(first_lines("a\n\nb\n"), "a; b");
    }
}
