//! stderr for the library's voice: `tracing` logs (`-v`, `-q`, `TREK_LOG`). The live progress
//! line is [`super::progress`], drawn from the engine's events.

use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

use crate::cli::LogFormat;

/// Installs the subscriber. `filter` is `TREK_LOG` when set (an `EnvFilter` directive such as
/// `trek=debug`); otherwise `-v` counts pick the level (info, debug, trace). By default nothing
/// is logged in text: the command itself reports what happened, warnings included; in JSON
/// (`--log-format json`, for log shippers) the default level is info. `ansi` colours the text
/// log lines.
pub fn init(verbose: u8, quiet: bool, filter: Option<&str>, ansi: bool, format: LogFormat) {
    let level = match (quiet, verbose, format) {
        (true, _, _) => LevelFilter::OFF,
        (false, 0, LogFormat::Json) => LevelFilter::INFO,
        (false, 0, _) => LevelFilter::OFF,
        (false, 1, _) => LevelFilter::INFO,
        (false, 2, _) => LevelFilter::DEBUG,
        (false, _, _) => LevelFilter::TRACE,
    };
    let env_filter = match filter.map(EnvFilter::try_new) {
        Some(Ok(filter)) => filter,
        _ => EnvFilter::default().add_directive(level.into()),
    };
    let fmt: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_writer(std::io::stderr)
            .with_filter(env_filter)
            .boxed(),
        _ => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_ansi(ansi)
            .without_time()
            .with_filter(env_filter)
            .boxed(),
    };
    let _ = Registry::default().with(fmt).try_init();
}
