//! trek: PostgreSQL migrations for Rust, with a workflow per environment.
//!
//! An application embeds its migrations folder with [`embed!`] and migrates its own database at
//! start-up with a [`Migrator`]. The engine keeps its history in its own schema (`trek` by
//! default: `trek.applied`, `trek.audit`, `trek.meta`), holds a session advisory lock for the
//! whole run so many instances can start at once, and applies each migration and its history
//! row in one transaction (one round trip).
//!
//! ```no_run
//! static MIGRATIONS: trek::Migrations = trek::embed!("../examples/app/migrations");
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let url = std::env::var("DATABASE_URL")?;
//!     let mut client = trek::postgres::Client::connect(&url, trek::postgres::NoTls)?;
//!     let report = trek::Migrator::new(&MIGRATIONS)
//!         .workflow(trek::Workflow::Prod)
//!         .run(&mut client)?;
//!     for warning in &report.warnings {
//!         eprintln!("warning: {warning}");
//!     }
//!     Ok(())
//! }
//! ```
#![deny(missing_docs)]

pub use postgres;
pub use trek_core::{
    split, Checksum, Directives, Down, Kind, Location, Migration, Migrations, SourceError,
    SourceErrors, Version,
};
pub use trek_macros::embed;

/// Items the `embed!` macro's expansion refers to. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use std::borrow::Cow;
    pub use trek_core::{Checksum, Directives, Down, Kind, Migration, Migrations, Version};
}
