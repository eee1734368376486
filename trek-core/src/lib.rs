//! The migration model of trek, with no database code.
//!
//! `trek-core` owns everything trek knows about a migrations folder: file naming rules
//! ([`file_name`]), versions ([`Version`]), the three kinds of script ([`Kind`]), the
//! `-- trek:` directives ([`Directives`]), checksums ([`Checksum`]), reading a folder into a
//! validated [`Migrations`] set ([`source::read_dir`]), and splitting SQL into statements
//! ([`split::split`]). The `embed!` macro runs it at compile time and `cargo trek` at run time,
//! so both see exactly the same migrations.
//!
//! ```
//! let set = trek_core::Migrations::from_vec(Vec::new(), None);
//! assert_eq!(set.versioned().count(), 0);
//! ```
#![deny(missing_docs)]

pub mod checksum;
pub mod directive;
pub mod error;
pub mod file_name;
pub mod kind;
pub mod location;
pub mod migration;
pub mod set;
pub mod source;
pub mod split;
pub mod version;

pub use checksum::Checksum;
pub use directive::Directives;
pub use error::{SourceError, SourceErrorKind, SourceErrors};
pub use kind::Kind;
pub use location::Location;
pub use migration::{Down, Migration};
pub use set::Migrations;
pub use version::Version;
