//! [`Timestamp`]: a moment read from trek's tables, in UTC.

use std::fmt;

use time::macros::format_description;
use time::OffsetDateTime;

/// A moment in UTC, to the millisecond, as trek reads it from its tables (`applied_at`,
/// `taken_at`). `Display` writes RFC 3339 to the second: `2026-11-30T04:29:44Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    unix_ms: i64,
}

impl Timestamp {
    /// The moment `unix_ms` milliseconds after 1970-01-01T00:00:00Z.
    pub const fn from_unix_ms(unix_ms: i64) -> Self {
        Timestamp { unix_ms }
    }

    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub const fn unix_ms(self) -> i64 {
        self.unix_ms
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
        match OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.unix_ms) * 1_000_000)
            .ok()
            .and_then(|t| t.format(format).ok())
        {
            Some(text) => f.write_str(&text),
            // Outside the years the calendar can print (±9999): the raw value.
            None => write!(f, "{} ms after the Unix epoch", self.unix_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_rfc3339_to_the_second_in_utc() {
        assert_eq!(
            Timestamp::from_unix_ms(1_796_013_384_999).to_string(),
            "2026-11-30T04:36:24Z"
        );
        assert_eq!(
            Timestamp::from_unix_ms(0).to_string(),
            "1970-01-01T00:00:00Z"
        );
        assert!(Timestamp::from_unix_ms(i64::MAX)
            .to_string()
            .contains("ms after"));
    }
}
