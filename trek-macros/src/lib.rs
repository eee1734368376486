//! The `embed!` macro of trek: compiles a migrations folder into the binary.
//!
//! Use it through `trek` (the `trek-runtime` crate), which re-exports it:
//!
//! ```ignore
//! static MIGRATIONS: trek::Migrations = trek::embed!();                 // ./migrations
//! static OTHER: trek::Migrations = trek::embed!("db/migrations");       // ./db/migrations
//! ```
//!
//! The path is resolved against `CARGO_MANIFEST_DIR`, the folder of the crate's `Cargo.toml`
//! (an absolute path is taken as is). The folder is read at compile time with
//! [`trek_core::source::read_dir`], the same reader `cargo trek` uses at run time, so both
//! see the same migrations; every problem in the folder (a bad file name, equal versions, an
//! unknown directive, invalid UTF-8, ...) is a `compile_error!` naming the file relative to
//! the folder, all reported at once. Checksums are computed at compile time.
//!
//! The expansion is a `const` expression (`static` or `const` items both work) that includes
//! every script with `include_str!`, so editing a migration rebuilds the crate. Cargo cannot
//! know about a file *added* to the folder, though: add a `build.rs` with
//!
//! ```text
//! // build.rs
//! fn main() {
//!     println!("cargo:rerun-if-changed=migrations");
//! }
//! ```
//!
//! (`cargo trek init` writes it) so that a new migration is embedded on the next build.
#![deny(missing_docs)]

use proc_macro::TokenStream;

mod expand;
mod to_tokens;

/// Embeds a migrations folder as a `trek::Migrations` value, checked at compile time.
///
/// `embed!()` reads `migrations` beside the crate's `Cargo.toml`; `embed!("db/migrations")`
/// reads that path relative to the crate's `Cargo.toml`. See the [crate docs](crate).
#[proc_macro]
pub fn embed(input: TokenStream) -> TokenStream {
    expand::embed(input.into()).into()
}
