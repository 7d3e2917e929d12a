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
    let text = idlc::codegen::generate(
        &model,
        &Options {
            demux,
            ..Options::default()
        },
    )
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

/// Units of one run reuse the text another unit generated for the same included definition
/// (keyed on everything its generation reads): where what it reads differs between units —
/// the module it is included in, the names it gets beside the including file's own
/// definitions, the macros defined before the include — the text must still be each unit's
/// own.
#[test]
fn a_shared_cache_reuses_an_included_definition_only_where_its_output_is_the_same() {
    let dir = std::env::temp_dir().join(format!("idlc-shared-cache-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let common = r#"
        module C {
            struct S { long a; };
        #ifdef WIDE
            typedef sequence<S> Ss;
        #endif
            exception Oops { string why; };
            interface I { S get() raises (Oops); attribute long n; };
            interface J : I { void put(in S value); };
            const long K = 3;
        };
    "#;
    let units = [
        (
            "plain.idl",
            "#include \"common.idl\"\nmodule X { interface L : C::J {}; };\n",
        ),
        ("again.idl", "#include \"common.idl\"\n"),
        // `S_` takes the Rust name `S` first: the included `S` becomes `S_`, and so do the
        // paths to it.
        (
            "clash.idl",
            "module C { struct S_ { short b; }; };\n#include \"common.idl\"\n",
        ),
        // Included one module down: the same paths, indented one level more.
        (
            "nested.idl",
            "module Outer {\n#include \"common.idl\"\n};\n",
        ),
        ("wide.idl", "#define WIDE\n#include \"common.idl\"\n"),
    ];
    std::fs::write(dir.join("common.idl"), common).expect("write");
    let models: Vec<_> = units
        .iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text).expect("write");
            Frontend::new()
                .parse_file(&path)
                .unwrap_or_else(|d| panic!("{name}: {}", d.render()))
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    let options = Options::default();
    let alone: Vec<String> = models
        .iter()
        .map(|m| idlc::codegen::generate(m, &options).expect("generates"))
        .collect();
    // The contexts do change the included definitions' text, so sharing one text would show.
    assert!(alone[2].contains("pub struct S_ ") && !alone[1].contains("pub struct S_ "));
    assert!(
        alone[3].contains("\n        pub struct S ") && alone[1].contains("\n    pub struct S ")
    );
    assert!(alone[4].contains("Ss") && !alone[1].contains("Ss"));
    for order in [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 3, 1, 4]] {
        let cache = idlc::codegen::RenderCache::default();
        for i in order.into_iter().chain(order) {
            let shared = idlc::codegen::generate_cached(&models[i], &options, &cache).unwrap();
            assert!(shared == alone[i], "{} differs", units[i].0);
        }
    }
    // Units on several threads at once, as `Builder::compile` runs them: one waits for an
    // item another is generating.
    let cache = idlc::codegen::RenderCache::default();
    std::thread::scope(|s| {
        for order in [[0, 1, 2, 3, 4], [1, 0, 4, 3, 2], [4, 2, 0, 1, 3]] {
            let (cache, models, alone, options) = (&cache, &models, &alone, &options);
            s.spawn(move || {
                for i in order {
                    let shared = idlc::codegen::generate_cached(&models[i], options, cache);
                    assert!(shared.unwrap() == alone[i], "{} differs", units[i].0);
                }
            });
        }
    });
}
