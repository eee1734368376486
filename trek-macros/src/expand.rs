//! Parse the macro input, read the folder with `trek-core`, and turn problems into
//! `compile_error!`s.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

use trek_core::source::read_dir;

/// The folder `embed!()` reads when given no path.
const DEFAULT_DIR: &str = "migrations";

/// The input of `embed!`: nothing, or one string literal (with an optional trailing comma).
struct Input {
    path: Option<LitStr>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Ok(Input { path: None });
        }
        if !input.peek(LitStr) {
            return Err(input.error(
                "trek::embed! takes a string literal, the migrations folder relative to the crate's Cargo.toml, like `trek::embed!(\"db/migrations\")`, or nothing for `migrations`",
            ));
        }
        let path: LitStr = input.parse()?;
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        }
        if !input.is_empty() {
            return Err(input.error(
                "unexpected tokens after the path: trek::embed! takes a single string literal",
            ));
        }
        Ok(Input { path: Some(path) })
    }
}

/// Expands `embed!(input)`: the migrations, or one `compile_error!` per problem.
pub(crate) fn embed(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<Input>(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let (written, span) = match &input.path {
        Some(lit) => (lit.value(), lit.span()),
        None => (DEFAULT_DIR.to_owned(), Span::call_site()),
    };
    match read(&written) {
        Ok(tokens) => tokens,
        Err(messages) => errors(&messages, span),
    }
}

/// Reads the folder `written` (as given to the macro) and emits the set.
fn read(written: &str) -> Result<TokenStream, Vec<String>> {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").ok_or_else(|| {
        vec!["trek::embed!: CARGO_MANIFEST_DIR is not set; build the crate with cargo".to_owned()]
    })?;
    let dir = PathBuf::from(manifest_dir).join(written);
    let set = read_dir(&dir).map_err(|errors| {
        errors
            .iter()
            .map(|e| {
                let mut message = format!("trek::embed!: {}", shown_path(written, &dir, &e.path));
                if let Some(line) = e.line {
                    message.push_str(&format!(":{line}"));
                }
                message.push_str(&format!(": {}", e.kind));
                if e.path == dir {
                    message.push_str(&format!(
                        " (the path is resolved against CARGO_MANIFEST_DIR: {})",
                        dir.display()
                    ));
                }
                message
            })
            .collect::<Vec<_>>()
    })?;
    crate::to_tokens::migrations(&set).map_err(|e| vec![format!("trek::embed!: {written}: {e}")])
}

/// A file of the folder as messages show it: the folder as written, then the file relative to
/// it (`migrations/01_b.sql`).
fn shown_path(written: &str, dir: &Path, path: &Path) -> String {
    if path == dir || path.as_os_str().is_empty() {
        return written.to_owned();
    }
    format!(
        "{}/{}",
        written.trim_end_matches('/'),
        path.to_string_lossy().replace('\\', "/")
    )
}

/// One `compile_error!` per message, then an empty set so that no other error follows.
fn errors(messages: &[String], span: Span) -> TokenStream {
    let errors = messages
        .iter()
        .map(|m| quote_spanned!(span=> ::core::compile_error!(#m);));
    quote_spanned! {span=>
        {
            #(#errors)*
            ::trek::__private::Migrations::__from_static(&[], ::core::option::Option::None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shown_relative_to_the_folder_as_written() {
        let dir = Path::new("/abs/crate/db/migrations");
        assert_eq!(shown_path("db/migrations", dir, dir), "db/migrations");
        assert_eq!(
            shown_path("db/migrations/", dir, Path::new("seeds/1_a.sql")),
            "db/migrations/seeds/1_a.sql"
        );
    }

    #[test]
    fn input_is_nothing_or_one_string_literal() {
        let parse = |s: &str| syn::parse_str::<Input>(s).map(|i| i.path.map(|p| p.value()));
        assert_eq!(parse("").ok(), Some(None));
        assert_eq!(parse("\"db\"").ok(), Some(Some("db".to_owned())));
        assert_eq!(parse("\"db\",").ok(), Some(Some("db".to_owned())));
        assert!(parse("db").is_err());
        assert!(parse("42").is_err());
        assert!(parse("\"a\" \"b\"").is_err());
        assert!(parse("\"a\", \"b\"").is_err());
    }
}
