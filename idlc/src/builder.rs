//! The build-script face of idlc, after prost-build: a [`Builder`] whose setters return
//! `&mut Self`, and [`compile`] for the common case.
//!
//! ```no_run
//! // build.rs
//! idlc::Builder::new()
//!     .include("idl")
//!     .define("X")
//!     .demux(idlc::Demux::Perfect)
//!     .compile(&["idl/echo.idl"])
//!     .unwrap();
//! // lib.rs: include!(concat!(env!("OUT_DIR"), "/echo.rs"));
//! ```
//!
//! Each IDL file becomes one `.rs` file named after it (`echo.idl` → `echo.rs`) holding every
//! definition the file's translation unit contains, `#include`d files' too, each in the
//! module its IDL module maps to. A file is therefore complete on its own and compiles
//! wherever it is included; two files that include the same IDL each carry their own copy of
//! its types, so include each into its own module.

use crate::codegen::{self, Demux, GenError, Options};
use crate::{Diagnostic, Diagnostics, Frontend};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// What can go wrong compiling IDL to Rust.
///
/// `Debug` prints the same as `Display` — idlc's rendered diagnostics (file:line:col, the
/// line, a caret) — because a build script's `main() -> Result<(), Box<dyn Error>>` and its
/// `.unwrap()` print an error with `Debug`, and a struct dump of the diagnostics is no help
/// there.
#[derive(thiserror::Error)]
pub enum Error {
    /// The IDL has errors (each with file, line and column).
    #[error("{}", .0.render())]
    Idl(Diagnostics),
    #[error("{}: {source}", file.display())]
    Generate { file: PathBuf, source: GenError },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no output directory: OUT_DIR is not set (not in a build script?) and out_dir() was not called")]
    NoOutDir,
    #[error("two IDL files would both be written to {}", .0.display())]
    DuplicateOutput(PathBuf),
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Settings for compiling IDL files to Rust.
#[derive(Debug, Clone)]
pub struct Builder {
    frontend: Frontend,
    options: Options,
    out_dir: Option<PathBuf>,
    rerun_if_changed: bool,
    /// See [`Builder::shared_units`].
    shared_units: Option<String>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// Defaults: no include directories or macros, perfect-hash demux, output to `OUT_DIR`,
    /// `cargo:rerun-if-changed` printed for every file read.
    pub fn new() -> Builder {
        Builder {
            frontend: Frontend::new(),
            options: Options::default(),
            out_dir: None,
            rerun_if_changed: true,
            shared_units: None,
        }
    }

    /// Adds an `#include` search directory (`-I`), searched in the order added.
    pub fn include(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.frontend.include_dir(dir);
        self
    }

    /// Defines a preprocessor macro (`-D`): `"NAME"` or `"NAME=VALUE"`.
    pub fn define(&mut self, def: &str) -> &mut Self {
        self.frontend.define(def);
        self
    }

    /// How skeletons look operations up.
    pub fn demux(&mut self, demux: Demux) -> &mut Self {
        self.options.demux = demux;
        self
    }

    /// The crate generated code names the runtime through (default `orb`): `rtorb` for a
    /// crate that depends on the `rtorb` facade only (`rtorb::build::Builder` sets it).
    pub fn runtime_crate(&mut self, name: &str) -> &mut Self {
        self.options.runtime_crate = Some(name.to_owned());
        self
    }

    /// The definitions of IDL file `idl_file` are generated elsewhere, in the module at the
    /// absolute Rust path `rust_path` (`crate::comm`, or `::event_service::generated` for
    /// another crate's): a file that includes it refers to them there instead of generating
    /// its own copies, so that both sides use the same Rust types. `idl_file` matches every
    /// included file whose path ends with it (`"CosEventComm.idl"`, `"COS/CosNaming.idl"`).
    /// The other side must have been generated from the same IDL.
    pub fn extern_path(&mut self, idl_file: impl Into<PathBuf>, rust_path: &str) -> &mut Self {
        self.options
            .extern_files
            .push((idl_file.into(), rust_path.to_owned()));
        self
    }

    /// Generates each definition once, in the output of the file that makes it: the files
    /// compiled together refer to each other's definitions instead of repeating what they
    /// include. Their outputs must then be included as sibling modules, each named after its
    /// file (`CosEventComm.idl` → `cos_event_comm`), in the module at the absolute Rust path
    /// `rust_path`; [`Builder::compile`] writes `units.rs` beside them, which does exactly
    /// that:
    ///
    /// ```ignore
    /// // build.rs: Builder::new().shared_units("crate::idl").compile(&["a.idl", "b.idl"])
    /// pub mod idl {
    ///     include!(concat!(env!("OUT_DIR"), "/units.rs"));
    /// }
    /// // a definition of b.idl's module M: crate::idl::b::m::T
    /// ```
    pub fn shared_units(&mut self, rust_path: &str) -> &mut Self {
        self.shared_units = Some(rust_path.to_owned());
        self
    }

    /// Where to write the `.rs` files (default: `$OUT_DIR`).
    pub fn out_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Whether to print `cargo:rerun-if-changed` lines (on by default; off outside cargo).
    pub fn emit_rerun_if_changed(&mut self, on: bool) -> &mut Self {
        self.rerun_if_changed = on;
        self
    }

    /// Generates the Rust source of one IDL file without writing it; returns the source and
    /// every file read (the IDL file and everything it `#include`s).
    pub fn generate(&self, file: impl AsRef<Path>) -> Result<(String, Vec<PathBuf>), Error> {
        let out = self.frontend.compile_file(file.as_ref());
        let model = out.result.map_err(Error::Idl)?;
        self.report_warnings(&model.warnings);
        let text = codegen::generate(&model, &self.options).map_err(|source| Error::Generate {
            file: file.as_ref().to_path_buf(),
            source,
        })?;
        Ok((text, out.files))
    }

    /// Compiles each IDL file to `<out_dir>/<file stem>.rs`; returns the files written.
    pub fn compile(&self, files: &[impl AsRef<Path>]) -> Result<Vec<PathBuf>, Error> {
        let dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::NoOutDir)?,
        };
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        let files: Vec<&Path> = files.iter().map(AsRef::as_ref).collect();
        let mut targets: Vec<PathBuf> = Vec::with_capacity(files.len());
        let index = self.shared_units.as_ref().map(|_| dir.join(UNITS_INDEX));
        for &file in &files {
            let stem = file.file_stem().unwrap_or(file.as_os_str());
            let target = dir.join(stem).with_extension("rs");
            if targets.contains(&target) || index.as_ref() == Some(&target) {
                return Err(Error::DuplicateOutput(target));
            }
            targets.push(target);
        }
        let mut options = self.options.clone();
        if let Some(root) = &self.shared_units {
            for &file in &files {
                let path = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
                options
                    .extern_files
                    .push((path, format!("{root}::{}", unit_module(file))));
            }
        }
        // Translation units are independent: compiled on every core, sharing what they
        // generate (the items of files several of them include). Two per core, as a unit
        // waits whenever it needs an item another unit is generating: the other keeps the
        // core busy (the COS run: 0.7 s of wall time instead of 1.0 s on 2 cores).
        let cache = codegen::RenderCache::default();
        let results: Vec<OnceLock<Unit>> = files.iter().map(|_| OnceLock::new()).collect();
        let next = AtomicUsize::new(0);
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get() * 2)
            .min(files.len());
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let (Some(file), Some(slot)) = (files.get(i), results.get(i)) else {
                        break;
                    };
                    let _ = slot.set(self.unit(file, &options, &cache));
                });
            }
        });
        let mut written = Vec::new();
        for ((file, target), unit) in files.iter().zip(targets).zip(results) {
            let Some((read, warnings, text)) = unit.into_inner() else {
                return Err(Error::Generate {
                    file: file.to_path_buf(),
                    source: GenError::new("internal error: a compiling thread panicked"),
                });
            };
            if self.rerun_if_changed {
                // Every file read, includes too, even when compilation failed: fixing any of
                // them must rerun the build script.
                for f in &read {
                    println!("cargo:rerun-if-changed={}", f.display());
                }
            }
            self.report_warnings(&warnings);
            write_if_changed(&target, &text?)?;
            written.push(target);
        }
        if let Some(index) = index {
            let mut text =
                String::from("// @generated by idlc: the units of Builder::shared_units.\n");
            for (file, target) in files.iter().zip(&written) {
                text.push_str(&format!(
                    "#[doc = {:?}]\npub mod {} {{\n    include!({:?});\n}}\n",
                    format!(" Generated from `{}`.", file.display()),
                    unit_module(file),
                    // Relative to units.rs, which sits beside them.
                    target
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                ));
            }
            write_if_changed(&index, &text)?;
        }
        Ok(written)
    }
}

/// What compiling one IDL file gives: the files read, the warnings, and the Rust source or
/// the error.
type Unit = (Vec<PathBuf>, Vec<Diagnostic>, Result<String, Error>);

impl Builder {
    fn unit(&self, file: &Path, options: &Options, cache: &codegen::RenderCache) -> Unit {
        let out = self.frontend.compile_file(file);
        let mut warnings = Vec::new();
        let text = out.result.map_err(Error::Idl).and_then(|model| {
            warnings = model.warnings.clone();
            codegen::generate_cached(&model, options, cache).map_err(|source| Error::Generate {
                file: file.to_path_buf(),
                source,
            })
        });
        (out.files, warnings, text)
    }

    /// Under cargo (the build-script mode, see [`Builder::emit_rerun_if_changed`]) a warning
    /// is a `cargo:warning` line, which cargo shows; elsewhere it goes to stderr, rustc style.
    fn report_warnings(&self, warnings: &[Diagnostic]) {
        for w in warnings {
            if self.rerun_if_changed {
                println!("cargo:warning={}", w.short());
            } else {
                eprintln!("{}", w.render());
            }
        }
    }
}

/// The index [`Builder::shared_units`] writes.
const UNITS_INDEX: &str = "units.rs";

/// The module a file's output is included as under [`Builder::shared_units`].
fn unit_module(file: &Path) -> String {
    let stem = file.file_stem().unwrap_or(file.as_os_str());
    codegen::names::snake(&stem.to_string_lossy())
}

/// Leaves an unchanged file alone, so that its timestamp does not trigger rebuilds.
fn write_if_changed(path: &Path, text: &str) -> Result<(), Error> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Compiles `files` with `includes` as `#include` directories into `$OUT_DIR`, with the
/// default settings: what most build scripts need.
pub fn compile(
    files: &[impl AsRef<Path>],
    includes: &[impl AsRef<Path>],
) -> Result<Vec<PathBuf>, Error> {
    let mut b = Builder::new();
    for i in includes {
        b.include(i.as_ref());
    }
    b.compile(files)
}
