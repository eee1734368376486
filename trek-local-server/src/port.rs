//! The server's private port: a stable hash of its data directory into 20000..60000, moved to the
//! next free port when that one is taken.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The lowest port trek picks.
const FIRST: u16 = 20_000;
/// How many ports trek picks from (`FIRST..FIRST + SPAN`).
const SPAN: u16 = 40_000;
/// How many ports trek tries before giving up.
pub(super) const TRIES: u16 = 200;

/// FNV-1a: a stable 64-bit hash (unlike `std`'s hasher, the same in every build and process).
pub(super) fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The port a cluster prefers: the same for the same data directory, different (mostly) for
/// different ones.
pub(super) fn preferred(data_dir: &Path) -> u16 {
    let offset = stable_hash(data_dir.as_os_str().as_bytes()) % u64::from(SPAN);
    FIRST + u16::try_from(offset).unwrap_or(0)
}

/// The `n`-th port after `start`, wrapping within trek's range.
fn nth_after(start: u16, n: u16) -> u16 {
    let start = start.clamp(FIRST, FIRST + SPAN - 1);
    FIRST + (start - FIRST + n % SPAN) % SPAN
}

/// The ports trek tries, in order, starting at `start`.
pub(super) fn candidates(start: u16) -> impl Iterator<Item = u16> {
    (0..TRIES).map(move |n| nth_after(start, n))
}

/// Whether nothing listens on 127.0.0.1:`port`.
pub(super) fn is_free(port: u16) -> bool {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preferred_port_is_stable_and_in_range() {
        let a = preferred(Path::new("/work/app/target/trek/postgres/data"));
        assert_eq!(
            a,
            preferred(Path::new("/work/app/target/trek/postgres/data"))
        );
        assert!((20_000..60_000).contains(&a));
        let b = preferred(Path::new("/work/other/target/trek/postgres/data"));
        assert_ne!(a, b, "two projects get different ports");
    }

    #[test]
    fn the_hash_is_fnv1a() {
        // Published FNV-1a 64 test vectors: nothing may change it between releases, or every
        // existing cluster would move port.
        assert_eq!(stable_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn candidates_wrap_around_within_the_range() {
        let ports: Vec<u16> = candidates(59_998).take(4).collect();
        assert_eq!(ports, [59_998, 59_999, 20_000, 20_001]);
        assert_eq!(candidates(20_000).count(), usize::from(TRIES));
        assert_eq!(
            candidates(5432).next(),
            Some(20_000),
            "out-of-range ports are clamped"
        );
    }

    #[test]
    fn a_port_in_use_is_not_free() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(!is_free(port));
        drop(listener);
    }
}
