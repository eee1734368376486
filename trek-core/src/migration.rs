//! One migration script: a versioned migration, a repeatable or a seed.

use std::borrow::Cow;

use crate::{Checksum, Directives, Kind, Version};

/// One migration as trek knows it: what it is, where it came from, its SQL and its checksum.
///
/// Built by [`crate::source::read_dir`] from a folder at run time, or by `trek::embed!` at
/// compile time (through the hidden `const` constructor), so every field is a `Cow` that can
/// borrow `'static` data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    kind: Kind,
    version: Option<Version>,
    name: Cow<'static, str>,
    path: Cow<'static, str>,
    sql: Cow<'static, str>,
    checksum: Checksum,
    directives: Directives,
    down: Option<Down>,
}

/// The down script of a versioned migration or seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Down {
    path: Cow<'static, str>,
    sql: Cow<'static, str>,
    directives: Directives,
}

impl Down {
    /// Builds a down script; used by the folder reader and the `embed!` macro.
    #[doc(hidden)]
    pub const fn __new(
        path: Cow<'static, str>,
        sql: Cow<'static, str>,
        directives: Directives,
    ) -> Self {
        Down {
            path,
            sql,
            directives,
        }
    }

    /// The file's path relative to the migrations folder, with `/` separators.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The SQL text, without a leading byte-order mark.
    pub fn sql(&self) -> &str {
        strip_bom(&self.sql)
    }

    /// The directives at the top of the down script.
    pub fn directives(&self) -> &Directives {
        &self.directives
    }

    /// Whether the down holds no statement (only comments, such as `-- Not reversible`): the
    /// migration cannot be reverted. `down` refuses it with that reason and the dev workflow
    /// resets instead of rewinding through it.
    pub fn is_irreversible(&self) -> bool {
        crate::split::split(self.sql()).is_empty()
    }
}

impl Migration {
    /// Builds a migration; used by the folder reader and the `embed!` macro.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn __new(
        kind: Kind,
        version: Option<Version>,
        name: Cow<'static, str>,
        path: Cow<'static, str>,
        sql: Cow<'static, str>,
        checksum: Checksum,
        directives: Directives,
        down: Option<Down>,
    ) -> Self {
        Migration {
            kind,
            version,
            name,
            path,
            sql,
            checksum,
            directives,
            down,
        }
    }

    /// Versioned migration, repeatable or seed.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The version, as parsed from the file name; `None` for repeatables.
    pub fn version(&self) -> Option<&Version> {
        self.version.as_ref()
    }

    /// The description after the version's `_` (`create_users`), or a repeatable's file stem.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The up script's path relative to the migrations folder, with `/` separators
    /// (`0001_create_users.sql`, `repeatable/views.sql`, `seeds/0001_demo.sql`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The up script's SQL text, without a leading byte-order mark.
    pub fn sql(&self) -> &str {
        strip_bom(&self.sql)
    }

    /// The checksum of the up script (see [`Checksum`]).
    pub fn checksum(&self) -> &Checksum {
        &self.checksum
    }

    /// The directives at the top of the up script.
    pub fn directives(&self) -> &Directives {
        &self.directives
    }

    /// The down script, when one exists beside the up script.
    pub fn down(&self) -> Option<&Down> {
        self.down.as_ref()
    }

    /// Whether the down script runs statement by statement outside a transaction: when it says
    /// `-- trek:no_transaction` itself, or when its up script does (a down of a
    /// `no_transaction` migration inherits it, as diesel's `run_in_transaction = false` covers
    /// both scripts). A down that needs a transaction anyway opens one itself (`BEGIN; …
    /// COMMIT;`). `false` when there is no down.
    pub fn down_outside_transaction(&self) -> bool {
        self.down
            .as_ref()
            .is_some_and(|d| d.directives.no_transaction || self.directives.no_transaction)
    }

    /// A short label for messages: `0003 add_email`, `seed 0001 demo` or `repeatable views`.
    pub fn label(&self) -> String {
        match (&self.version, self.kind) {
            (Some(v), Kind::Versioned) => format!("{} {}", v, self.name),
            (Some(v), kind) => format!("{kind} {v} {}", self.name),
            (None, kind) => format!("{kind} {}", self.name),
        }
    }
}

fn strip_bom(s: &str) -> &str {
    s.strip_prefix('\u{feff}').unwrap_or(s)
}
