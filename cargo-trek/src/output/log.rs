//! stderr for the library's voice: `tracing` logs (`-v`, `-q`, `TREK_LOG`) and the live
//! progress line of a long run on a terminal.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

use crate::cli::LogFormat;

/// Installs the subscriber. `filter` is `TREK_LOG` when set (an `EnvFilter` directive such as
/// `trek=debug`); otherwise `-v` counts pick the level (info, debug, trace). By default nothing
/// is logged in text: the command itself reports what happened, warnings included; in JSON
/// (`--log-format json`, for log shippers) the default level is info. `progress` adds the live
/// progress line (text only); `ansi` colours the text log lines.
pub fn init(
    verbose: u8,
    quiet: bool,
    filter: Option<&str>,
    progress: bool,
    ansi: bool,
    format: LogFormat,
) {
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
    let progress =
        (progress && format == LogFormat::Text).then(|| Progress.with_filter(LevelFilter::INFO));
    let _ = Registry::default().with(fmt).with(progress).try_init();
}

static SHOWN: AtomicBool = AtomicBool::new(false);
static DONE: AtomicUsize = AtomicUsize::new(0);

/// Clears the progress line, if one is shown.
pub fn clear_progress() {
    if SHOWN.swap(false, Ordering::Relaxed) {
        let mut err = std::io::stderr();
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
}

/// Rewrites one line on stderr as the runtime reports each script applied or reverted.
struct Progress;

#[derive(Default)]
struct Fields {
    message: String,
    script: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_owned(),
            "script" => self.script = value.to_owned(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        match field.name() {
            "message" => self.message = text,
            "script" => self.script = text.trim_matches('"').to_owned(),
            _ => {}
        }
    }
}

impl<S: Subscriber> Layer<S> for Progress {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if *event.metadata().level() != Level::INFO
            || !event.metadata().target().starts_with("trek")
        {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let verb = match fields.message.as_str() {
            "applied" => "applied",
            "reverted" => "reverted",
            _ => return,
        };
        let n = DONE.fetch_add(1, Ordering::Relaxed) + 1;
        SHOWN.store(true, Ordering::Relaxed);
        let mut err = std::io::stderr();
        let _ = write!(err, "\r\x1b[2K  [{n}] {verb} {}…", fields.script);
        let _ = err.flush();
    }
}
