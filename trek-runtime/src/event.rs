//! [`Event`]s a run reports as it goes, for progress displays ([`crate::Migrator::on_event`]).
//! Typed, so a display never depends on the wording of a log line.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::plan::view::{Plan, PlannedStep};

/// Something that happened during a run.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The plan was made: at the start, and again when a step changed the database in a way
    /// the plan could not know (a reset to a baseline dump, another process during a step
    /// that needed the database alone).
    Planned {
        /// The plan, as `status` and the report show it.
        plan: &'a Plan,
    },
    /// A step starts.
    StepStarted {
        /// The step.
        step: &'a PlannedStep,
        /// How many steps of the plan come after it.
        remaining: usize,
    },
    /// A step is done.
    StepFinished {
        /// The step.
        step: &'a PlannedStep,
        /// How long it took.
        duration: Duration,
    },
}

/// The caller's event hook, shared between clones of a migrator.
#[derive(Clone)]
pub(crate) struct EventHook(Arc<dyn Fn(&Event<'_>) + Send + Sync>);

impl EventHook {
    pub fn new(hook: impl Fn(&Event<'_>) + Send + Sync + 'static) -> Self {
        EventHook(Arc::new(hook))
    }

    pub fn call(&self, event: &Event<'_>) {
        (self.0)(event);
    }
}

impl fmt::Debug for EventHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EventHook")
    }
}
