//! `cargo trek fleet up | status NAME`: one migration set across the databases or tenant
//! schemas of `[fleet.NAME]` in `Trek.toml`, through [`trek::Fleet`].

mod output;
mod targets;

use trek::{Migrations, Migrator, Target};

use crate::cli::{FleetCommand, FleetStatusArgs, FleetUpArgs};
use crate::context::{client_label, Context, Database};
use crate::database;
use crate::error::Error;
use crate::fleet_config::Fleet as FleetConfig;
use crate::output::{progress, Printer};
use crate::Exit;

/// Runs `fleet up` or `fleet status`.
///
/// # Errors
/// An unknown fleet, a bad migrations folder, or targets that cannot be listed. A target
/// that fails is not an error of the command: it is reported, and the exit status is 1.
pub fn run(ctx: &Context, printer: &Printer, command: &FleetCommand) -> Result<Exit, Error> {
    match command {
        FleetCommand::Up(args) => up(ctx, printer, args),
        FleetCommand::Status(args) => status(ctx, printer, args),
    }
}

/// The fleet named `name`, or an error listing the ones there are.
fn fleet<'c>(ctx: &'c Context, name: &str) -> Result<&'c FleetConfig, Error> {
    if let Database::Url { source, .. } = &ctx.database {
        if source == "--database-url" {
            return Err(Error::Usage {
                message: "fleet takes its targets from [fleet.NAME] in Trek.toml; \
                          --database-url does not apply to it"
                    .to_owned(),
            });
        }
    }
    let fleet = ctx.fleets.get(name).ok_or_else(|| {
        let known: Vec<&str> = ctx.fleets.keys().map(String::as_str).collect();
        Error::Config {
            path: ctx.config_path.clone(),
            message: if known.is_empty() {
                format!(
                    "there is no fleet `{name}`: Trek.toml defines no fleets; add a \
                     [fleet.{name}] table with its targets (urls, query or schemas)"
                )
            } else {
                format!(
                    "there is no fleet `{name}`; the fleets are: {}",
                    known.join(", ")
                )
            },
        }
    })?;
    fleet.as_ref().map_err(|message| Error::Config {
        path: ctx.config_path.clone(),
        message: message.clone(),
    })
}

/// The migrator each target runs: the fleet's workflow with `[trek]`'s settings.
fn configure<'m>(ctx: &Context, fleet: &FleetConfig, migrator: Migrator<'m>) -> Migrator<'m> {
    let mut migrator = migrator
        .workflow(fleet.workflow)
        .schema(ctx.schema.clone())
        .client_label(client_label());
    if let Some(timeout) = fleet.lock_timeout.or(ctx.lock_timeout) {
        migrator = migrator.lock_timeout(timeout);
    }
    if let Some(key) = ctx.lock_key {
        migrator = migrator.lock_key(key);
    }
    if let Some(mode) = ctx.transaction {
        migrator = migrator.transaction(mode);
    }
    migrator
}

/// Opens a target's database as every other command does (TLS from the URL), giving back the
/// message, which never holds a password.
fn open(
    target: &Target,
) -> Result<trek::postgres::Client, Box<dyn std::error::Error + Send + Sync>> {
    database::connect_url(&target.url, &target.name)
        .map(|connection| connection.client)
        .map_err(|e| e.chain().into())
}

/// The fleet runner for `fleet`, with the command line's overrides.
fn runner<'m>(
    ctx: &'m Context,
    fleet: &'m FleetConfig,
    migrations: &'m Migrations,
    parallel: Option<u32>,
) -> trek::Fleet<'m> {
    let name = fleet.name.clone();
    trek::Fleet::new(migrations)
        .parallel(parallel.map_or(fleet.parallel, |n| n as usize))
        .per_server(fleet.per_server)
        .canary(fleet.canary)
        .configure(move |migrator, _| configure(ctx, fleet, migrator))
        .on_progress(move |p| progress::on_fleet_progress(&name, p))
}

fn up(ctx: &Context, printer: &Printer, args: &FleetUpArgs) -> Result<Exit, Error> {
    let fleet = fleet(ctx, &args.name)?;
    let migrations = ctx.load_migrations()?;
    let targets = targets::resolve(fleet, &ctx.schema)?;
    let mut runner = runner(ctx, fleet, &migrations, args.parallel).fail_fast(args.fail_fast);
    if let Some(n) = args.per_server {
        runner = runner.per_server(n as usize);
    }
    if let Some(k) = args.canary {
        runner = runner.canary(k as usize);
    }
    tracing::info!(fleet = %fleet.name, targets = targets.len(), "fleet run");
    if args.dry_run {
        let started = std::time::Instant::now();
        let plans = runner.plan(&targets, &open);
        progress::clear_progress();
        let doc = output::dry_run(ctx, fleet, plans, started.elapsed());
        output::print_up(printer, &doc)?;
        return Ok(if doc.counts.failed > 0 {
            Exit::Problems {
                message: format!(
                    "{} of {} targets could not be read",
                    doc.counts.failed, doc.counts.targets
                ),
            }
        } else {
            Exit::Success
        });
    }
    let report = runner.up(&targets, &open);
    progress::clear_progress();
    let success = report.is_success();
    let skipped = report.skipped();
    let doc = output::up(ctx, fleet, report);
    output::print_up(printer, &doc)?;
    if success {
        return Ok(Exit::Success);
    }
    let failed: Vec<&str> = doc
        .targets
        .iter()
        .filter(|t| t.result == crate::json::FleetResult::Failed)
        .map(|t| t.name.as_str())
        .collect();
    Ok(Exit::Problems {
        message: format!(
            "fleet `{}`: {} of {} targets failed{}{}",
            fleet.name,
            failed.len(),
            doc.targets.len(),
            output::names(&failed),
            match skipped {
                0 => String::new(),
                n => format!("; {n} not started"),
            }
        ),
    })
}

fn status(ctx: &Context, printer: &Printer, args: &FleetStatusArgs) -> Result<Exit, Error> {
    let fleet = fleet(ctx, &args.name)?;
    let migrations = ctx.load_migrations()?;
    let targets = targets::resolve(fleet, &ctx.schema)?;
    let statuses = runner(ctx, fleet, &migrations, args.parallel).status(&targets, &open);
    progress::clear_progress();
    let doc = output::status(ctx, fleet, &migrations, statuses);
    output::print_status(printer, &doc)?;
    let not_current = doc.targets.len() - doc.current;
    if doc.unreachable > 0 || (args.check && not_current > 0) {
        return Ok(Exit::Problems {
            message: format!(
                "fleet `{}`: {} of {} targets are not current ({} behind, {} with failed \
                 migrations, {} with edited ones, {} unreachable)",
                fleet.name,
                not_current,
                doc.targets.len(),
                doc.behind,
                doc.failed,
                doc.modified,
                doc.unreachable
            ),
        });
    }
    Ok(Exit::Success)
}
