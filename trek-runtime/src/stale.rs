//! Noticing a stale binary: the migrations folder it was built from has changed since.

use std::collections::HashMap;
use std::path::Path;

use trek_core::Migrations;

use crate::report::Warning;

/// Compares an embedded set with the folder it was built from, when that folder exists on this
/// machine (a developer running what they just built). Returns a warning listing the files on
/// disk the binary does not embed and the ones whose content changed.
pub(crate) fn check(embedded: &Migrations) -> Option<Warning> {
    let dir = embedded.source_dir()?;
    if !Path::new(dir).is_dir() {
        return None;
    }
    let on_disk = match trek_core::source::read_dir(Path::new(dir)) {
        Ok(set) => set,
        Err(errors) => {
            tracing::warn!(dir, %errors, "the migrations folder this binary was built from has errors");
            return None;
        }
    };
    let embedded_files: HashMap<&str, (&str, Option<&str>)> = embedded
        .all()
        .iter()
        .map(|m| (m.path(), (m.checksum().as_str(), m.down().map(|d| d.sql()))))
        .collect();
    let mut not_embedded = Vec::new();
    let mut changed = Vec::new();
    for m in on_disk.all() {
        match embedded_files.get(m.path()) {
            None => not_embedded.push(m.path().to_owned()),
            Some((checksum, down)) => {
                if *checksum != m.checksum().as_str() {
                    changed.push(m.path().to_owned());
                }
                match (down, m.down()) {
                    (None, Some(d)) => not_embedded.push(d.path().to_owned()),
                    (Some(a), Some(b)) if *a != b.sql() => changed.push(b.path().to_owned()),
                    _ => {}
                }
            }
        }
    }
    if not_embedded.is_empty() && changed.is_empty() {
        return None;
    }
    Some(Warning::StaleBinary {
        dir: dir.to_owned(),
        not_embedded,
        changed,
    })
}
