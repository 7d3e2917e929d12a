//! The omniORB side of rtorb's interop tests and comparison benches, built from their build
//! scripts: find omniORB 4 with pkg-config, run `omniidl -bcxx`, compile C++ with the flags
//! omniORB's headers need, and link executables against omniORB.
//!
//! Everything here panics with what failed and what to install: a build script has no other
//! way to report, and these crates have nothing to run without the other ORB.

use std::path::{Path, PathBuf};
use std::process::Command;

/// omniORB 4 as pkg-config describes `omniDynamic4` (which brings `omniORB4` and
/// `omnithread`): where value types and `any` support live, so every user needs the same one.
pub struct OmniOrb {
    lib: pkg_config::Library,
    link_into_crate: bool,
}

impl OmniOrb {
    /// Finds omniORB >= 4.2. `needed_by` completes the panic message ("the interop tests
    /// need libomniorb4-dev ..."). `link_into_crate`: whether the Rust crate itself links
    /// C++ built here (static libraries made with [`cc::Build::compile`]) and so needs
    /// omniORB's libraries on its own link line; `false` when only executables are built.
    pub fn probe(needed_by: &str, link_into_crate: bool) -> OmniOrb {
        let lib = pkg_config::Config::new()
            .atleast_version("4.2")
            .cargo_metadata(link_into_crate)
            .probe("omniDynamic4")
            .unwrap_or_else(|e| {
                panic!(
                    "{needed_by} need libomniorb4-dev (scripts/test.sh installs it): \
                     pkg-config cannot find omniDynamic4 >= 4.2: {e}"
                )
            });
        OmniOrb {
            lib,
            link_into_crate,
        }
    }

    /// A C++11 compile with omniORB's include paths and defines, `include` (where omniidl
    /// wrote its headers) and warnings on; the caller adds sources, optimisation, flags.
    pub fn cpp(&self, include: &Path) -> cc::Build {
        let mut build = cc::Build::new();
        build
            .cpp(true)
            .std("c++11")
            .warnings(true)
            .include(include)
            .cargo_metadata(self.link_into_crate);
        for path in &self.lib.include_paths {
            build.include(path);
        }
        for (name, value) in &self.lib.defines {
            build.define(name, value.as_deref());
        }
        if self.link_into_crate {
            // Static libraries made with `compile` need the C++ standard library too.
            build.cpp_link_stdlib(Some("stdc++"));
        }
        build
    }

    /// Links `objects` into the executable `exe` with `build`'s compiler, against omniORB.
    pub fn link_executable(&self, build: &cc::Build, objects: &[PathBuf], exe: &Path) {
        let compiler = build.get_compiler();
        let mut link = Command::new(compiler.path());
        link.args(objects).arg("-o").arg(exe).arg("-pthread");
        for dir in &self.lib.link_paths {
            link.arg("-L").arg(dir);
        }
        for lib in &self.lib.libs {
            link.arg(format!("-l{lib}"));
        }
        link.arg("-lstdc++");
        run(&mut link, &format!("linking {}", exe.display()));
    }
}

/// `omniidl -bcxx` over `idl` with the back end's `extra` arguments (`-Wba` for `any`
/// support), writing `<stem>.hh` and `<stem>SK.cc` (and `<stem>DynSK.cc` with `-Wba`)
/// into `out`.
pub fn omniidl(idl: &Path, out: &Path, extra: &[&str]) {
    let mut cmd = Command::new("omniidl");
    cmd.arg("-bcxx").args(extra).arg("-C").arg(out).arg(idl);
    run(
        &mut cmd,
        "omniidl (from the omniidl package; scripts/test.sh installs it)",
    );
}

/// `$OUT_DIR`, which cargo sets for build scripts.
pub fn out_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR for build scripts"))
}

/// Runs `cmd`, panicking with `what` if it cannot start or fails.
pub fn run(cmd: &mut Command, what: &str) {
    match cmd.status() {
        Ok(status) if status.success() => {}
        Ok(status) => panic!("{what}: {cmd:?} exited with {status}"),
        Err(e) => panic!("{what}: cannot run {cmd:?}: {e}"),
    }
}
