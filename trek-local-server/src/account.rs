//! Who the server runs as: the current user, or — when trek runs as root, which PostgreSQL
//! refuses — the unprivileged `postgres` account, which must be able to reach the server's folder.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The account PostgreSQL runs as when trek runs as root.
pub(super) const SERVER_ACCOUNT: &str = "postgres";

/// A user from `/etc/passwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Account {
    pub(super) name: String,
    pub(super) uid: u32,
    pub(super) gid: u32,
    pub(super) home: PathBuf,
}

/// The effective uid of this process, from `/proc/self/status`; `None` where there is no
/// `/proc` (then trek assumes it is not root and lets PostgreSQL say otherwise).
pub(super) fn effective_uid() -> Option<u32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    parse_effective_uid(&status)
}

/// The effective uid from the text of `/proc/<pid>/status` (`Uid: real effective saved fs`).
fn parse_effective_uid(status: &str) -> Option<u32> {
    let line = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The account called `name`, from `/etc/passwd`.
pub(super) fn lookup(name: &str) -> Option<Account> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    parse_passwd(&passwd, name)
}

/// The account called `name` in the text of a passwd file (`name:x:uid:gid:gecos:home:shell`).
fn parse_passwd(passwd: &str, name: &str) -> Option<Account> {
    passwd
        .lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() < 7 || fields[0] != name {
                return None;
            }
            Some(Account {
                name: fields[0].to_owned(),
                uid: fields[2].parse().ok()?,
                gid: fields[3].parse().ok()?,
                home: PathBuf::from(fields[5]),
            })
        })
}

/// Whether a user (`uid`, primary group `gid`, no supplementary groups: trek drops them) may
/// enter a directory with this mode and owner.
fn can_traverse(mode: u32, owner: u32, group: u32, uid: u32, gid: u32) -> bool {
    if owner == uid {
        mode & 0o100 != 0
    } else if group == gid {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

/// Whether `account` can enter `dir` and every directory above it. Directories that do not exist
/// yet count as reachable: trek creates them with mode 0755.
pub(super) fn can_reach(dir: &Path, account: &Account) -> bool {
    dir.ancestors().all(|d| match fs::metadata(d) {
        Ok(meta) => can_traverse(
            meta.mode(),
            meta.uid(),
            meta.gid(),
            account.uid,
            account.gid,
        ),
        Err(_) => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        # a comment\n\
        postgresql:x:7:7::/nowhere:/bin/false\n\
        postgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash\n\
        broken:x:notanumber:1::/:/bin/sh\n";

    #[test]
    fn passwd_lookup_finds_the_exact_name_with_uid_gid_and_home() {
        assert_eq!(
            parse_passwd(PASSWD, "postgres"),
            Some(Account {
                name: "postgres".to_owned(),
                uid: 101,
                gid: 104,
                home: PathBuf::from("/var/lib/postgresql"),
            })
        );
    }

    #[test]
    fn passwd_lookup_of_a_missing_or_malformed_user_is_none() {
        assert_eq!(parse_passwd(PASSWD, "nobody"), None);
        assert_eq!(parse_passwd(PASSWD, "broken"), None);
        assert_eq!(parse_passwd(PASSWD, "postgre"), None);
    }

    #[test]
    fn effective_uid_is_the_second_uid_field() {
        let status = "Name:\tcat\nUid:\t1000\t0\t0\t0\nGid:\t5\t5\t5\t5\n";
        assert_eq!(parse_effective_uid(status), Some(0));
        assert_eq!(parse_effective_uid("Name:\tcat\n"), None);
    }

    #[test]
    fn traversal_follows_the_owner_then_group_then_other_bits() {
        // A checkout under /root (0700 root:root) is closed to postgres (101:104).
        assert!(!can_traverse(0o40700, 0, 0, 101, 104));
        // 0755 and 0711 are open to everyone.
        assert!(can_traverse(0o40755, 0, 0, 101, 104));
        assert!(can_traverse(0o40711, 0, 0, 101, 104));
        // The owner's bits apply to the owner even when other bits would allow more.
        assert!(!can_traverse(0o40077, 101, 104, 101, 104));
        assert!(can_traverse(0o40700, 101, 0, 101, 104));
        // The group's bits apply to the primary group.
        assert!(can_traverse(0o40750, 0, 104, 101, 104));
        assert!(!can_traverse(0o40705, 0, 104, 101, 104));
    }

    #[test]
    fn a_missing_directory_counts_as_reachable_and_its_parents_are_checked() {
        let nobody = Account {
            name: "nobody".to_owned(),
            uid: 65534,
            gid: 65534,
            home: PathBuf::from("/"),
        };
        assert!(can_reach(Path::new("/usr/lib/no-such-dir/deeper"), &nobody));
    }
}
