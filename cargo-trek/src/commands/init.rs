//! `cargo trek init`: `Trek.toml`, the migrations folder, and the `build.rs` line that makes
//! adding a migration rebuild the binary. Idempotent: what exists is kept, and an existing
//! `build.rs` gets the line added to its `fn main`, not replaced.

use std::fs;
use std::path::Path;

use crate::config::FILE_NAME;
use crate::context::Context;
use crate::error::Error;
use crate::json;
use crate::output::{paint, style, Printer};
use crate::Exit;

const TREK_TOML: &str = r#"# trek's configuration. Every setting can be overridden by the environment
# (DATABASE_URL, TREK_ENV, TREK_SCHEMA, TREK_MIGRATIONS, TREK_LOCK_TIMEOUT), by a .env file
# beside Cargo.toml, and by flags (--env, --database-url). Unknown keys are errors.

[trek]
# The migrations folder, relative to Cargo.toml.
migrations = "{migrations}"
# The schema holding trek's own tables (applied, audit, meta).
# schema = "trek"
# How long to wait for another run's advisory lock before giving up.
# lock_timeout = "10min"

# Environments: pick one with --env NAME or TREK_ENV=NAME; `dev` is the default.
# An environment without `url` uses DATABASE_URL when it is set, else trek's local
# server under target/trek/ (`cargo trek db url` prints its URL).
[env.dev]
workflow = "dev"            # rewinds edited migrations, runs seeds
# url = "postgres://localhost/app_dev"

# [env.qa]
# url_env = "QA_DATABASE_URL"
# workflow = "qa"           # snapshots before applying; an edited migration restores one
# snapshot = { strategy = "pg_dump", keep = 10 }   # dumps under target/trek/snapshots/qa

# [env.prod]
# url_env = "DATABASE_URL"  # the variable holding the URL: secrets stay out of this file
# workflow = "prod"         # forward only, never seeds; destructive actions are refused
"#;

/// What `init` did to one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Done {
    Created,
    Updated,
    Kept,
}

/// Runs `init`.
///
/// # Errors
/// [`Error::Io`] when a file cannot be written, [`Error::Usage`] when an existing build
/// script has no `fn main` to add the line to.
pub fn run(ctx: &Context, printer: &Printer) -> Result<Exit, Error> {
    let root = &ctx.project.root;
    let migrations_rel = ctx.migrations_display().replace('\\', "/");
    let mut done: Vec<(Done, String, &'static str)> = Vec::new();

    let toml_path = root.join(FILE_NAME);
    if toml_path.exists() {
        done.push((Done::Kept, ctx.show_path(&toml_path), "already there"));
    } else {
        let text = TREK_TOML.replace("{migrations}", &migrations_rel);
        fs::write(&toml_path, text).map_err(Error::io("write", &toml_path))?;
        done.push((
            Done::Created,
            ctx.show_path(&toml_path),
            "the configuration",
        ));
    }

    let dir = &ctx.migrations_dir;
    if dir.is_dir() {
        done.push((Done::Kept, folder(ctx, dir), "already there"));
    } else {
        fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
        // An empty folder does not survive a git checkout; `.keep` is ignored by trek.
        let keep = dir.join(".keep");
        fs::write(&keep, "").map_err(Error::io("write", &keep))?;
        done.push((Done::Created, folder(ctx, dir), "where migrations go"));
    }

    let build = ctx
        .project
        .build_script
        .clone()
        .unwrap_or_else(|| root.join("build.rs"));
    let line = format!("println!(\"cargo:rerun-if-changed={migrations_rel}\");");
    match fs::read_to_string(&build) {
        Ok(text) => match merge_build_script(&text, &migrations_rel, &line) {
            Merge::AlreadyThere => {
                done.push((
                    Done::Kept,
                    ctx.show_path(&build),
                    "already watches the folder",
                ));
            }
            Merge::Merged(text) => {
                fs::write(&build, text).map_err(Error::io("write", &build))?;
                done.push((
                    Done::Updated,
                    ctx.show_path(&build),
                    "added the rerun-if-changed line to fn main",
                ));
            }
            Merge::NoMain => {
                return Err(Error::Usage {
                    message: format!(
                        "{} has no `fn main() {{` to add the line to; add `{line}` to it yourself",
                        ctx.show_path(&build)
                    ),
                })
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let text = format!(
                "fn main() {{\n    // Rebuild when a migration is added, so `trek::embed!` sees it.\n    {line}\n}}\n"
            );
            fs::write(&build, text).map_err(Error::io("write", &build))?;
            done.push((
                Done::Created,
                ctx.show_path(&build),
                "rebuilds when a migration is added",
            ));
        }
        Err(e) => return Err(Error::io("read", &build)(e)),
    }

    if printer.json {
        let list = |which: Done| {
            done.iter()
                .filter(|(d, ..)| *d == which)
                .map(|(_, p, _)| p.clone())
                .collect::<Vec<_>>()
        };
        printer.json(&json::Init {
            schema: json::InitSchema,
            created: list(Done::Created),
            updated: list(Done::Updated),
            unchanged: list(Done::Kept),
            depends_on_trek: ctx.project.depends_on_trek,
        })?;
        return Ok(Exit::Success);
    }
    for (what, path, why) in &done {
        let verb = match what {
            Done::Created => paint(style::GOOD, "  created"),
            Done::Updated => paint(style::GOOD, "  updated"),
            Done::Kept => paint(style::DIM, "     kept"),
        };
        printer.line(&format!(
            "{verb} {path} {}",
            paint(style::DIM, format!("({why})"))
        ))?;
    }
    if !ctx.project.depends_on_trek {
        printer.note(&format!(
            "{} does not depend on trek-runtime yet; to embed the migrations: cargo add trek-runtime",
            ctx.project.name
        ));
    }
    printer.line(&format!(
        "next: {}",
        paint(style::BOLD, "cargo trek new \"create users\"")
    ))?;
    Ok(Exit::Success)
}

fn folder(ctx: &Context, dir: &Path) -> String {
    format!("{}/", ctx.show_path(dir).trim_end_matches('/'))
}

/// The result of adding the line to an existing build script.
#[derive(Debug, PartialEq, Eq)]
enum Merge {
    AlreadyThere,
    Merged(String),
    NoMain,
}

fn merge_build_script(text: &str, migrations: &str, line: &str) -> Merge {
    let watched = [
        format!("rerun-if-changed={migrations}\""),
        format!("rerun-if-changed={migrations}/\""),
    ];
    if watched.iter().any(|w| text.contains(w.as_str())) {
        return Merge::AlreadyThere;
    }
    let Some(main) = text.find("fn main(") else {
        return Merge::NoMain;
    };
    let Some(open) = text[main..].find('{').map(|i| main + i) else {
        return Merge::NoMain;
    };
    // Indent like the first line of the body, else four spaces.
    let body = &text[open + 1..];
    let indent = body
        .lines()
        .skip(1)
        .find(|l| !l.trim().is_empty())
        .map(|l| l[..l.len() - l.trim_start().len()].to_owned())
        .filter(|i| !i.is_empty())
        .unwrap_or_else(|| "    ".to_owned());
    let mut merged = String::with_capacity(text.len() + line.len() + 8);
    merged.push_str(&text[..=open]);
    merged.push('\n');
    merged.push_str(&indent);
    merged.push_str(line);
    if body.starts_with('\n') || body.starts_with("\r\n") {
        merged.push_str(body);
    } else if body.trim_start().starts_with('}') {
        merged.push('\n');
        merged.push_str(body.trim_start());
    } else {
        merged.push('\n');
        merged.push_str(&indent);
        merged.push_str(body.trim_start());
    }
    Merge::Merged(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = "println!(\"cargo:rerun-if-changed=migrations\");";

    #[test]
    fn merges_into_an_existing_main() {
        let text = "use std::env;\n\nfn main() {\n    println!(\"cargo:rustc-env=X=1\");\n}\n";
        let Merge::Merged(out) = merge_build_script(text, "migrations", LINE) else {
            panic!()
        };
        assert_eq!(
            out,
            "use std::env;\n\nfn main() {\n    println!(\"cargo:rerun-if-changed=migrations\");\n    println!(\"cargo:rustc-env=X=1\");\n}\n"
        );
        assert_eq!(
            merge_build_script(&out, "migrations", LINE),
            Merge::AlreadyThere
        );
    }

    #[test]
    fn merges_into_a_one_line_main_and_refuses_without_main() {
        let Merge::Merged(out) = merge_build_script("fn main() {}\n", "migrations", LINE) else {
            panic!()
        };
        assert_eq!(out, format!("fn main() {{\n    {LINE}\n}}\n"));
        assert_eq!(
            merge_build_script("// nothing\n", "migrations", LINE),
            Merge::NoMain
        );
    }

    #[test]
    fn the_template_and_its_commented_examples_are_valid() {
        let text = TREK_TOML.replace("{migrations}", "migrations");
        crate::config::parse(&text).unwrap();
        // Uncomment every example setting (not the prose comments) and it still parses.
        let uncommented: String = text
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if rest.starts_with('[')
                        || rest
                            .split_once(" = ")
                            .is_some_and(|(k, _)| !k.contains(' ')) =>
                {
                    rest
                }
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let toml = crate::config::parse(&uncommented).unwrap();
        assert!(toml.env["qa"].snapshot.is_some());
        assert_eq!(toml.env.len(), 3);
    }
}
