//! Property tests: the whole front end returns `Ok` or `Err` on any input and never panics.
//! Inputs are arbitrary strings, IDL-flavoured token soup, and mutated real IDL (samples below
//! plus IDL3 components and a deterministic selection of corpus files when the corpus is present).

use std::path::{Path, PathBuf};

use proptest::prelude::*;

const SAMPLE: &str = r#"
#ifndef SAMPLE_IDL
#define SAMPLE_IDL
#define SIZE 4
#define PASTE(a, b) a ## b
#pragma prefix "example.org"
module M {
  typedef sequence<sequence<long, SIZE>> Grid;
  const long long K = (1 << 10) | 0x0F ^ ~3;
  const fixed F = 12.50d * 2;
  enum Color { RED, GREEN, BLUE };
  union U switch (Color) { case RED: long r; case GREEN: case BLUE: string g; };
  struct S { long PASTE(a, 1); U un[2][SIZE]; sequence<S> kids; };
  exception Oops { string why; };
  interface Base { readonly attribute long id raises (Oops); };
  abstract interface Shape { double area(); };
  interface I : Base { oneway void ping(); S op(in S st, out long l, inout string x) raises (Oops) context ("a"); };
  valuetype V : truncatable Base2 supports I { public long x; factory make(in long x); };
  valuetype Box sequence<long>;
  typeprefix M "omg.org";
};
#pragma version M::I 2.3
#endif
"#;

const FRAGMENTS: &[&str] = &[
    "module",
    "interface",
    "valuetype",
    "abstract",
    "local",
    "custom",
    "struct",
    "union",
    "enum",
    "switch",
    "case",
    "default",
    "exception",
    "typedef",
    "const",
    "native",
    "sequence",
    "string",
    "wstring",
    "fixed",
    "long",
    "short",
    "unsigned",
    "double",
    "char",
    "boolean",
    "octet",
    "any",
    "Object",
    "ValueBase",
    "void",
    "oneway",
    "in",
    "out",
    "inout",
    "raises",
    "context",
    "readonly",
    "attribute",
    "getraises",
    "setraises",
    "factory",
    "public",
    "private",
    "supports",
    "truncatable",
    "typeid",
    "typeprefix",
    "import",
    "component",
    "home",
    "eventtype",
    "provides",
    "uses",
    "multiple",
    "emits",
    "publishes",
    "consumes",
    "manages",
    "primarykey",
    "finder",
    "porttype",
    "connector",
    "TRUE",
    "FALSE",
    "X",
    "Y",
    "_z",
    "Long",
    "::",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "<",
    ">",
    ">>",
    "<<",
    ",",
    ";",
    ":",
    "=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "~",
    "|",
    "^",
    "&",
    "0",
    "1",
    "4294967296",
    "0x7f",
    "017",
    "1.5",
    "1e400",
    "2.5d",
    "'a'",
    "'\\n'",
    "L'\\u1234'",
    "\"s\"",
    "L\"w\"",
    "\n",
    "\n#define A B\n",
    "\n#if A\n",
    "\n#else\n",
    "\n#endif\n",
    "\n#include \"nowhere.idl\"\n",
    "\n#pragma prefix \"p\"\n",
    "\n#pragma ID X \"IDL:x:1.0\"\n",
    "\n#pragma version X 1.1\n",
    "/*",
    "*/",
    "//",
    "\\\n",
    "#",
];

fn corpus_samples() -> Vec<(PathBuf, String)> {
    let dir = match std::env::var_os("IDL_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/idl-corpus"),
    };
    let mut out = vec![(PathBuf::from("sample.idl"), SAMPLE.to_owned())];
    // IDL3 components (valid as they stand: tests/components.rs).
    let components = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/idl/components.idl");
    if let Ok(text) = std::fs::read_to_string(&components) {
        out.push((components, text));
    }
    let Ok(tsv) = std::fs::read_to_string(dir.join("corpus.tsv")) else {
        return out;
    };
    // Every 40th row: a spread over all sources without making the test slow.
    for line in tsv.lines().skip(1).step_by(40) {
        let path = dir
            .join("files")
            .join(line.split('\t').next().unwrap_or_default());
        if let Ok(text) = std::fs::read_to_string(&path) {
            out.push((path, text));
        }
    }
    out
}

fn front_end(name: &Path, text: &str) {
    // Result ignored on purpose: only panics matter here.
    let _ = idlc::Frontend::new()
        .include_dir("/usr/share/idl/omniORB")
        .parse_str(name, text);
}

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..80).prop_map(|v| v.join(" "))
}

/// An edit: (position seed, kind, fragment index).
fn edits() -> impl Strategy<Value = Vec<(usize, u8, usize)>> {
    prop::collection::vec((any::<usize>(), 0u8..4, 0..FRAGMENTS.len()), 1..6)
}

fn mutate(text: &str, edits: &[(usize, u8, usize)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for &(seed, kind, frag) in edits {
        let len = chars.len().max(1);
        let at = seed % len;
        let span = (seed / len) % 40;
        match kind {
            0 => {
                let end = (at + span).min(chars.len());
                if at < end {
                    chars.drain(at..end);
                }
            }
            1 => {
                let ins: Vec<char> = FRAGMENTS[frag].chars().collect();
                let at = at.min(chars.len());
                chars.splice(at..at, ins);
            }
            2 => {
                let end = (at + span).min(chars.len());
                let dup: Vec<char> = chars.get(at..end).map(<[char]>::to_vec).unwrap_or_default();
                chars.splice(at.min(chars.len())..at.min(chars.len()), dup);
            }
            _ => {
                if let Some(c) = chars.get_mut(at) {
                    *c = FRAGMENTS[frag].chars().next().unwrap_or(' ');
                }
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,400}") {
        front_end(Path::new("arbitrary.idl"), &s);
    }

    #[test]
    fn token_soup_never_panics(s in soup()) {
        front_end(Path::new("soup.idl"), &s);
    }

    #[test]
    fn mutated_idl_never_panics(which in any::<usize>(), e in edits()) {
        let samples = corpus_samples();
        let (path, text) = &samples[which % samples.len()];
        front_end(path, &mutate(text, &e));
    }
}

#[test]
fn samples_are_valid_before_mutation() {
    // The sample must itself compile apart from the deliberate reference to an undefined
    // `Base2`, so mutations start from realistic, deep input.
    let err = idlc::Frontend::new()
        .parse_str("sample.idl", SAMPLE)
        .unwrap_err();
    assert_eq!(err.len(), 1, "{}", err.render());
    assert!(
        err.render().contains("cannot find 'Base2'"),
        "{}",
        err.render()
    );
}
