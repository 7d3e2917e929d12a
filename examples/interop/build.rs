//! Generates the Rust side of `idl/interop.idl` with idlc, and builds the omniORB side: the
//! same IDL through `omniidl -bcxx -Wba` (stubs, skeletons and the `any` support `echo_any`
//! needs), then `cpp/server.cc` and `cpp/client.cc` as two executables, linked against the
//! system's omniORB 4 (pkg-config `omniDynamic4`, which brings `omniORB4`). The tests get
//! their paths as `env!("INTEROP_CXX_SERVER")` and `env!("INTEROP_CXX_CLIENT")`. Likewise
//! `idl/values.idl` (objects by value, used by rtorb both through DII and DSI and through
//! idlc's generated code) with `cpp/values_server.cc` and `cpp/values_client.cc`, as
//! `env!("VALUES_CXX_SERVER")` and `env!("VALUES_CXX_CLIENT")`. Without
//! omniORB's development package and `omniidl` the build fails: these are interop tests,
//! with nothing to run without the other ORB.

use std::path::{Path, PathBuf};
use std::process::Command;

const IDL: &str = "idl/interop.idl";
const VALUES_IDL: &str = "idl/values.idl";

fn main() {
    idlc::Builder::new()
        .compile(&[IDL, VALUES_IDL])
        .unwrap_or_else(|e| panic!("{e}"));
    build_omniorb_side();
}

fn build_omniorb_side() {
    for path in [
        "cpp/server.cc",
        "cpp/client.cc",
        "cpp/large.h",
        "cpp/values_server.cc",
        "cpp/values_client.cc",
        VALUES_IDL,
        "build.rs",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let cxx_out = out.join("omniorb");
    std::fs::create_dir_all(&cxx_out).expect("create OUT_DIR/omniorb");

    // Only for the compile flags and the link line of our own executables: nothing of
    // omniORB's is linked into the Rust crate.
    let omniorb = match pkg_config::Config::new()
        .atleast_version("4.2")
        .cargo_metadata(false)
        .probe("omniDynamic4")
    {
        Ok(lib) => lib,
        Err(e) => panic!(
            "the interop tests need libomniorb4-dev (scripts/test.sh installs it): \
             pkg-config cannot find omniDynamic4 >= 4.2: {e}"
        ),
    };

    let cpp = || {
        let mut build = cc::Build::new();
        build
            .cpp(true)
            .std("c++11")
            .opt_level(1)
            .warnings(true)
            .include(&cxx_out)
            .cargo_metadata(false);
        for path in &omniorb.include_paths {
            build.include(path);
        }
        for (name, value) in &omniorb.defines {
            build.define(name, value.as_deref());
        }
        build
    };
    for (idl, stem, programs) in [
        (
            IDL,
            "interop",
            [
                ("cpp/server.cc", "interop_server", "INTEROP_CXX_SERVER"),
                ("cpp/client.cc", "interop_client", "INTEROP_CXX_CLIENT"),
            ],
        ),
        (
            VALUES_IDL,
            "values",
            [
                ("cpp/values_server.cc", "values_server", "VALUES_CXX_SERVER"),
                ("cpp/values_client.cc", "values_client", "VALUES_CXX_CLIENT"),
            ],
        ),
    ] {
        let mut cmd = Command::new("omniidl");
        cmd.arg("-bcxx")
            .arg("-Wba")
            .arg("-C")
            .arg(&cxx_out)
            .arg(Path::new(idl));
        run(
            &mut cmd,
            "omniidl (from the omniidl package; scripts/test.sh installs it)",
        );
        // omniidl's skeleton of an abstract interface without operations (values.idl's
        // Thing) leaves its dispatch's parameter unused.
        let stubs = cpp()
            .flag_if_supported("-Wno-unused-parameter")
            .file(cxx_out.join(format!("{stem}SK.cc")))
            .file(cxx_out.join(format!("{stem}DynSK.cc")))
            .compile_intermediates();
        let compiler = cpp().get_compiler();
        for (source, exe, var) in programs {
            let objects = cpp().file(source).compile_intermediates();
            let exe = cxx_out.join(exe);
            let mut link = Command::new(compiler.path());
            link.args(&objects)
                .args(&stubs)
                .arg("-o")
                .arg(&exe)
                .arg("-pthread");
            for dir in &omniorb.link_paths {
                link.arg("-L").arg(dir);
            }
            for lib in &omniorb.libs {
                link.arg(format!("-l{lib}"));
            }
            link.arg("-lstdc++");
            run(&mut link, "linking an omniORB interop executable");
            println!("cargo:rustc-env={var}={}", exe.display());
        }
    }
}

fn run(cmd: &mut Command, what: &str) {
    match cmd.status() {
        Ok(status) if status.success() => {}
        Ok(status) => panic!("{what}: {cmd:?} exited with {status}"),
        Err(e) => panic!("{what}: cannot run {cmd:?}: {e}"),
    }
}
