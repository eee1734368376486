//! Helpers shared by the end-to-end tests: migrations folders on disk and queries of trek's
//! history.

use std::fs;
use std::path::PathBuf;

use trek::postgres::Client;
use trek::Migrations;

/// A migrations folder in a temporary directory, removed on drop.
pub(crate) struct Folder {
    pub(crate) dir: PathBuf,
}

impl Folder {
    pub(crate) fn new(label: &str) -> Folder {
        let dir = std::env::temp_dir().join(format!(
            "trek-e2e-{label}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Folder { dir }
    }

    pub(crate) fn file(self, name: &str, sql: &str) -> Folder {
        let path = self.dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, sql).unwrap();
        self
    }

    pub(crate) fn remove(self, name: &str) -> Folder {
        fs::remove_file(self.dir.join(name)).unwrap();
        self
    }

    pub(crate) fn read(&self) -> Migrations {
        trek_core::source::read_dir(&self.dir).unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub(crate) fn applied(client: &mut Client) -> Vec<(String, Option<String>, String, bool)> {
    client
        .query(
            "SELECT kind, version, name, failed FROM trek.applied ORDER BY id",
            &[],
        )
        .unwrap()
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

pub(crate) fn applied_versions(client: &mut Client) -> Vec<String> {
    applied(client)
        .into_iter()
        .filter_map(|(kind, version, _, _)| (kind == "versioned").then_some(version).flatten())
        .collect()
}

pub(crate) fn table_exists(client: &mut Client, table: &str) -> bool {
    client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .unwrap()
        .get(0)
}

/// The audit rows of `action`, as `name outcome`.
pub(crate) fn audited(client: &mut Client, action: &str) -> Vec<String> {
    client
        .query(
            "SELECT coalesce(name, ''), outcome FROM trek.audit WHERE action = $1 ORDER BY id",
            &[&action],
        )
        .unwrap()
        .into_iter()
        .map(|r| format!("{} {}", r.get::<_, String>(0), r.get::<_, String>(1)))
        .collect()
}

/// PostgreSQL's client program `name` (`pg_dump`, `createdb`…) as trek would pick it for the
/// test server: of the server's major (else the newest newer one), `TREK_PG_BIN` first, then
/// `PATH` and `/usr/lib/postgresql/<major>/bin`; the bare name when none is found.
pub(crate) fn client_program(name: &str) -> PathBuf {
    use trek_pg_binaries::{Major, Search};
    let mut admin = trek_tests::admin_client();
    let num: i32 = admin
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .unwrap()
        .get(0);
    let major = Major::new(u32::try_from(num / 10_000).unwrap());
    Search::new()
        .find_major(&[name], major)
        .map_or_else(|| PathBuf::from(name), |dir| dir.program(name))
}
