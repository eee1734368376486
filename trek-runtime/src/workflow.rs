//! The workflows: what trek does to a database depends on whose database it is.

use std::fmt;
use std::str::FromStr;

/// Which workflow a run follows (DESIGN §5).
///
/// The first workflow to touch a database stamps it in `trek.meta`; a database stamped
/// [`Workflow::Prod`] refuses the destructive ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workflow {
    /// A developer's disposable database: edited migrations are rewound and re-applied, seeds run,
    /// and a binary older than its migrations folder is reported.
    Dev,
    /// A persistent test database with data worth keeping: trek snapshots it before applying,
    /// and when an applied migration changes, restores the newest snapshot taken before it and
    /// rolls forward. Seeds run.
    Qa,
    /// Production: only ever moves forward; never rewinds; never runs seeds.
    Prod,
}

impl Workflow {
    /// The name used in configuration, `trek.meta` and the audit log: `dev`, `qa` or `prod`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Workflow::Dev => "dev",
            Workflow::Qa => "qa",
            Workflow::Prod => "prod",
        }
    }

    /// Whether seeds run in this workflow.
    pub const fn runs_seeds(self) -> bool {
        matches!(self, Workflow::Dev | Workflow::Qa)
    }

    /// Whether this workflow may undo applied migrations (rewind, reset or restore).
    pub const fn is_destructive(self) -> bool {
        matches!(self, Workflow::Dev | Workflow::Qa)
    }
}

impl fmt::Display for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not the name of a workflow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a workflow: use `dev`, `qa` or `prod`")]
pub struct UnknownWorkflow(pub String);

impl FromStr for Workflow {
    type Err = UnknownWorkflow;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "dev" => Ok(Workflow::Dev),
            "qa" => Ok(Workflow::Qa),
            "prod" => Ok(Workflow::Prod),
            other => Err(UnknownWorkflow(other.to_owned())),
        }
    }
}

/// How pending migrations are grouped into transactions (DESIGN §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransactionMode {
    /// Each migration and its history row commit together or not at all (the default).
    #[default]
    PerMigration,
    /// Every pending migration in one transaction; refused when any is `no_transaction`.
    All,
}

impl TransactionMode {
    /// `per-migration` or `all`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TransactionMode::PerMigration => "per-migration",
            TransactionMode::All => "all",
        }
    }
}

impl FromStr for TransactionMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "per-migration" => Ok(TransactionMode::PerMigration),
            "all" => Ok(TransactionMode::All),
            other => Err(format!(
                "`{other}` is not a transaction mode: use `per-migration` or `all`"
            )),
        }
    }
}
