//! Checksums of up scripts, tagged with their algorithm.

use std::borrow::Cow;
use std::fmt;

use sha2::{Digest, Sha256};

/// The checksum of an up script, as stored in `trek.applied.checksum`: `sha256:<64 hex digits>`.
///
/// It is SHA-256 of the file's bytes with a leading UTF-8 byte-order mark dropped and every CRLF
/// turned into LF, and nothing else normalised, so a checkout on another OS does not look
/// edited while any real edit does. The `sha256:` tag lets a later trek change the algorithm
/// without every stored checksum looking modified: a checksum is only compared with one of the
/// same algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checksum(Cow<'static, str>);

impl Checksum {
    /// The algorithm tag trek computes today.
    pub const SHA256: &'static str = "sha256";

    /// Computes the checksum of a script's raw bytes.
    pub fn of(bytes: &[u8]) -> Checksum {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut hasher = Sha256::new();
        let mut rest = bytes;
        while let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
            hasher.update(&rest[..i]);
            hasher.update(b"\n");
            rest = &rest[i + 2..];
        }
        hasher.update(rest);
        let digest = hasher.finalize();
        let mut out = String::with_capacity(7 + 64);
        out.push_str("sha256:");
        for b in digest {
            out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        Checksum(Cow::Owned(out))
    }

    /// Wraps a checksum read back from the database or computed by the macro.
    pub fn from_stored(s: impl Into<Cow<'static, str>>) -> Checksum {
        Checksum(s.into())
    }

    /// Wraps a checksum the `embed!` macro computed at compile time.
    #[doc(hidden)]
    pub const fn __from_static(s: &'static str) -> Checksum {
        Checksum(Cow::Borrowed(s))
    }

    /// The tagged text, `sha256:…`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The algorithm tag (`sha256`), or `""` when the stored text has no tag.
    pub fn algorithm(&self) -> &str {
        self.0.split_once(':').map_or("", |(tag, _)| tag)
    }

    /// Whether `self` and `other` say the script changed: both carry the same algorithm tag
    /// and their digests differ. Checksums of different algorithms cannot be compared and
    /// never count as a change, so a later trek that computes another algorithm does not make
    /// every applied migration (or repeatable) look edited.
    pub fn differs_from(&self, other: &Checksum) -> bool {
        self.algorithm() == other.algorithm() && self.0 != other.0
    }

    /// Parses a checksum read back from `trek.applied` or the snapshot catalogue: an algorithm
    /// tag, `:`, and a lower-case hex digest.
    ///
    /// # Errors
    /// A description of what is wrong with the text, for an error naming the row.
    pub fn parse_stored(text: &str) -> Result<Checksum, String> {
        let Some((tag, digest)) = text.split_once(':') else {
            return Err(format!("{text:?} has no algorithm tag (like `sha256:…`)"));
        };
        if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!("{text:?} has no algorithm tag (like `sha256:…`)"));
        }
        if digest.is_empty() || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("{text:?} has no hex digest after its tag"));
        }
        Ok(Checksum(Cow::Owned(text.to_owned())))
    }

    /// A short form for people: the tag and the first 12 hex digits.
    pub fn short(&self) -> &str {
        let end = self.0.find(':').map_or(0, |i| i + 1) + 12;
        self.0.get(..end).unwrap_or(&self.0)
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_are_tagged_sha256() {
        let c = Checksum::of(b"");
        assert_eq!(
            c.as_str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(c.algorithm(), "sha256");
        assert_eq!(c.short(), "sha256:e3b0c44298fc");
        assert_eq!(c.to_string(), c.as_str());
    }

    #[test]
    fn line_endings_and_a_bom_do_not_change_the_checksum() {
        let lf = Checksum::of(b"select 1;\nselect 2;\n");
        assert_eq!(Checksum::of(b"select 1;\r\nselect 2;\r\n"), lf);
        assert_eq!(Checksum::of(b"\xEF\xBB\xBFselect 1;\r\nselect 2;\n"), lf);
    }

    #[test]
    fn any_other_byte_changes_the_checksum() {
        let base = b"select 1;\nselect 2;\n".to_vec();
        let c = Checksum::of(&base);
        for i in 0..base.len() {
            let mut edited = base.clone();
            edited[i] ^= 1;
            assert_ne!(Checksum::of(&edited), c, "byte {i}");
        }
        assert_ne!(
            Checksum::of(b"select 1;\rselect 2;\n"),
            Checksum::of(b"select 1;\nselect 2;\n")
        );
        assert_ne!(Checksum::of(b"select 1; \n"), Checksum::of(b"select 1;\n"));
        assert_ne!(Checksum::of(b"x\xEF\xBB\xBF"), Checksum::of(b"x"));
    }

    #[test]
    fn only_checksums_of_the_same_algorithm_can_differ() {
        let a = Checksum::of(b"a");
        let b = Checksum::of(b"b");
        assert!(a.differs_from(&b));
        assert!(!a.differs_from(&a.clone()));
        let other = Checksum::parse_stored("blake3:00ff").unwrap();
        assert!(!a.differs_from(&other) && !other.differs_from(&a));
    }

    #[test]
    fn stored_checksums_must_carry_a_tag_and_a_digest() {
        assert!(Checksum::parse_stored("sha256:00ff").is_ok());
        for bad in ["", "00ff", ":00ff", "sha256:", "sha256:xyz", "sha 256:00"] {
            assert!(Checksum::parse_stored(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn stored_checksums_round_trip() {
        let c = Checksum::of(b"x");
        assert_eq!(Checksum::from_stored(c.as_str().to_owned()), c);
        assert_eq!(Checksum::from_stored("md5:abc").algorithm(), "md5");
        assert_eq!(Checksum::from_stored("abc").algorithm(), "");
        assert_eq!(Checksum::from_stored("x").short(), "x");
    }
}
