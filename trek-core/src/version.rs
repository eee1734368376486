//! Migration versions: dot-separated unsigned integers compared numerically.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// A migration version such as `0003`, `2.1` or `20261121093000`.
///
/// Versions compare component by component, numerically, so `1 < 1.1 < 2 < 10` and `01 == 1`.
/// The text as written in the file name is kept for display and for `trek.applied.version`.
#[derive(Debug, Clone)]
pub struct Version {
    text: Cow<'static, str>,
    parts: Cow<'static, [u64]>,
}

/// Why a version string is not a version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a version: {reason} (a version is one or more dot-separated unsigned integers, like `0003`, `2.1` or `20261121093000`)")]
pub struct VersionError {
    /// The text that failed to parse.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Version {
    /// Parses `0003`, `2.1`, `20261121093000`.
    ///
    /// # Errors
    /// When the text is empty, has an empty component (`1..2`, `.1`), a component that is not
    /// all ASCII digits, or a component larger than `u64::MAX`.
    pub fn parse(text: &str) -> Result<Version, VersionError> {
        let err = |reason| VersionError {
            text: text.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(err("it is empty"));
        }
        let mut parts = Vec::new();
        for part in text.split('.') {
            if part.is_empty() {
                return Err(err("it has an empty component"));
            }
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("it has a component that is not all digits"));
            }
            parts.push(
                part.parse::<u64>()
                    .map_err(|_| err("a component is too large"))?,
            );
        }
        Ok(Version {
            text: Cow::Owned(text.to_owned()),
            parts: Cow::Owned(parts),
        })
    }

    /// Builds a version from parts the `embed!` macro already validated.
    #[doc(hidden)]
    pub const fn __from_static(text: &'static str, parts: &'static [u64]) -> Self {
        Version {
            text: Cow::Borrowed(text),
            parts: Cow::Borrowed(parts),
        }
    }

    /// The version as written in the file name (`0003`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The numeric components (`[2, 1]` for `2.1`).
    pub fn parts(&self) -> &[u64] {
        &self.parts
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
}

impl Eq for Version {}

impl Hash for Version {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts.hash(state);
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Version {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        match Version::parse(s) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn versions_compare_numerically_component_by_component() {
        assert!(v("1") < v("1.1"));
        assert!(v("1.1") < v("2"));
        assert!(v("2") < v("10"));
        assert!(v("1.2") < v("1.10"));
        assert!(v("20261121093000") > v("9999"));
        let mut sorted = [v("10"), v("2"), v("1.1"), v("1")];
        sorted.sort();
        let texts: Vec<_> = sorted.iter().map(Version::as_str).collect();
        assert_eq!(texts, ["1", "1.1", "2", "10"]);
    }

    #[test]
    fn leading_zeros_do_not_matter_but_are_kept_for_display() {
        assert_eq!(v("01"), v("1"));
        assert_eq!(v("0003").to_string(), "0003");
        assert_eq!(v("0003").parts(), [3]);
        let mut set = std::collections::HashSet::new();
        set.insert(v("01"));
        assert!(set.contains(&v("1")));
    }

    #[test]
    fn bad_versions_are_errors() {
        for bad in [
            "",
            ".1",
            "1.",
            "1..2",
            "a",
            "1a",
            "-1",
            "+1",
            " 1",
            "99999999999999999999",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad:?}");
        }
        let e = Version::parse("1x").expect_err("bad");
        assert!(e.to_string().contains("`1x` is not a version"));
    }

    #[test]
    fn static_versions_equal_parsed_ones() {
        assert_eq!(Version::__from_static("0003", &[3]), v("3"));
        assert_eq!(
            "2.1".parse::<Version>().map(|v| v.parts().to_vec()),
            Ok(vec![2, 1])
        );
    }
}
