//! Where output goes: results on stdout (text for people, or one JSON document with
//! `--json`), notes, warnings and errors on stderr.

pub mod dry_run;
pub mod human;
pub mod json;
pub mod lint;
pub mod log;
pub mod metrics;
pub mod progress;

use std::io::{self, Write};

use anstream::{AutoStream, ColorChoice};
use anstyle::{AnsiColor, Style};
use serde::Serialize;

use crate::cli;
use crate::error::Error;

/// Writes a command's output, in the mode the flags chose.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    /// `--json`: stdout carries exactly one JSON document.
    pub json: bool,
    /// `-q`: no notes on stderr.
    pub quiet: bool,
    color: ColorChoice,
}

/// Styles used across the output.
pub mod style {
    use super::*;

    /// Errors and bad states.
    pub const ERROR: Style = Style::new()
        .bold()
        .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
    /// Warnings and states that need a look.
    pub const WARN: Style = Style::new()
        .bold()
        .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));
    /// Good states.
    pub const GOOD: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
    /// Headers and emphasis.
    pub const BOLD: Style = Style::new().bold();
    /// Secondary information.
    pub const DIM: Style = Style::new().dimmed();
    /// Nothing.
    pub const PLAIN: Style = Style::new();
    /// Lines a diff removes.
    pub const REMOVED: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
    /// Lines a diff adds.
    pub const ADDED: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
    /// A diff's hunk headers.
    pub const HUNK: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan)));
}

impl Printer {
    /// A printer for the global flags.
    pub fn new(json: bool, quiet: bool, color: cli::ColorChoice) -> Printer {
        let color = match color {
            cli::ColorChoice::Auto => ColorChoice::Auto,
            cli::ColorChoice::Always => ColorChoice::Always,
            cli::ColorChoice::Never => ColorChoice::Never,
        };
        Printer { json, quiet, color }
    }

    /// Whether stderr is a terminal that gets colour (for the live progress line).
    pub fn stderr_is_terminal(&self) -> bool {
        use std::io::IsTerminal;
        io::stderr().is_terminal()
    }

    /// Whether stderr gets colour (`--color`, `NO_COLOR`, `CLICOLOR_FORCE` and the terminal).
    pub fn stderr_color(&self) -> bool {
        match self.color {
            ColorChoice::Auto => AutoStream::choice(&io::stderr()) != ColorChoice::Never,
            choice => choice != ColorChoice::Never,
        }
    }

    fn stdout(&self) -> AutoStream<io::Stdout> {
        AutoStream::new(io::stdout(), self.color)
    }

    fn stderr(&self) -> AutoStream<io::Stderr> {
        AutoStream::new(io::stderr(), self.color)
    }

    /// Writes `text` (which may carry ANSI styles) and a newline to stdout; colour is stripped
    /// when the terminal, `--color` or `NO_COLOR` say so.
    ///
    /// # Errors
    /// [`Error::Output`]; a closed pipe is one too, and [`crate::run`] exits quietly on it.
    pub fn line(&self, text: &str) -> Result<(), Error> {
        let mut out = self.stdout();
        writeln!(out, "{text}")
            .and_then(|()| out.flush())
            .map_err(Error::Output)
    }

    /// Prints the one JSON document of a `--json` run.
    ///
    /// # Errors
    /// [`Error::Output`].
    pub fn json(&self, value: &impl Serialize) -> Result<(), Error> {
        let mut out = io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, value)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out))
            .and_then(|()| out.flush())
            .map_err(Error::Output)
    }

    /// Prints `value` as one line of JSON (`watch --json`: one document per change,
    /// newline-delimited).
    ///
    /// # Errors
    /// [`Error::Output`].
    pub fn json_line(&self, value: &impl Serialize) -> Result<(), Error> {
        let mut out = io::stdout().lock();
        serde_json::to_writer(&mut out, value)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out))
            .and_then(|()| out.flush())
            .map_err(Error::Output)
    }

    /// A one-line note for people on stderr, unless `-q` (`--json` keeps stdout for the
    /// document, so notes still go to stderr).
    pub fn note(&self, text: &str) {
        if !self.quiet {
            let mut err = self.stderr();
            let _ = writeln!(
                err,
                "{}note:{} {text}",
                style::DIM,
                style::DIM.render_reset()
            );
        }
    }

    /// A warning on stderr (not with `--json`, whose document carries the warnings).
    pub fn warn(&self, text: &str) {
        if !self.json {
            let mut err = self.stderr();
            let _ = writeln!(
                err,
                "{}warning:{} {text}",
                style::WARN,
                style::WARN.render_reset()
            );
        }
    }

    /// Shows an error: on stderr for people, as a [`crate::json::ErrorDoc`] on stdout with
    /// `--json`.
    pub fn error(&self, error: &Error) {
        if self.json {
            let _ = self.json(&error.to_json());
        } else {
            let mut err = self.stderr();
            let _ = writeln!(
                err,
                "{}error:{} {}",
                style::ERROR,
                style::ERROR.render_reset(),
                error.chain()
            );
        }
    }

    /// Writes raw text to stderr (clap's help and errors), styled as clap made it.
    pub fn raw_stderr(&self, text: &str) {
        let mut err = self.stderr();
        let _ = write!(err, "{text}");
    }

    /// Writes raw text to stdout (`--help`, `--version`, completion scripts).
    ///
    /// # Errors
    /// [`Error::Output`].
    pub fn raw_stdout(&self, text: &str) -> Result<(), Error> {
        let mut out = self.stdout();
        write!(out, "{text}")
            .and_then(|()| out.flush())
            .map_err(Error::Output)
    }
}

/// `text` in `style`.
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{}", style.render_reset())
}
