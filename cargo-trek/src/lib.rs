//! `cargo trek`: the command line of trek, PostgreSQL migrations for Rust.
//!
//! The binary's `main` calls [`run`], which parses the command line ([`cli`]), finds the Cargo
//! package once with `cargo metadata` ([`project`]), reads `Trek.toml` ([`config`]), resolves
//! flags, the environment, `.env` and the file into one [`context::Context`], and hands it to
//! the command ([`commands`], one module each). Commands print through an
//! [`output::Printer`] — text for people, or with `--json` one document of a type in [`json`] — and return an
//! [`error::Error`], which owns the exit status: 0 success, 1 the work failed or a check found
//! a problem, 2 bad usage, bad input or bad configuration.
//!
//! ```text
//! $ cargo trek init
//! $ cargo trek new "create users"
//! $ cargo trek up
//! $ cargo trek status --check
//! ```
#![deny(missing_docs)]

pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod database;
pub mod error;
pub mod fleet_config;
pub mod json;
pub mod output;
pub mod project;
pub mod tls;

use std::ffi::OsString;
use std::io::ErrorKind;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cargo, Command, Trek};
use crate::config::ConfigFile;
use crate::context::{Context, Vars};
use crate::error::{Error, EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::output::Printer;
use crate::project::Project;

/// How a command that did not fail ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// Everything is fine: exit 0.
    Success,
    /// A check found problems, which the output already showed: exit 1, saying `message` on
    /// stderr for people.
    Problems {
        /// One line for people.
        message: String,
    },
}

/// Runs `cargo trek` with the process's arguments and returns its exit status.
pub fn run() -> ExitCode {
    ExitCode::from(run_with(std::env::args_os().collect()))
}

/// Runs `cargo trek` with `args` (`args[0]` is the program) and returns the exit status.
pub fn run_with(mut args: Vec<OsString>) -> u8 {
    // Cargo runs us as `cargo-trek trek ...`; people may run `cargo-trek ...` directly.
    if args.get(1).is_none_or(|a| a != "trek") {
        args.insert(1.min(args.len()), OsString::from("trek"));
    }
    let wants_json = args.iter().skip(2).any(|a| a == "--json");
    let Cargo::Trek(trek) = match Cargo::try_parse_from(&args) {
        Ok(parsed) => parsed,
        Err(e) => return clap_error(&e, wants_json),
    };
    let g = &trek.global;
    let printer = Printer::new(g.json, g.quiet, g.color);
    let progress = !g.json && !g.quiet && g.verbose == 0 && printer.stderr_is_terminal();
    let log_filter = std::env::var("TREK_LOG").ok().filter(|f| !f.is_empty());
    if progress && g.log_format == cli::LogFormat::Text {
        output::progress::enable();
    }
    output::log::init(
        g.verbose,
        g.quiet,
        log_filter.as_deref(),
        printer.stderr_color(),
        g.log_format,
    );
    let metrics = g
        .metrics_file
        .as_deref()
        .and_then(output::metrics::MetricsFile::install);

    let outcome = dispatch(trek, &printer);
    output::progress::clear_progress();
    if let Some(metrics) = &metrics {
        if let Err(e) = metrics.write() {
            printer.warn(&format!("--metrics-file: {e}"));
        }
    }
    match outcome {
        Ok(Exit::Success) => EXIT_OK,
        Ok(Exit::Problems { message }) => {
            if !printer.json {
                printer.error(&Error::Check { message });
            }
            EXIT_FAILED
        }
        Err(Error::Output(e)) if e.kind() == ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            tracing::debug!(error = ?e, "command failed");
            printer.error(&e);
            e.exit_code()
        }
    }
}

fn clap_error(e: &clap::Error, json: bool) -> u8 {
    use clap::error::ErrorKind as K;
    match e.kind() {
        K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand
            if e.exit_code() == 0 =>
        {
            let _ = e.print();
            EXIT_OK
        }
        _ if json => {
            let printer = Printer::new(true, false, cli::ColorChoice::Never);
            let message = e.render().to_string();
            let _ = printer.json(&json::ErrorDoc {
                schema: json::ErrorSchema,
                error: json::Error::new(
                    json::ErrorKind::Usage,
                    message.trim_end().to_owned(),
                    EXIT_USAGE,
                ),
            });
            EXIT_USAGE
        }
        _ => {
            let _ = e.print();
            // clap exits 2 for usage errors; keep that, whatever it says.
            EXIT_USAGE
        }
    }
}

fn dispatch(trek: Trek, printer: &Printer) -> Result<Exit, Error> {
    if let Command::Completions(args) = &trek.command {
        return commands::completions::run(args, printer);
    }
    let cwd = std::env::current_dir().map_err(Error::io("read", "the current folder"))?;
    let project = Project::discover(trek.global.manifest_path.as_deref(), &cwd)?;
    let file = ConfigFile::load(&project.root)?;
    let vars = Vars::capture(&project.root)?;
    let ctx = Context::resolve(&trek.global, project, file, &vars, cwd)?;
    tracing::debug!(?ctx.env, workflow = %ctx.workflow, migrations = %ctx.migrations_dir.display(), "resolved the configuration");
    match &trek.command {
        Command::Init => commands::init::run(&ctx, printer),
        Command::New(args) => commands::new::run(&ctx, printer, args),
        Command::Status(args) => commands::status::run(&ctx, printer, args),
        Command::Up(args) => commands::up::run(&ctx, printer, args),
        Command::Down(args) => commands::down::run(&ctx, printer, args),
        Command::Reset(args) => commands::reset::run(&ctx, printer, args),
        Command::Seed => commands::seed::run(&ctx, printer),
        Command::Dump(args) => commands::dump::run(&ctx, printer, args),
        Command::Drift(args) => commands::drift::run(&ctx, printer, args),
        Command::Restore(args) => commands::restore::run(&ctx, printer, args),
        Command::Snapshots(args) => commands::snapshots::run(&ctx, printer, args),
        Command::Verify => commands::verify::run(&ctx, printer),
        Command::Repair(args) => commands::repair::run(&ctx, args, printer),
        Command::Audit(args) => commands::audit::run(&ctx, printer, args),
        Command::Lint(args) => commands::lint::run(&ctx, printer, args),
        Command::Baseline(args) => commands::baseline::run(&ctx, printer, args),
        Command::Import(args) => commands::import::run(&ctx, printer, args),
        Command::Watch(args) => commands::watch::run(&ctx, &trek.global, printer, args),
        Command::Db(command) => commands::db::run(&ctx, printer, command),
        Command::Fleet(command) => commands::fleet::run(&ctx, printer, command),
        Command::Completions(_) => Ok(Exit::Success),
    }
}
