//! Golden files: the Rust generated for each `tests/golden/*.idl` must equal the checked-in
//! `.rs` beside it (`demux.idl` once per strategy, as `demux.<strategy>.rs`). Run with
//! `UPDATE_GOLDEN=1` to rewrite them after an intended change, and review the diff.

use idlc::{Demux, Frontend, Options};
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn check(idl: &Path, demux: Demux, expected: &Path, failures: &mut Vec<String>) {
    let model = Frontend::new()
        .parse_file(idl)
        .unwrap_or_else(|d| panic!("{}: {}", idl.display(), d.render()));
    let text = idlc::codegen::generate(&model, &Options { demux })
        .unwrap_or_else(|e| panic!("{}: {e}", idl.display()));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(expected, &text).expect("write golden file");
        return;
    }
    match std::fs::read_to_string(expected) {
        Ok(want) if want == text => {}
        Ok(want) => {
            let line = want
                .lines()
                .zip(text.lines())
                .position(|(a, b)| a != b)
                .map_or(want.lines().count().min(text.lines().count()), |i| i)
                + 1;
            failures.push(format!(
                "{} differs from what {} generates (first at line {line}); rerun with UPDATE_GOLDEN=1 if intended",
                expected.display(),
                idl.display()
            ));
        }
        Err(e) => failures.push(format!(
            "{}: {e} (create it with UPDATE_GOLDEN=1)",
            expected.display()
        )),
    }
}

#[test]
fn generated_code_matches_the_golden_files() {
    let dir = golden_dir();
    let mut idls: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/golden")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "idl"))
        .collect();
    idls.sort();
    assert!(idls.len() >= 4);
    let mut failures = Vec::new();
    for idl in &idls {
        if idl.file_stem().is_some_and(|s| s == "demux") {
            for d in Demux::ALL {
                check(
                    idl,
                    d,
                    &idl.with_extension(format!("{}.rs", d.name())),
                    &mut failures,
                );
            }
        } else {
            check(
                idl,
                Demux::Perfect,
                &idl.with_extension("rs"),
                &mut failures,
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_golden_file_has_its_idl() {
    for e in std::fs::read_dir(golden_dir())
        .expect("tests/golden")
        .flatten()
    {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "rs") {
            let stem = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let base = stem.split('.').next().unwrap_or_default();
            assert!(
                golden_dir().join(format!("{base}.idl")).is_file(),
                "stray {}",
                p.display()
            );
        }
    }
}

/// A run shares rendered items between its translation units (`RenderCache`): every file
/// must come out exactly as when generated alone, whatever order the units take.
#[test]
fn a_shared_render_cache_changes_no_output() {
    let idl = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/idl");
    let files = [
        idl.join("echo.idl"),
        idl.join("alltypes.idl"),
        idl.join("remote.idl"),
    ];
    let models: Vec<_> = files
        .iter()
        .map(|f| Frontend::new().parse_file(f).expect("parses"))
        .collect();
    let options = Options::default();
    let alone: Vec<String> = models
        .iter()
        .map(|m| idlc::codegen::generate(m, &options).expect("generates"))
        .collect();
    let cache = idlc::codegen::RenderCache::default();
    for i in [1, 0, 2, 0, 1] {
        let shared = idlc::codegen::generate_cached(&models[i], &options, &cache).unwrap();
        assert!(shared == alone[i], "{} differs", files[i].display());
    }
}
