//! The migration model of trek, with no database code.
//!
//! `trek-core` owns everything trek knows about a migrations folder: file naming rules
//! ([`file_name`]), versions ([`Version`]), the three kinds of script ([`Kind`]), the
//! `-- trek:` directives ([`Directives`], parsed by [`directive::parse`]), checksums
//! ([`Checksum`]), reading a folder into a validated [`Migrations`] set
//! ([`source::read_dir`]), PostgreSQL's lexical structure ([`lex::tokens`]), and splitting SQL
//! into statements on it ([`split::split`]); and converting another tool's migrations folder
//! into trek's layout ([`import::convert`]). The `embed!` macro runs it at compile time and
//! `cargo trek` at run time, so both see exactly the same migrations.
//!
//! Reading a folder reports every problem at once, each naming its file:
//!
//! ```no_run
//! match trek_core::source::read_dir(std::path::Path::new("migrations")) {
//!     Ok(set) => {
//!         for m in set.versioned() {
//!             println!("{} {} {}", m.version().map_or("", |v| v.as_str()), m.name(), m.checksum());
//!         }
//!     }
//!     Err(errors) => eprintln!("{errors}"), // one `PATH[:LINE]: message` per line
//! }
//! ```
//!
//! Splitting a script knows PostgreSQL's quoting:
//!
//! ```
//! let statements = trek_core::split::split("select ';'; select $$;$$;");
//! assert_eq!(statements.len(), 2);
//! assert_eq!(statements[1].text, "select $$;$$");
//! ```
#![deny(missing_docs)]

pub mod checksum;
pub mod declarative;
pub mod directive;
pub mod error;
pub mod file_name;
#[doc(hidden)]
pub mod fuzzing;
pub mod import;
pub mod kind;
pub mod lex;
pub mod location;
pub mod migration;
pub mod set;
pub mod source;
pub mod split;
pub mod version;

pub use checksum::Checksum;
pub use directive::{DirectiveError, Directives};
pub use error::{SourceError, SourceErrorKind, SourceErrors};
pub use kind::Kind;
pub use location::Location;
pub use migration::{Down, Migration};
pub use set::Migrations;
pub use version::Version;
