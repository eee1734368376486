//! A validated set of migrations: the versioned ones, repeatables and seeds of one folder.

use std::borrow::Cow;

use crate::{Kind, Migration};

/// Every script of one migrations folder, validated and sorted: versioned migrations by version,
/// then repeatables by name, then seeds by version.
///
/// `trek::embed!` builds one as a `static` (`static MIGRATIONS: trek::Migrations =
/// trek::embed!();`); [`crate::source::read_dir`] builds one from disk.
#[derive(Debug, Clone)]
pub struct Migrations {
    items: Cow<'static, [Migration]>,
    source_dir: Option<Cow<'static, str>>,
}

impl Migrations {
    /// Wraps migrations the `embed!` macro validated and sorted at compile time.
    #[doc(hidden)]
    pub const fn __from_static(
        items: &'static [Migration],
        source_dir: Option<&'static str>,
    ) -> Self {
        Migrations {
            items: Cow::Borrowed(items),
            source_dir: match source_dir {
                Some(dir) => Some(Cow::Borrowed(dir)),
                None => None,
            },
        }
    }

    /// Builds a set from migrations already validated; sorts them (versioned by version,
    /// repeatables by name, seeds by version). `source_dir` is the folder they came from.
    pub fn from_vec(mut items: Vec<Migration>, source_dir: Option<String>) -> Self {
        items.sort_by(|a, b| {
            a.kind()
                .cmp(&b.kind())
                .then_with(|| a.version().cmp(&b.version()))
                .then_with(|| a.name().cmp(b.name()))
        });
        Migrations {
            items: Cow::Owned(items),
            source_dir: source_dir.map(Cow::Owned),
        }
    }

    /// Every migration: versioned (by version), repeatables (by name), seeds (by version).
    pub fn all(&self) -> &[Migration] {
        &self.items
    }

    /// The versioned migrations in version order.
    pub fn versioned(&self) -> impl Iterator<Item = &Migration> {
        self.of_kind(Kind::Versioned)
    }

    /// The repeatables in name order.
    pub fn repeatables(&self) -> impl Iterator<Item = &Migration> {
        self.of_kind(Kind::Repeatable)
    }

    /// The seeds in version order.
    pub fn seeds(&self) -> impl Iterator<Item = &Migration> {
        self.of_kind(Kind::Seed)
    }

    /// The absolute path of the folder the set was read from, when known. For an embedded set it
    /// is the folder at build time, which lets the runtime notice a stale binary.
    pub fn source_dir(&self) -> Option<&str> {
        self.source_dir.as_deref()
    }

    /// Number of scripts (of every kind) in the set.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the set has no scripts at all.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Migration> {
        self.items.iter().filter(move |m| m.kind() == kind)
    }
}
