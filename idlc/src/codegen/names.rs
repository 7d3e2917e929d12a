//! How IDL identifiers become Rust identifiers.
//!
//! - Modules, fields, functions, methods and parameters: `snake_case`; types, traits, enum and
//!   union variants: `UpperCamelCase`; constants: `SCREAMING_SNAKE_CASE` (heck's rules, so
//!   `NamingContext` → `naming_context`, `IORTable` → `ior_table`, `BAD_PARAM` → `BadParam`).
//! - Characters Rust identifiers cannot hold become `_`; a name left empty becomes `x`, one
//!   starting with a digit gets an `n` in front.
//! - Rust keywords become raw identifiers (`r#type`), except those raw identifiers cannot
//!   spell (`self`, `Self`, `super`, `crate`), which get a trailing underscore (`self_`).
//! - Type names generated code relies on from the prelude (`String`, `Vec`, `Option`,
//!   `Result`, `Ok`, `Box`, ...) get a trailing underscore, so an IDL `struct Result` cannot
//!   shadow them.
//! - Clashes inside one Rust scope (two IDL names that convert alike, `FooBar` and `Foo_Bar`, or
//!   an IDL name and a generated one) are settled by [`Scope::claim`]: the first claimant keeps
//!   the name, later ones get underscores appended until the name is free. Names generated
//!   with a fixed meaning (`REPOSITORY_ID`, `dispatch`, ...) claim first.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};
use std::collections::HashSet;

/// Every Rust keyword, strict, reserved and weak, of every edition.
const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen", "union", "auto",
    "default", "safe", "raw",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Names generated code uses unqualified, from the prelude.
const PRELUDE: &[&str] = &[
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
    "ToString",
    "ToOwned",
    "Clone",
    "Copy",
    "Send",
    "Sync",
    "Sized",
    "Default",
    "Drop",
    "Eq",
    "PartialEq",
    "Ord",
    "PartialOrd",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "Into",
    "Iterator",
    "IntoIterator",
    "Extend",
    "AsRef",
    "AsMut",
    "Unpin",
    "TryFrom",
    "TryInto",
    "FromIterator",
    "DoubleEndedIterator",
    "ExactSizeIterator",
];

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Makes `s` a usable identifier; `lower` says which case a letter added in front takes.
fn finish_case(mut s: String, lower: bool) -> String {
    let letter = if lower { 'x' } else { 'X' };
    if s.trim_matches('_').is_empty() {
        s.push(letter);
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, if lower { 'n' } else { 'N' });
    }
    if KEYWORDS.contains(&s.as_str()) {
        if NOT_RAW.contains(&s.as_str()) || s == "true" || s == "false" {
            s.push('_');
        } else {
            s.insert_str(0, "r#");
        }
    }
    s
}

fn finish_upper(s: String) -> String {
    finish_case(s, false)
}

/// `snake_case`, for modules, fields, functions, methods and parameters.
pub fn snake(s: &str) -> String {
    finish_case(sanitize(s).to_snake_case(), true)
}

/// `UpperCamelCase`, for types, traits and variants.
pub fn camel(s: &str) -> String {
    let mut c = sanitize(s).to_upper_camel_case();
    if PRELUDE.contains(&c.as_str()) {
        c.push('_');
    }
    finish_upper(c)
}

/// `UpperCamelCase` for enum and union variants, which are only ever named through their
/// type and so may be called `Some` or `Ok`.
pub fn variant(s: &str) -> String {
    finish_upper(sanitize(s).to_upper_camel_case())
}

/// `UpperCamelCase` with `suffix` appended (`EchoStringError`), for generated type names
/// built from an IDL name.
pub fn camel_with(s: &str, prefix: &str, suffix: &str) -> String {
    finish_upper(format!(
        "{prefix}{}{suffix}",
        sanitize(s).to_upper_camel_case()
    ))
}

/// `snake_case` with `prefix` in front (`upcall_echo_string`), for generated function names
/// built from an IDL name.
pub fn snake_with(prefix: &str, s: &str) -> String {
    finish_case(format!("{prefix}{}", sanitize(s).to_snake_case()), true)
}

/// `SCREAMING_SNAKE_CASE`, for constants.
pub fn shouty(s: &str) -> String {
    finish_upper(sanitize(s).to_shouty_snake_case())
}

/// The identifier for a name made by this module (`r#type` becomes a raw identifier).
pub fn ident(s: &str) -> Ident {
    match s.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(s, Span::call_site()),
    }
}

/// One Rust namespace of one scope (a module's types, a module's values, a struct's fields,
/// a trait's methods): hands out names without clashes.
#[derive(Debug, Default, Clone)]
pub struct Scope {
    taken: HashSet<String>,
}

impl Scope {
    /// Claims `name`, or `name` with underscores appended if it is taken.
    pub fn claim(&mut self, name: String) -> String {
        let mut n = name;
        while self.taken.contains(n.strip_prefix("r#").unwrap_or(&n)) {
            n.push('_');
        }
        self.taken
            .insert(n.strip_prefix("r#").unwrap_or(&n).to_owned());
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(snake("NamingContext"), "naming_context");
        assert_eq!(snake("IORTable"), "ior_table");
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("Self"), "self_");
        assert_eq!(camel("BAD_PARAM"), "BadParam");
        assert_eq!(camel("self"), "Self_");
        assert_eq!(camel("Result"), "Result_");
        assert_eq!(camel("string"), "String_");
        assert_eq!(shouty("maxLen"), "MAX_LEN");
        assert_eq!(shouty("TAG_INTERNET_IOP"), "TAG_INTERNET_IOP");
        assert_eq!(snake("_"), "x");
        assert_eq!(snake("true"), "true_");
        assert_eq!(camel("1a"), "N1a");
        assert_eq!(snake("1a"), "n1a");
        assert_eq!(camel(""), "X");
        assert_eq!(shouty("é"), "X");
    }

    #[test]
    fn every_name_is_a_valid_identifier() {
        for s in [
            "type", "Self", "", "é", "x-y", "gen", "union", "crate", "9", "true",
        ] {
            for n in [snake(s), camel(s), shouty(s)] {
                let _ = ident(&n);
            }
        }
    }

    #[test]
    fn clashes_get_underscores() {
        let mut s = Scope::default();
        assert_eq!(s.claim(snake("FooBar")), "foo_bar");
        assert_eq!(s.claim(snake("Foo_Bar")), "foo_bar_");
        assert_eq!(s.claim("r#type".into()), "r#type");
        assert_eq!(s.claim("type".into()), "type_");
    }
}
