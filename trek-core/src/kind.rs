//! The three kinds of script in a migrations folder.

use std::fmt;

/// What a migration script is; stored in `trek.applied.kind` as [`Kind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A versioned migration at the folder's top level, applied once, in version order.
    Versioned,
    /// A script under `repeatable/`, re-applied whenever its checksum changes.
    Repeatable,
    /// A versioned data script under `seeds/`, applied in dev and qa only.
    Seed,
}

impl Kind {
    /// The name stored in the database: `versioned`, `repeatable` or `seed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Versioned => "versioned",
            Kind::Repeatable => "repeatable",
            Kind::Seed => "seed",
        }
    }

    /// Parses the name stored in the database; `None` for anything else.
    pub fn from_db(s: &str) -> Option<Kind> {
        match s {
            "versioned" => Some(Kind::Versioned),
            "repeatable" => Some(Kind::Repeatable),
            "seed" => Some(Kind::Seed),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
