//! The generator on every IDL file the front end accepts (the IDL corpus beside the repository
//! and omniORB's installed IDL): it must never panic, and must produce Rust that parses (the
//! generator checks that itself before rendering). One demux strategy is enough here: the
//! strategies differ only in one function body, which idlc-tests compiles for each.
//!
//! Whether that Rust also compiles without warnings is idlc-tests' job, for the test IDL and
//! omniORB's files.

use std::panic::{catch_unwind, AssertUnwindSafe};

mod common;

use common::{corpus_or_skip, frontend, rows};

#[test]
fn generator_handles_every_accepted_corpus_file() {
    let Some(dir) = corpus_or_skip("generator_handles_every_accepted_corpus_file") else {
        return;
    };
    let files = dir.join("files");
    let (mut generated, mut failures) = (0, Vec::new());
    // Items the generator could not map, by reason.
    let mut unmapped: std::collections::BTreeMap<String, usize> = Default::default();
    for (path, flags) in rows(&dir)
        .into_iter()
        .map(|r| (files.join(r.path), r.flags))
    {
        let Ok(model) = frontend(&files, &flags).parse_file(&path) else {
            continue;
        };
        let opts = idlc::Options::default();
        match catch_unwind(AssertUnwindSafe(|| idlc::codegen::generate(&model, &opts))) {
            Ok(Ok(text)) => {
                assert!(text.starts_with(idlc::codegen::HEADER));
                generated += 1;
                for line in text.lines().filter(|l| l.contains(" is not mapped")) {
                    let reason = line.split_once(": ").map_or(line, |(_, r)| r).trim();
                    *unmapped.entry(reason.to_owned()).or_default() += 1;
                }
            }
            Ok(Err(e)) => failures.push(format!("{}: {e}", path.display())),
            Err(_) => failures.push(format!("PANIC {}", path.display())),
        }
    }
    println!("generated {generated} files");
    let total: usize = unmapped.values().sum();
    println!("{total} items not mapped:");
    for (reason, n) in &unmapped {
        println!("{n:6}  {reason}");
    }
    assert!(generated > 0);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every valid file maps completely: no item is left as a "not mapped" comment.
    assert_eq!(total, 0, "items not mapped: {unmapped:#?}");
}
