//! The generator on every IDL file the front end accepts (the IDL corpus beside the repository
//! and omniORB's installed IDL): it must never panic, and must produce Rust that parses (the
//! generator checks that itself before rendering). One demux strategy is enough here: the
//! strategies differ only in one function body, which idlc-tests compiles for each.
//!
//! Whether that Rust also compiles without warnings is idlc-tests' job, for the test IDL and
//! omniORB's files.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    match std::env::var_os("IDL_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/idl-corpus"),
    }
}

/// (file, -I/-D flags) of every corpus row.
fn corpus_rows() -> Vec<(PathBuf, String)> {
    let dir = corpus_dir();
    let text = std::fs::read_to_string(dir.join("corpus.tsv")).unwrap_or_else(|e| {
        panic!(
            "cannot read the IDL corpus at {} ({e}); set IDL_CORPUS",
            dir.display()
        )
    });
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            let path = dir.join("files").join(cols.next().unwrap_or_default());
            let _verdict = cols.next();
            (path, cols.next().unwrap_or_default().to_owned())
        })
        .collect()
}

fn frontend(files: &Path, flags: &str) -> idlc::Frontend {
    let mut fe = idlc::Frontend::new();
    fe.define("__OMNIIDL__");
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

#[test]
fn generator_handles_every_accepted_corpus_file() {
    let files = corpus_dir().join("files");
    let (mut generated, mut failures) = (0, Vec::new());
    for (path, flags) in corpus_rows() {
        let Ok(model) = frontend(&files, &flags).parse_file(&path) else {
            continue;
        };
        let opts = idlc::Options::default();
        match catch_unwind(AssertUnwindSafe(|| idlc::codegen::generate(&model, &opts))) {
            Ok(Ok(text)) => {
                assert!(text.starts_with(idlc::codegen::HEADER));
                generated += 1;
            }
            Ok(Err(e)) => failures.push(format!("{}: {e}", path.display())),
            Err(_) => failures.push(format!("PANIC {}", path.display())),
        }
    }
    println!("generated {generated} files");
    assert!(generated > 0);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
