//! `cargo trek watch`: re-runs the dev workflow on every change to the migrations folder (and
//! to `Trek.toml` or `.env`), so an edited migration is in the database a moment after it is
//! saved.
//!
//! Each pass is `cargo trek up` for the files as they are: the dev workflow rewinds to the
//! first edited migration (with the captured down scripts, or a reset when one is missing),
//! applies, then runs repeatables and seeds. A pass prints one block (or, with `--json`, one
//! [`crate::json::Watch`] line): what it undid, what it applied, the path taken and the
//! times, or the error with its file, line and column. A failed pass does not end the watch;
//! the next save runs again.
//!
//! Before watching, the environment must run the dev workflow and the database must not be
//! stamped prod: both refusals exit 2. `--once` runs one pass and exits as `up` would.
//! Ctrl-C ends the watch between passes (a second Ctrl-C ends it at once).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use trek::{Report, Undo, Workflow};

use crate::cli::{GlobalArgs, WatchArgs};
use crate::config::{self, ConfigFile};
use crate::context::{Context, Vars};
use crate::database::{self, Connection};
use crate::error::Error;
use crate::json as doc;
use crate::output::{human, json, paint, progress, style, Printer};
use crate::Exit;

/// What the watch loop waits for.
enum Message {
    /// A file event (or the watcher's error).
    Files(notify::Result<notify::Event>),
    /// Ctrl-C.
    Stop,
}

/// Runs `watch`.
///
/// # Errors
/// [`Error::Usage`] for an environment whose workflow is not dev or a database stamped prod
/// (before anything is watched or run); a database that cannot be reached at the start; a
/// folder that cannot be watched. With `--once`, the pass's error, as `up` reports it.
pub fn run(
    ctx: &Context,
    global: &GlobalArgs,
    printer: &Printer,
    args: &WatchArgs,
) -> Result<Exit, Error> {
    refuse_workflow(ctx)?;
    let mut db = database::connect(ctx, printer)?;
    refuse_prod_stamp(ctx, &mut db)?;
    let mut state = Watch {
        ctx: with_prefix_templates(ctx.clone()),
        global: global.clone(),
        db: Some(db),
        config_stale: false,
        pass: 0,
        preparing: None,
    };
    if args.once {
        let pass = state.pass(printer, &[]);
        return match pass.result {
            Ok(_) => {
                pass.print(printer, &state.ctx)?;
                Ok(Exit::Success)
            }
            Err(error) => Err(error),
        };
    }

    let (tx, rx) = mpsc::channel::<Message>();
    let files = tx.clone();
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = files.send(Message::Files(event));
    })
    .map_err(|e| watch_error(&ctx.migrations_dir, e))?;
    let mut watched = Watched::default();
    watched.update(&mut watcher, &state.ctx)?;
    let presses = AtomicUsize::new(0);
    ctrlc::set_handler(move || {
        // The first Ctrl-C ends the watch once the pass under way is done; a second one
        // does not wait.
        if presses.fetch_add(1, Ordering::SeqCst) > 0 {
            // 128 + SIGINT, as a shell reports a process Ctrl-C ended.
            std::process::exit(130);
        }
        let _ = tx.send(Message::Stop);
    })
    .map_err(|e| Error::Io {
        action: "install a Ctrl-C handler for",
        path: PathBuf::from("the watch"),
        source: std::io::Error::other(e),
    })?;

    let first = state.pass(printer, &[]);
    first.print(printer, &state.ctx)?;
    if !printer.json {
        printer.note(&format!(
            "watching {} for changes (Ctrl-C to stop)",
            watched.describe(&state.ctx)
        ));
    }
    let quiet = Duration::from_millis(args.debounce);
    let mut changed = BTreeSet::new();
    let mut stop = false;
    let take = |message: Message, changed: &mut BTreeSet<PathBuf>, watched: &Watched| {
        match message {
            Message::Stop => return true,
            Message::Files(Ok(event)) if changes_files(event.kind) => {
                changed.extend(event.paths.into_iter().filter(|p| watched.matters(p)));
            }
            Message::Files(Ok(_)) => {}
            Message::Files(Err(e)) => printer.warn(&format!("watching the files: {e}")),
        }
        false
    };
    while !stop {
        let Ok(message) = rx.recv() else { break };
        stop = take(message, &mut changed, &watched);
        if stop || changed.is_empty() {
            continue;
        }
        // An editor's save is several events: wait until the folder is quiet.
        loop {
            match rx.recv_timeout(quiet) {
                Ok(message) => stop |= take(message, &mut changed, &watched),
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    stop = true;
                    break;
                }
            }
        }
        if stop {
            break;
        }
        let paths: Vec<PathBuf> = std::mem::take(&mut changed).into_iter().collect();
        if paths.iter().any(|p| watched.is_config(p)) {
            state.config_stale = true;
        }
        let pass = state.pass(printer, &paths);
        pass.print(printer, &state.ctx)?;
        watched.update(&mut watcher, &state.ctx)?;
    }
    if !printer.json {
        printer.note("stopped watching");
    }
    Ok(Exit::Success)
}

/// The context a watch runs with: a reset copies a template of the unchanged migrations
/// ([`trek::ResetMode::Template`]) unless the environment sets `reset` itself.
fn with_prefix_templates(mut ctx: Context) -> Context {
    ctx.reset
        .get_or_insert(crate::config::ResetConfig::Template);
    ctx
}

/// Whether an event of `kind` can change what the files say: not a file being opened or read
/// (the workflow reads the folder on every pass), nor its permissions or times; a file closed
/// after writing does.
fn changes_files(kind: EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_)) => false,
        _ => true,
    }
}

/// Refuses a context whose workflow is not dev.
fn refuse_workflow(ctx: &Context) -> Result<(), Error> {
    if ctx.workflow == Workflow::Dev {
        return Ok(());
    }
    let env = ctx
        .env
        .as_deref()
        .map(|e| format!("the environment `{e}`"))
        .unwrap_or_else(|| "a database given by URL with no environment".to_owned());
    let file = ctx
        .config_path
        .as_deref()
        .map(|p| format!(" ({})", ctx.project.display_path(p)))
        .unwrap_or_default();
    Err(Error::Usage {
        message: format!(
            "{env}{file} runs the {} workflow; `cargo trek watch` runs only the dev workflow, \
             which rewinds and resets the database on every save. Watch a dev environment \
             (--env NAME, with `workflow = \"dev\"` in Trek.toml), or run `cargo trek up`",
            ctx.workflow
        ),
    })
}

/// Refuses a database stamped prod.
fn refuse_prod_stamp(ctx: &Context, db: &mut Connection) -> Result<(), Error> {
    // The stamp is all that is read; an empty set of migrations does (a bad folder is
    // reported by the first pass, and the watch goes on).
    let none = trek::Migrations::from_vec(Vec::new(), None);
    let status = super::migrator(ctx, &none, db)
        .status(&mut db.client)
        .map_err(super::runtime(ctx))?;
    if status.stamp.as_deref() == Some("prod") {
        return Err(Error::Usage {
            message: format!(
                "database `{}` ({}) is stamped prod; `cargo trek watch` never runs on it, as \
                 the dev workflow rewinds and resets. Point the environment at a dev database",
                db.name, db.url
            ),
        });
    }
    Ok(())
}

/// A failure to watch `path`.
fn watch_error(path: &Path, error: notify::Error) -> Error {
    Error::Io {
        action: "watch",
        path: path.to_owned(),
        source: std::io::Error::other(error),
    }
}

/// The watch's state between passes.
struct Watch {
    ctx: Context,
    global: GlobalArgs,
    /// The connection; `None` after the configuration changed or the connection was lost.
    db: Option<Connection>,
    /// Whether `Trek.toml` or `.env` changed (or was invalid) since the context was resolved.
    config_stale: bool,
    pass: u64,
    /// The copy of the last prefix template being made for the next reset, in the background
    /// between passes ([`trek::Migrator::prepare_prefix_copy`]).
    preparing: Option<std::thread::JoinHandle<()>>,
}

/// What one pass did.
struct Pass {
    number: u64,
    changed: Vec<String>,
    database: Option<String>,
    result: Result<Report, Error>,
    duration: Duration,
}

impl Watch {
    /// Runs the dev workflow once for the files as they are now.
    fn pass(&mut self, printer: &Printer, changed: &[PathBuf]) -> Pass {
        let started = Instant::now();
        self.pass += 1;
        // A copy still being made is waited for (it is what this pass's reset will take).
        if let Some(preparing) = self.preparing.take() {
            let _ = preparing.join();
        }
        let mut database = self.db.as_ref().map(|db| db.url.clone());
        let result = self.attempt(printer, &mut database);
        progress::clear_progress();
        if let Ok(Some(used)) = result.as_ref().map(|r| r.prefix_template.as_ref()) {
            self.prepare_copy(&used.name);
        }
        Pass {
            number: self.pass,
            changed: changed
                .iter()
                .map(|p| self.ctx.project.display_path(p))
                .collect(),
            database,
            result,
            duration: started.elapsed(),
        }
    }

    fn attempt(
        &mut self,
        printer: &Printer,
        database: &mut Option<String>,
    ) -> Result<Report, Error> {
        if self.config_stale {
            let ctx = self.reload()?;
            self.ctx = ctx;
            self.db = None;
            self.config_stale = false;
        }
        let migrations = self.ctx.load_migrations()?;
        let db = match self.db.take() {
            Some(db) if !db.client.is_closed() => db,
            _ => {
                let mut db = database::connect(&self.ctx, printer)?;
                refuse_prod_stamp(&self.ctx, &mut db)?;
                db
            }
        };
        let db = self.db.insert(db);
        *database = Some(db.url.clone());
        tracing::info!(database = %db.url, "running the dev workflow");
        let migrator = self
            .ctx
            .migrator(&migrations)
            .connector(db.connector.clone());
        migrator
            .run(&mut db.client)
            .map_err(super::runtime(&self.ctx))
    }

    /// Starts making a copy of the prefix `template` for the next reset, in the background.
    fn prepare_copy(&mut self, template: &str) {
        let Some(connector) = self.db.as_ref().map(|db| db.connector.clone()) else {
            return;
        };
        let ctx = self.ctx.clone();
        let template = template.to_owned();
        self.preparing = Some(std::thread::spawn(move || {
            let none = trek::Migrations::from_vec(Vec::new(), None);
            let migrator = ctx.migrator(&none).connector(connector);
            if let Err(e) = migrator.prepare_prefix_copy(&template) {
                tracing::warn!(template, error = %e, "could not prepare a copy of the prefix template");
            }
        }));
    }

    /// The context for `Trek.toml` and `.env` as they are now; stays stale when they are
    /// invalid.
    fn reload(&mut self) -> Result<Context, Error> {
        let root = &self.ctx.project.root;
        let resolved = ConfigFile::load(root).and_then(|file| {
            let vars = Vars::capture(root)?;
            Context::resolve(
                &self.global,
                self.ctx.project.clone(),
                file,
                &vars,
                self.ctx.cwd.clone(),
            )
        });
        let ctx = resolved.map_err(|error| match error {
            // `Trek.toml: ...` rather than its absolute path: the block names the files
            // relative to the package.
            Error::Config {
                path: Some(path),
                message,
            } => Error::Config {
                path: Some(PathBuf::from(self.ctx.project.display_path(&path))),
                message,
            },
            other => other,
        })?;
        refuse_workflow(&ctx)?;
        Ok(with_prefix_templates(ctx))
    }
}

impl Pass {
    fn outcome(&self) -> doc::WatchOutcome {
        match &self.result {
            Ok(report) if report.is_noop() => doc::WatchOutcome::UpToDate,
            Ok(_) => doc::WatchOutcome::Applied,
            Err(e) if e.exit_code() == crate::error::EXIT_USAGE => doc::WatchOutcome::Invalid,
            Err(_) => doc::WatchOutcome::Failed,
        }
    }

    fn path(&self) -> doc::WatchPath {
        let plan = self.result.as_ref().ok().and_then(|r| r.plan.as_ref());
        match plan.map(|p| &p.undo) {
            Some(Undo::Rewind { .. }) => doc::WatchPath::DownScripts,
            Some(Undo::Reset { from_template, .. }) if *from_template > 0 => {
                doc::WatchPath::Template
            }
            Some(Undo::Reset { .. }) => doc::WatchPath::Reset,
            _ => doc::WatchPath::None,
        }
    }

    /// The `--json` document.
    fn document(&self) -> doc::Watch {
        let report = self.result.as_ref().ok();
        let run = report.map(|r| json::report::<doc::UpSchema>(r, ""));
        doc::Watch {
            schema: doc::WatchSchema,
            pass: self.number,
            changed: self.changed.clone(),
            outcome: self.outcome(),
            path: self.path(),
            template: report.and_then(|r| r.prefix_template.as_ref()).map(|t| {
                doc::PrefixTemplate {
                    name: t.name.clone(),
                    migrations: t.migrations,
                    built: t.built,
                    build_ms: json::millis(t.build),
                    copy_ms: json::millis(t.copy),
                    ready_copy: t.ready_copy,
                }
            }),
            database: self.database.clone(),
            applied: run.as_ref().map(|r| r.applied.clone()).unwrap_or_default(),
            reverted: run.as_ref().map(|r| r.reverted.clone()).unwrap_or_default(),
            plan: run.as_ref().and_then(|r| r.plan.clone()),
            warnings: run.as_ref().map(|r| r.warnings.clone()).unwrap_or_default(),
            run_ms: run.as_ref().map_or(0, |r| r.duration_ms),
            duration_ms: json::millis(self.duration),
            error: self.result.as_ref().err().map(|e| e.to_json().error),
        }
    }

    /// Prints the pass: one JSON line, or one block for people.
    fn print(&self, printer: &Printer, ctx: &Context) -> Result<(), Error> {
        if printer.json {
            return printer.json_line(&self.document());
        }
        for line in self.lines(ctx) {
            printer.line(&line)?;
        }
        Ok(())
    }

    /// The block for people:
    ///
    /// ```text
    /// ── pass 3: migrations/0002_orders.sql changed
    ///    rewound 1 script with its captured down script — 0002 orders: edited since it was applied
    ///    reverted 0002 orders (1 ms)
    ///     applied 0002 orders (3 ms)
    ///    reverted 1 script, applied 1 script on postgres://app@localhost/app_dev in 14 ms
    ///    done in 16 ms
    /// ```
    fn lines(&self, ctx: &Context) -> Vec<String> {
        let what = if self.changed.is_empty() {
            "the files as they are".to_owned()
        } else {
            let shown: Vec<String> = self
                .changed
                .iter()
                .map(|p| {
                    let gone = !ctx.project.root.join(p).exists();
                    if gone {
                        format!("{p} (removed)")
                    } else {
                        p.clone()
                    }
                })
                .collect();
            format!(
                "{} changed",
                if shown.len() > 4 {
                    format!("{}, … ({} files)", shown[..3].join(", "), shown.len())
                } else {
                    shown.join(", ")
                }
            )
        };
        let mut lines = vec![paint(
            style::BOLD,
            format!("── pass {}: {what}", self.number),
        )];
        let indent = |line: &str| format!("   {line}");
        match &self.result {
            Ok(report) => {
                for warning in &report.warnings {
                    lines.push(indent(&format!(
                        "{} {warning}",
                        paint(style::WARN, "warning:")
                    )));
                }
                if let Some(line) = report.plan.as_ref().and_then(human::path_taken) {
                    lines.push(indent(&line));
                }
                if let Some(used) = &report.prefix_template {
                    lines.push(indent(&human::prefix_template(used)));
                }
                let database = self.database.as_deref().unwrap_or_default();
                let body = human::report(
                    report,
                    "applied",
                    &format!("{database} (dev workflow)"),
                    "is up to date",
                );
                lines.extend(body.iter().map(|l| indent(l)));
            }
            Err(error) => {
                let text = error.chain();
                let mut first = true;
                for line in text.lines() {
                    if first {
                        lines.push(indent(&format!("{} {line}", paint(style::ERROR, "error:"))));
                        first = false;
                    } else {
                        lines.push(indent(line));
                    }
                }
                let next = match self.outcome() {
                    doc::WatchOutcome::Invalid => "fix it and save; still watching",
                    _ => "fix the script and save; still watching",
                };
                lines.push(indent(&paint(style::DIM, next)));
            }
        }
        lines.push(indent(&paint(
            style::DIM,
            format!("done in {} ms", self.duration.as_millis()),
        )));
        lines
    }
}

/// What the debouncer watches: the migrations folder and the package's root (for `Trek.toml`
/// and `.env`, whose other files are ignored).
#[derive(Default)]
struct Watched {
    migrations: Option<PathBuf>,
    root: Option<PathBuf>,
}

impl Watched {
    /// Watches the context's folders, moving the watch when `Trek.toml` moved the migrations
    /// folder.
    fn update(&mut self, watcher: &mut RecommendedWatcher, ctx: &Context) -> Result<(), Error> {
        if self.root.as_deref() != Some(ctx.project.root.as_path()) {
            if let Some(old) = self.root.take() {
                let _ = watcher.unwatch(&old);
            }
            watcher
                .watch(&ctx.project.root, RecursiveMode::NonRecursive)
                .map_err(|e| watch_error(&ctx.project.root, e))?;
            self.root = Some(ctx.project.root.clone());
        }
        if self.migrations.as_deref() != Some(ctx.migrations_dir.as_path()) {
            if let Some(old) = self.migrations.take() {
                let _ = watcher.unwatch(&old);
            }
            watcher
                .watch(&ctx.migrations_dir, RecursiveMode::Recursive)
                .map_err(|e| watch_error(&ctx.migrations_dir, e))?;
            self.migrations = Some(ctx.migrations_dir.clone());
        }
        Ok(())
    }

    /// What is watched, for people.
    fn describe(&self, ctx: &Context) -> String {
        format!("{}/ and {}", ctx.migrations_display(), config::FILE_NAME)
    }

    /// Whether `path` is `Trek.toml` or `.env`.
    fn is_config(&self, path: &Path) -> bool {
        self.root.as_deref().is_some_and(|root| {
            path.parent() == Some(root)
                && path
                    .file_name()
                    .is_some_and(|n| n == config::FILE_NAME || n == ".env")
        })
    }

    /// Whether a change to `path` can change what the workflow does: a script of the
    /// migrations folder (not an editor's swap or backup file), a folder in it, or the
    /// configuration.
    fn matters(&self, path: &Path) -> bool {
        if self.is_config(path) {
            return true;
        }
        let Some(Ok(inside)) = self.migrations.as_deref().map(|dir| path.strip_prefix(dir)) else {
            return false;
        };
        if inside.as_os_str().is_empty()
            || inside
                .components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        {
            return false;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        name.ends_with(".sql") || path.is_dir() || (!path.exists() && !name.contains('.'))
    }
}
