//! The live progress line of a run on a terminal, drawn from the engine's typed events
//! ([`trek::Migrator::on_event`]), never from log text.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

use trek::Event;

static ENABLED: AtomicBool = AtomicBool::new(false);
static SHOWN: AtomicBool = AtomicBool::new(false);

/// Turns the progress line on (a terminal, not `--json`, `-q` or `-v`).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// The hook given to every migrator: rewrites one line on stderr as each step starts,
/// `[2/5] apply 0002 add_email…`.
pub fn on_event(event: &Event<'_>) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let Event::StepStarted { step, remaining } = event else {
        return;
    };
    let done = DONE.fetch_add(1, Ordering::Relaxed) + 1;
    SHOWN.store(true, Ordering::Relaxed);
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "\r\x1b[2K  [{done}/{}] {} {}…",
        done + remaining,
        step.action,
        step.subject
    );
    let _ = err.flush();
}

static DONE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Clears the progress line, if one is shown.
pub fn clear_progress() {
    if SHOWN.swap(false, Ordering::Relaxed) {
        let mut err = std::io::stderr();
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
}

/// The hook given to a fleet run: rewrites one line on stderr as each target starts and ends,
/// `fleet tenants: 120/200 done · 1 failed · 8 running`.
pub fn on_fleet_progress(name: &str, progress: &trek::fleet::Progress<'_>) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    SHOWN.store(true, Ordering::Relaxed);
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "\r\x1b[2K  fleet {name}: {}/{} done · {} failed · {} running",
        progress.done, progress.total, progress.failed, progress.running
    );
    let _ = err.flush();
}
