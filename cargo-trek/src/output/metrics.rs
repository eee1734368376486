//! `--metrics-file FILE`: a Prometheus recorder for the process, written out at exit in the
//! text exposition format, atomically (FILE.tmp, then a rename), as node_exporter's textfile
//! collector expects. The file holds what this one invocation recorded: counters start at 0
//! in each process.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::error::Error;

/// Buckets of the `*_seconds` histograms: from 5 ms to an hour.
const SECONDS_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0,
    1800.0, 3600.0,
];

/// The installed recorder and where its metrics go.
#[derive(Debug)]
pub struct MetricsFile {
    path: PathBuf,
    handle: PrometheusHandle,
}

impl MetricsFile {
    /// Installs a Prometheus recorder as the process's global `metrics` recorder and
    /// describes trek's metrics. `None` when another recorder is already installed (a second
    /// call in one process).
    pub fn install(path: &Path) -> Option<MetricsFile> {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), SECONDS_BUCKETS)
            .ok()?
            .build_recorder();
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder).ok()?;
        describe();
        Some(MetricsFile {
            path: path.to_owned(),
            handle,
        })
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Writes the metrics to the file: to `FILE.tmp` first, then renamed over `FILE`, so a
    /// collector never reads half a file.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn write(&self) -> Result<(), Error> {
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut file = fs::File::create(&tmp).map_err(Error::io("write", tmp.clone()))?;
        file.write_all(self.render().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(Error::io("write", tmp.clone()))?;
        drop(file);
        fs::rename(&tmp, &self.path).map_err(Error::io("write", self.path.clone()))
    }
}

/// `# HELP` lines for trek's metrics, and the series a run that does nothing should still
/// show at zero.
fn describe() {
    metrics::describe_counter!(
        "trek_migrations_applied_total",
        "Migrations, repeatables and seeds applied, by kind."
    );
    metrics::describe_counter!(
        "trek_migration_failures_total",
        "Migrations, repeatables and seeds that failed to apply, by kind."
    );
    metrics::describe_counter!(
        "trek_migrations_reverted_total",
        "Migrations and seeds reverted with their captured down scripts, by kind."
    );
    metrics::describe_histogram!(
        "trek_migration_duration_seconds",
        metrics::Unit::Seconds,
        "How long applying each migration took, by kind."
    );
    metrics::describe_histogram!(
        "trek_lock_wait_seconds",
        metrics::Unit::Seconds,
        "How long trek waited for its advisory lock."
    );
    metrics::describe_gauge!(
        "trek_migrations_pending",
        "Versioned migrations not applied yet, as of the last status or run."
    );
    for kind in ["versioned", "repeatable", "seed"] {
        metrics::counter!("trek_migrations_applied_total", "kind" => kind).absolute(0);
        metrics::counter!("trek_migration_failures_total", "kind" => kind).absolute(0);
    }
}
