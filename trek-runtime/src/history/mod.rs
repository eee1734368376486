//! trek's own tables: `meta` (layout version and environment stamp), `applied` (the current
//! state) and `audit` (append-only), all in trek's schema.

pub(crate) mod applied;
pub(crate) mod audit;
pub(crate) mod down;
pub(crate) mod meta;
pub(crate) mod sequence;

pub use applied::AppliedRow;
pub use audit::{AuditEntry, AuditSince};
