//! What the corpus tests share: where the IDL corpus is, its rows, and a front end set up the
//! way omniidl was when it gave the corpus its verdicts.
// Each test crate includes this module and uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// omniidl's preprocessor predefines `__OMNIIDL__`, and omniORB's own COS files depend on it
/// (e.g. CosLifeCycle.idl declares `_Factory` only under it, `Factory` clashing with the
/// keyword `factory` otherwise). The corpus verdicts were made with it, so the test defines it.
pub const OMNIIDL_DEFINES: &[&str] = &["__OMNIIDL__"];

pub fn corpus_dir() -> PathBuf {
    match std::env::var_os("IDL_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/idl-corpus"),
    }
}

/// The corpus directory, or `None` after printing why the calling test is skipped: the
/// corpus lives beside the repository (CI has it), not in it, so a clone on its own has none.
/// With `IDL_CORPUS_REQUIRED=1` (as CI runs) a missing corpus fails instead.
pub fn corpus_or_skip(test: &str) -> Option<PathBuf> {
    let dir = corpus_dir();
    if dir.join("corpus.tsv").is_file() {
        return Some(dir);
    }
    let why = format!(
        "the IDL corpus is not at {} (it is expected beside the repository, \
         ../shared/idl-corpus, or at $IDL_CORPUS)",
        dir.display()
    );
    if std::env::var_os("IDL_CORPUS_REQUIRED").is_some_and(|v| v == "1") {
        panic!("{why}, and IDL_CORPUS_REQUIRED=1");
    }
    test_support::skip(test, &why);
    None
}

pub struct Row {
    pub path: String,
    pub verdict: String,
    pub flags: String,
}

pub fn rows(dir: &Path) -> Vec<Row> {
    let tsv = dir.join("corpus.tsv");
    let text = std::fs::read_to_string(&tsv).unwrap_or_else(|e| {
        panic!(
            "cannot read the IDL corpus at {} ({e}); set IDL_CORPUS to the idl-corpus directory",
            tsv.display()
        )
    });
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            Row {
                path: cols.next().unwrap_or_default().to_owned(),
                verdict: cols.next().unwrap_or_default().to_owned(),
                flags: cols.next().unwrap_or_default().to_owned(),
            }
        })
        .collect()
}

/// A front end with the row's `-I` (relative to `files/` unless absolute) and `-D` flags.
pub fn frontend(files: &Path, flags: &str) -> idlc::Frontend {
    let mut fe = idlc::Frontend::new();
    for d in OMNIIDL_DEFINES {
        fe.define(d);
    }
    for f in flags.split_whitespace() {
        if let Some(dir) = f.strip_prefix("-I") {
            let p = Path::new(dir);
            fe.include_dir(if p.is_absolute() {
                p.to_path_buf()
            } else {
                files.join(p)
            });
        } else if let Some(def) = f.strip_prefix("-D") {
            fe.define(def);
        }
    }
    fe
}
