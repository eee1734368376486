//! [`SequenceKey`]: what identifies an item of the applied sequence (DESIGN §5), in history
//! rows, migration files and the snapshot catalogue alike.

use std::fmt;

use trek_core::{Checksum, Kind, Migration, Version};

use super::AppliedRow;

/// A versioned migration or seed as the applied sequence knows it: kind, version and the
/// checksum it was applied with. Stored in the snapshot catalogue as `kind:version:checksum`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SequenceKey {
    pub kind: Kind,
    pub version: Version,
    pub checksum: Checksum,
}

impl SequenceKey {
    /// The key of an applied row; `None` for a repeatable (outside the sequence).
    pub fn of_row(row: &AppliedRow) -> Option<SequenceKey> {
        Some(SequenceKey {
            kind: row.kind,
            version: row.version.clone()?,
            checksum: row.checksum.clone(),
        })
    }

    /// The key a migration file has once applied; `None` for a repeatable.
    pub fn of(m: &Migration) -> Option<SequenceKey> {
        Some(SequenceKey {
            kind: m.kind(),
            version: m.version()?.clone(),
            checksum: m.checksum().clone(),
        })
    }

    /// Whether both name the same script with the same content. Checksums of different
    /// algorithms cannot be compared and count as the same ([`Checksum::differs_from`]).
    pub fn same_script(&self, other: &SequenceKey) -> bool {
        self.kind == other.kind
            && self.version == other.version
            && !self.checksum.differs_from(&other.checksum)
    }

    /// Parses the stored form, `kind:version:checksum`.
    pub fn parse(text: &str) -> Result<SequenceKey, String> {
        let mut parts = text.splitn(3, ':');
        let (Some(kind), Some(version), Some(checksum)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("{text:?} is not kind:version:checksum"));
        };
        Ok(SequenceKey {
            kind: Kind::from_db(kind)
                .filter(|k| *k != Kind::Repeatable)
                .ok_or_else(|| format!("{text:?}: {kind:?} is not versioned or seed"))?,
            version: Version::parse(version).map_err(|e| format!("{text:?}: {e}"))?,
            checksum: Checksum::parse_stored(checksum)?,
        })
    }
}

/// Whether `prefix` is, item by item, the start of `sequence`.
pub(crate) fn is_prefix(prefix: &[SequenceKey], sequence: &[SequenceKey]) -> bool {
    prefix.len() <= sequence.len() && prefix.iter().zip(sequence).all(|(a, b)| a.same_script(b))
}

/// Whether two sequences hold the same scripts in the same order.
pub(crate) fn same_sequence(a: &[SequenceKey], b: &[SequenceKey]) -> bool {
    a.len() == b.len() && is_prefix(a, b)
}

impl fmt::Display for SequenceKey {
    /// The stored form, `kind:version:checksum`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.kind.as_str(),
            self.version,
            self.checksum
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_form_round_trips() {
        let key = SequenceKey::parse("seed:0001:sha256:ab").unwrap();
        assert_eq!(key.kind, Kind::Seed);
        assert_eq!(key.to_string(), "seed:0001:sha256:ab");
        for bad in [
            "",
            "versioned:1",
            "repeatable:1:sha256:ab",
            "versioned:x:sha256:ab",
            "versioned:1:ab",
        ] {
            assert!(SequenceKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn versions_compare_by_value_and_checksums_by_algorithm() {
        let a = SequenceKey::parse("versioned:01:sha256:ab").unwrap();
        assert!(a.same_script(&SequenceKey::parse("versioned:1:sha256:ab").unwrap()));
        assert!(a.same_script(&SequenceKey::parse("versioned:1:blake3:ff").unwrap()));
        assert!(!a.same_script(&SequenceKey::parse("versioned:1:sha256:ff").unwrap()));
        assert!(!a.same_script(&SequenceKey::parse("seed:1:sha256:ab").unwrap()));
    }
}
