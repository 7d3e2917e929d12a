//! The two thin faces of the library: the `idlc` binary and `idlc::Builder`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("idlc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

#[test]
fn binary_writes_one_file_per_idl_with_the_chosen_demux() {
    let out = scratch("cli");
    let golden = tests_dir().join("golden");
    let status = Command::new(env!("CARGO_BIN_EXE_idlc"))
        .args(["--demux", "binary", "--out"])
        .arg(&out)
        .arg(golden.join("demux.idl"))
        .arg(golden.join("echo.idl"))
        .status()
        .expect("run idlc");
    assert!(status.success());
    let got = std::fs::read_to_string(out.join("demux.rs")).expect("demux.rs");
    let want = std::fs::read_to_string(golden.join("demux.binary.rs")).expect("golden");
    assert_eq!(got, want);
    assert!(out.join("echo.rs").is_file());
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn binary_reports_idl_errors_and_fails() {
    let out = scratch("cli-err");
    let output = Command::new(env!("CARGO_BIN_EXE_idlc"))
        .arg("--out")
        .arg(&out)
        .arg(tests_dir().join("invalid/undeclared_name.idl"))
        .output()
        .expect("run idlc");
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("undeclared_name.idl:"), "{err}");
    let bad = Command::new(env!("CARGO_BIN_EXE_idlc"))
        .args(["--demux", "quadratic", "--out"])
        .arg(&out)
        .arg(tests_dir().join("golden/demux.idl"))
        .output()
        .expect("run idlc");
    assert!(!bad.status.success());
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn builder_lists_included_files_and_defines_macros() {
    let idl = tests_dir().join("idl");
    let mut b = idlc::Builder::new();
    b.include(&idl).emit_rerun_if_changed(false);
    let (text, files) = b.generate(idl.join("echo.idl")).expect("generate");
    assert!(text.starts_with(idlc::codegen::HEADER));
    assert!(
        files.iter().any(|f| f.ends_with("alltypes.idl")),
        "{files:?}"
    );

    let dir = scratch("builder");
    let src = dir.join("cond.idl");
    std::fs::write(&src, "#ifdef WITH_X\nconst long X = VALUE;\n#endif\n").unwrap();
    let out = dir.join("out");
    let written = idlc::Builder::new()
        .define("WITH_X")
        .define("VALUE=7")
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .compile(&[&src])
        .expect("compile");
    assert_eq!(written, [out.join("cond.rs")]);
    let text = std::fs::read_to_string(&written[0]).unwrap();
    assert!(text.contains("pub const X: i32 = 7;"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A build script's `main() -> Result<(), Box<dyn Error>>` prints its error with `Debug`, as
/// `.unwrap()` does: either way the user sees idlc's diagnostics, not a struct dump.
#[test]
fn builder_errors_print_as_diagnostics_whatever_the_caller_does() {
    let dir = scratch("builder-error");
    let src = dir.join("broken.idl");
    std::fs::write(
        &src,
        "module M {\n  struct S { long x; }\n  interface I { void f(in Nope n); };\n};\n",
    )
    .unwrap();
    let err = idlc::Builder::new()
        .out_dir(dir.join("out"))
        .emit_rerun_if_changed(false)
        .compile(&[&src])
        .unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("broken.idl:"), "{shown}");
    assert!(shown.contains('^'), "no caret: {shown}");
    assert_eq!(format!("{err:?}"), shown);
    let boxed: Box<dyn std::error::Error> = err.into();
    assert_eq!(format!("{boxed:?}"), shown);
    assert!(!shown.contains("Diagnostic {"), "{shown}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn builder_names_the_runtime_crate_it_is_given_and_nothing_else() {
    let dir = scratch("runtime-crate");
    // A module called `orb` and a string holding the runtime's path: neither is the runtime.
    let idl = dir.join("rt.idl");
    std::fs::write(
        &idl,
        "module orb { module codegen { struct S { long x; }; }; };\n\
         const string PATH = \"::orb::codegen::Any\";\n\
         struct T { orb::codegen::S s; any a; };\n\
         interface I { T get(); };\n",
    )
    .expect("write idl");
    let (orb_text, _) = idlc::Builder::new()
        .generate(&idl)
        .expect("generate for orb");
    let (text, _) = idlc::Builder::new()
        .runtime_crate("rtorb")
        .generate(&idl)
        .expect("generate for rtorb");
    let uses = |t: &str, path: &str| t.matches(path).count();
    assert!(uses(&orb_text, "::orb::codegen::") > 10);
    assert_eq!(
        uses(&text, "::rtorb::codegen::"),
        uses(&orb_text, "::orb::codegen::") - 1,
        "every runtime path but the string constant's is renamed"
    );
    assert!(
        text.contains("\"::orb::codegen::Any\""),
        "the string constant is untouched"
    );
    assert!(
        text.contains("pub s: orb::codegen::S,"),
        "the IDL module `orb` is untouched"
    );

    let err = idlc::Builder::new()
        .runtime_crate("my-orb")
        .generate(&idl)
        .expect_err("a crate name with a hyphen");
    assert!(
        err.to_string()
            .contains("\"my-orb\" is not a Rust identifier"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn binary_takes_the_runtime_crate() {
    let out = scratch("cli-runtime");
    let status = Command::new(env!("CARGO_BIN_EXE_idlc"))
        .args(["--runtime-crate", "rtorb", "--out"])
        .arg(&out)
        .arg(tests_dir().join("golden").join("echo.idl"))
        .status()
        .expect("run idlc");
    assert!(status.success());
    let got = std::fs::read_to_string(out.join("echo.rs")).expect("echo.rs");
    assert!(got.contains("::rtorb::codegen::") && !got.contains("::orb::codegen::"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn binary_prints_warnings_and_still_writes_the_file() {
    let out = scratch("cli-warn");
    let idl = out.join("lifecycle.idl");
    std::fs::write(
        &idl,
        "module CosLifeCycle {\n  typedef Object Factory;\n};\n",
    )
    .expect("write idl");
    let output = Command::new(env!("CARGO_BIN_EXE_idlc"))
        .arg("--out")
        .arg(&out)
        .arg(&idl)
        .output()
        .expect("run idlc");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.starts_with("warning: identifier 'Factory' differs only in case"),
        "{stderr}"
    );
    assert!(stderr.contains("lifecycle.idl:2:18"), "{stderr}");
    assert!(out.join("lifecycle.rs").is_file());
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn binary_rejects_an_extern_path_that_is_not_absolute() {
    let out = scratch("cli-extern");
    let golden = tests_dir().join("golden");
    for (arg, want) in [
        ("echo.idl=echo_types", "is not an absolute path"),
        ("echo.idl", "expected FILE.idl=RUST_PATH"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_idlc"))
            .args(["--extern", arg, "--out"])
            .arg(&out)
            .arg(golden.join("echo.idl"))
            .output()
            .expect("run idlc");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{arg}");
        assert!(stderr.contains(want), "{arg}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&out);
}
