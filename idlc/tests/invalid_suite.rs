//! The negative suite: each `tests/invalid/*.idl` starts with `// error: LINE:COL: text`, and
//! compiling it must fail with a first error at exactly that line and column whose message
//! contains `text`. The files cover every semantic check and the usual syntax errors.

use std::path::{Path, PathBuf};

struct Expectation {
    line: u32,
    col: u32,
    text: String,
}

fn expectation(path: &Path) -> Expectation {
    let src = std::fs::read_to_string(path).unwrap_or_default();
    let first = src.lines().next().unwrap_or_default();
    let parsed = first.strip_prefix("// error: ").and_then(|rest| {
        let mut it = rest.splitn(3, ':');
        let line = it.next()?.trim().parse().ok()?;
        let col = it.next()?.trim().parse().ok()?;
        Some(Expectation {
            line,
            col,
            text: it.next()?.trim().to_owned(),
        })
    });
    parsed.unwrap_or_else(|| {
        panic!(
            "{}: first line must be `// error: LINE:COL: text`",
            path.display()
        )
    })
}

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "idl"));
    v.sort();
    v
}

#[test]
fn every_invalid_file_fails_where_expected() {
    let cases = cases();
    assert!(
        cases.len() >= 25,
        "expected at least 25 negative cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for path in &cases {
        let want = expectation(path);
        let mut fe = idlc::Frontend::new();
        if let Some(dir) = path.parent() {
            fe.include_dir(dir);
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match fe.parse_file(path) {
            Ok(_) => failures.push(format!("{name}: accepted")),
            Err(d) => {
                let Some(e) = d.first() else {
                    failures.push(format!("{name}: error list is empty"));
                    continue;
                };
                let at = e.location.as_ref().map(|l| (l.line, l.col));
                if at != Some((want.line, want.col)) || !e.message.contains(&want.text) {
                    failures.push(format!(
                        "{name}: expected {}:{}: {}\n  got {:?}: {}",
                        want.line, want.col, want.text, at, e.message
                    ));
                }
                if e.location.as_ref().is_some_and(|l| l.file != *path)
                    && !name.starts_with("missing_include")
                {
                    failures.push(format!(
                        "{name}: error is located in another file: {}",
                        e.short()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "negative suite failures:\n{}",
        failures.join("\n")
    );
}

#[test]
fn errors_render_like_rustc() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid/syntax_missing_semicolon.idl");
    let d = idlc::Frontend::new().parse_file(&path).unwrap_err();
    let text = d.render();
    let expected_tail = "\n  |\n4 |   long b;\n  |   ^";
    assert!(
        text.starts_with("error: expected ';' after member declaration, found 'long'\n --> "),
        "{text}"
    );
    assert!(text.contains("syntax_missing_semicolon.idl:4:3"), "{text}");
    assert!(text.ends_with(expected_tail), "{text}");
}
