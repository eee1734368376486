//! Emitting a validated set as a `const` expression of `::trek::__private` constructors.

use std::path::Path;

use proc_macro2::TokenStream;
use quote::quote;

use trek_core::{Checksum, Directives, Down, Kind, Migration, Migrations, Version};

/// The set as `::trek::__private::Migrations::__from_static(ITEMS, Some("<abs dir>"))`, with
/// every script `include_str!`ed from its absolute path so cargo rebuilds when one changes.
/// Entries come in the set's order (sorted), so the output is the same on every build.
///
/// # Errors
/// When a path is not valid UTF-8 (`include_str!` takes a string).
pub(crate) fn migrations(set: &Migrations) -> Result<TokenStream, String> {
    let dir = set
        .source_dir()
        .ok_or_else(|| "the folder was read without a source folder".to_owned())?;
    let items = set
        .all()
        .iter()
        .map(|m| migration(Path::new(dir), m))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(quote! {
        {
            const ITEMS: &[::trek::__private::Migration] = &[#(#items),*];
            ::trek::__private::Migrations::__from_static(
                ITEMS,
                ::core::option::Option::Some(#dir),
            )
        }
    })
}

fn migration(dir: &Path, m: &Migration) -> Result<TokenStream, String> {
    let kind = kind(m.kind());
    let version = match m.version() {
        Some(v) => {
            let v = version(v);
            quote!(::core::option::Option::Some(#v))
        }
        None => quote!(::core::option::Option::None),
    };
    let name = m.name();
    let path = m.path();
    let sql = include(dir, path)?;
    let checksum = checksum(m.checksum());
    let directives = directives(m.directives());
    let down = match m.down() {
        Some(d) => {
            let d = down(dir, d)?;
            quote!(::core::option::Option::Some(#d))
        }
        None => quote!(::core::option::Option::None),
    };
    Ok(quote! {
        ::trek::__private::Migration::__new(
            #kind,
            #version,
            ::trek::__private::Cow::Borrowed(#name),
            ::trek::__private::Cow::Borrowed(#path),
            ::trek::__private::Cow::Borrowed(#sql),
            #checksum,
            #directives,
            #down,
        )
    })
}

fn down(dir: &Path, d: &Down) -> Result<TokenStream, String> {
    let path = d.path();
    let sql = include(dir, path)?;
    let directives = directives(d.directives());
    Ok(quote! {
        ::trek::__private::Down::__new(
            ::trek::__private::Cow::Borrowed(#path),
            ::trek::__private::Cow::Borrowed(#sql),
            #directives,
        )
    })
}

/// `include_str!("<absolute path>")`.
fn include(dir: &Path, relative: &str) -> Result<TokenStream, String> {
    let path = dir.join(relative);
    let path = path
        .to_str()
        .ok_or_else(|| format!("{relative}: the path {} is not valid UTF-8", path.display()))?;
    Ok(quote!(::core::include_str!(#path)))
}

fn kind(kind: Kind) -> TokenStream {
    match kind {
        Kind::Versioned => quote!(::trek::__private::Kind::Versioned),
        Kind::Repeatable => quote!(::trek::__private::Kind::Repeatable),
        Kind::Seed => quote!(::trek::__private::Kind::Seed),
    }
}

fn version(v: &Version) -> TokenStream {
    let text = v.as_str();
    let parts = v.parts();
    quote!(::trek::__private::Version::__from_static(#text, &[#(#parts),*]))
}

fn checksum(c: &Checksum) -> TokenStream {
    let text = c.as_str();
    quote!(::trek::__private::Checksum::__from_static(#text))
}

fn directives(d: &Directives) -> TokenStream {
    let Directives {
        no_transaction,
        lock_timeout,
        statement_timeout,
        run_always,
    } = d;
    let timeout = |t: &Option<std::borrow::Cow<'static, str>>| match t.as_deref() {
        Some(t) => quote!(::core::option::Option::Some(::trek::__private::Cow::Borrowed(#t))),
        None => quote!(::core::option::Option::None),
    };
    let lock_timeout = timeout(lock_timeout);
    let statement_timeout = timeout(statement_timeout);
    quote! {
        ::trek::__private::Directives {
            no_transaction: #no_transaction,
            lock_timeout: #lock_timeout,
            statement_timeout: #statement_timeout,
            run_always: #run_always,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_emitted_with_their_text_and_parts() {
        let v = Version::parse("0002.1").map_err(|e| e.to_string());
        let tokens = v.map(|v| version(&v).to_string());
        assert_eq!(
            tokens.as_deref(),
            Ok(":: trek :: __private :: Version :: __from_static (\"0002.1\" , & [2u64 , 1u64])")
        );
    }

    #[test]
    fn directives_are_a_struct_literal() {
        let d = Directives {
            lock_timeout: Some("5s".into()),
            ..Directives::NONE
        };
        let s = directives(&d).to_string();
        assert!(s.contains("no_transaction : false"));
        assert!(s.contains("Cow :: Borrowed (\"5s\")"));
        assert!(s.contains("statement_timeout : :: core :: option :: Option :: None"));
    }
}
