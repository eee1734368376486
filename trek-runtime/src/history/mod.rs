//! trek's own tables: `meta` (layout version and environment stamp), `applied` (the current
//! state) and `audit` (append-only), all in trek's schema.

pub(crate) mod applied;
pub(crate) mod audit;
pub(crate) mod down;
pub(crate) mod meta;
pub(crate) mod sequence;

pub use applied::AppliedRow;

/// The largest up script, in bytes, whose text `trek.applied.up_sql` keeps (1 MiB). A bigger
/// one (a data migration) is recorded by its checksum alone: storing it would send and write
/// it a second time, and `status` says that its edit cannot be shown as a diff.
pub const STORED_SCRIPT_LIMIT: usize = 1 << 20;
pub use audit::{AuditEntry, AuditSince};
