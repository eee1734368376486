//! `cargo trek completions SHELL`: a completion script for `cargo-trek`.
//!
//! Shells complete `cargo` itself with cargo's own script, so the script completes the
//! `cargo-trek` program (which takes the same arguments as `cargo trek`):
//! `cargo trek completions bash > ~/.local/share/bash-completion/completions/cargo-trek`.

use clap::Args;

use crate::cli::{CompletionsArgs, Trek};
use crate::error::Error;
use crate::json;
use crate::output::Printer;
use crate::Exit;

/// Runs `completions`.
///
/// # Errors
/// [`Error::Output`].
pub fn run(args: &CompletionsArgs, printer: &Printer) -> Result<Exit, Error> {
    let mut command =
        Trek::augment_args(clap::Command::new("cargo-trek")).version(env!("CARGO_PKG_VERSION"));
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "cargo-trek", &mut script);
    let script = String::from_utf8_lossy(&script);
    if printer.json {
        printer.json(&json::Completions {
            schema: json::CompletionsSchema,
            shell: args.shell.to_string(),
            script: script.into_owned(),
        })?;
    } else {
        printer.raw_stdout(&script)?;
    }
    Ok(Exit::Success)
}
