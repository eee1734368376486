//! `cargo trek db start|stop|url|destroy`: the project's local PostgreSQL server, a private
//! cluster under `target/trek/` made from the PostgreSQL binaries on the machine. Its database
//! for the project is `<package>_<env>` (`<package>_dev` by default), created on demand.

use trek_local_server::LocalServer;

use crate::cli::DbCommand;
use crate::context::{local_database_name, Context, Database};
use crate::database;
use crate::error::Error;
use crate::json;
use crate::output::{paint, style, Printer};
use crate::Exit;

/// Runs `db`.
///
/// # Errors
/// [`Error::LocalServer`] when the server cannot be started, stopped or removed.
pub fn run(ctx: &Context, printer: &Printer, command: &DbCommand) -> Result<Exit, Error> {
    let server = LocalServer::for_target_dir(&ctx.project.target_dir()?);
    let name = match &ctx.database {
        Database::Local { database } => database.clone(),
        _ => local_database_name(&ctx.project.name, ctx.env.as_deref()),
    };
    match command {
        DbCommand::Start => {
            let (url, started) = database::local_url(ctx, &name)?;
            let url = database::mask(&url);
            if printer.json {
                printer.json(&json::DbStart {
                    schema: json::DbStartSchema,
                    running: true,
                    started,
                    url,
                })?;
            } else {
                let what = if started {
                    "started"
                } else {
                    "already running"
                };
                printer.line(&format!(
                    "{} the local server: {url}",
                    paint(style::GOOD, what)
                ))?;
            }
        }
        DbCommand::Url => {
            let (url, started) = database::local_url(ctx, &name)?;
            let url = database::mask(&url);
            if started {
                printer.note("started the local server");
            }
            if printer.json {
                printer.json(&json::DbUrl {
                    schema: json::DbUrlSchema,
                    url,
                    database: name,
                    started,
                })?;
            } else {
                printer.line(&url)?;
            }
        }
        DbCommand::Stop => {
            let running = server.status().map_err(Error::LocalServer)?.is_some();
            if running {
                server.stop().map_err(Error::LocalServer)?;
            }
            if printer.json {
                printer.json(&json::DbStop {
                    schema: json::DbStopSchema,
                    running: false,
                    stopped: running,
                })?;
            } else if running {
                printer.line(&format!(
                    "{} the local server",
                    paint(style::GOOD, "stopped")
                ))?;
            } else {
                printer.line("the local server is not running")?;
            }
        }
        DbCommand::Destroy => {
            server.destroy().map_err(Error::LocalServer)?;
            if printer.json {
                printer.json(&json::DbDestroy {
                    schema: json::DbDestroySchema,
                    destroyed: true,
                })?;
            } else {
                printer.line(&format!(
                    "{} the local server and its databases",
                    paint(style::GOOD, "destroyed")
                ))?;
            }
        }
    }
    Ok(Exit::Success)
}
