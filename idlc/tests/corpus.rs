//! The IDL corpus test: every `valid` row of `corpus.tsv` must be accepted, every `invalid` row
//! rejected with a positioned error, and nothing may panic.
//!
//! Verdicts come from omniidl 4.2.5. Where it disagrees with the CORBA specification, the
//! specification wins; such rows are listed in [`SPEC_OVERRIDES`] with the reason.
//!
//! The corpus lives beside the repository (`../shared/idl-corpus` from the workspace root), or
//! wherever `IDL_CORPUS` points. Without it this test fails: CI always has it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// Rows whose omniidl verdict contradicts the CORBA specification: (path suffix, our verdict, why).
/// The specification wins.
const SPEC_OVERRIDES: &[(&str, &str, &str)] = &[
    (
        "ignored-testsuite/include/pragma.idl",
        "valid",
        "omniidl rejects a `#pragma prefix` inside an interface body, but pragmas are preprocessor \
         directives that may appear anywhere; CORBA 3.0 §10.7.5.2 scopes a prefix to 'the \
         remainder of the scope in which it appears', interfaces included. The rest of the file \
         is valid.",
    ),
    (
        "polyorb/testsuite/idls/idl15022/tin.idl",
        "valid",
        "this file is the CORBA 3.0 §3.15.3 example, where the specification itself marks \
         `typedef string inner1;` in module Inner2 'OK': Inner1 was never used in Inner2, so no \
         name was introduced there. omniidl does not report an error either; only PolyORB's test \
         suite lists it among its negative tests.",
    ),
    (
        "polyorb/testsuite/idls/max_values/tin.idl",
        "valid",
        "omniidl rejects `const long X = -2147483648;`, but CORBA 3.0 §3.10.2 evaluates a negated \
         literal as a signed long, and -2147483648 is the smallest long: the constant is in range.",
    ),
];

mod common;

use common::{corpus_or_skip, frontend, rows, Row};

enum Outcome {
    Accepted,
    Rejected(idlc::Diagnostics),
    Panicked(String),
}

fn run(files: &Path, row: &Row) -> Outcome {
    let fe = frontend(files, &row.flags);
    let path = files.join(&row.path);
    match catch_unwind(AssertUnwindSafe(|| fe.parse_file(&path))) {
        Ok(Ok(_)) => Outcome::Accepted,
        Ok(Err(d)) => Outcome::Rejected(d),
        Err(p) => Outcome::Panicked(
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default(),
        ),
    }
}

#[test]
fn corpus() {
    let Some(dir) = corpus_or_skip("corpus") else {
        return;
    };
    let files = dir.join("files");
    let rows = rows(&dir);
    let mut failures = Vec::new();
    // Counted against the verdicts as recorded in corpus.tsv.
    let (mut valid, mut valid_ok, mut invalid, mut invalid_ok, mut overridden) = (0, 0, 0, 0, 0);
    let (mut unknown_ok, mut unknown_rejected) = (0, 0);
    for row in &rows {
        let override_ = SPEC_OVERRIDES
            .iter()
            .find(|(p, _, _)| row.path.ends_with(p));
        let expected = override_
            .map(|(_, v, _)| *v)
            .unwrap_or(row.verdict.as_str());
        let outcome = run(&files, row);
        let accepted = matches!(outcome, Outcome::Accepted);
        match row.verdict.as_str() {
            "valid" => {
                valid += 1;
                valid_ok += accepted as usize;
            }
            "invalid" => {
                invalid += 1;
                invalid_ok += !accepted as usize;
                overridden += (accepted && override_.is_some()) as usize;
            }
            _ if accepted => unknown_ok += 1,
            _ => unknown_rejected += 1,
        }
        match (expected, outcome) {
            (_, Outcome::Panicked(msg)) => failures.push(format!("PANIC {}: {msg}", row.path)),
            ("valid", Outcome::Rejected(d)) => {
                failures.push(format!("valid file rejected: {}\n{}", row.path, d.render()))
            }
            ("invalid", Outcome::Accepted) => {
                failures.push(format!("invalid file accepted: {}", row.path))
            }
            ("invalid", Outcome::Rejected(d))
                if d.first().and_then(|e| e.location.as_ref()).is_none() =>
            {
                failures.push(format!(
                    "invalid file rejected without a position: {}\n{}",
                    row.path,
                    d.render()
                ))
            }
            _ => {}
        }
    }
    println!(
        "corpus: valid accepted {valid_ok}/{valid}; invalid rejected {invalid_ok}/{invalid} \
         ({overridden} accepted because the specification says they are valid, see \
         SPEC_OVERRIDES); unknown: {unknown_ok} accepted, {unknown_rejected} rejected"
    );
    if !failures.is_empty() {
        for f in &failures {
            println!("{f}\n");
        }
        panic!("{} corpus failures (see above)", failures.len());
    }
}
