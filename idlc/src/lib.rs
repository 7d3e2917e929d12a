//! idlc, the IDL compiler of rtorb: preprocess → parse → resolve → generate.
//!
//! Three faces of one library: [`Builder`] (and [`compile`]) for build scripts, the `idlc`
//! binary, and the pieces themselves. The back end, [`codegen`], turns a resolved model into
//! Rust (see `MAPPING.md`).
//!
//! The front end: [`Frontend`] runs the whole pipeline on a
//! file and returns either a resolved [`model::Model`] (what a code generator reads) or
//! [`Diagnostics`] with every error found, each with its file, line and column (what it accepts
//! but warns about — a name that predates a keyword, a repeated exception — is in
//! [`model::Model::warnings`]; [`Builder`] prints those). It never panics
//! on any input. A build script gets the list of every file read, `#include`s included, for
//! `cargo:rerun-if-changed`.
//!
//! ```no_run
//! let out = idlc::Frontend::new()
//!     .include_dir("/usr/share/idl/omniORB")
//!     .define("DEBUG=1")
//!     .compile_file("echo.idl");
//! for f in &out.files {
//!     println!("cargo:rerun-if-changed={}", f.display());
//! }
//! let model = out.result.expect("valid IDL");
//! # let _ = model;
//! ```
#![forbid(unsafe_code)]

pub mod ast;
pub mod builder;
pub mod ccm;
pub mod codegen;
pub mod consteval;
pub mod diagnostics;
pub mod lexer;
pub mod model;
pub mod parser;
pub mod preprocess;
pub mod resolve;
pub mod source;

use std::path::{Path, PathBuf};

pub use builder::{compile, Builder, Error};
pub use codegen::{Demux, GenError, Options};
pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use model::Model;

use source::SourceMap;

/// The front end's settings: include directories and predefined macros.
#[derive(Debug, Clone, Default)]
pub struct Frontend {
    options: preprocess::Options,
}

/// What one compilation produced: the model or the errors, and every file read either way.
#[derive(Debug, Clone)]
pub struct Output {
    pub result: Result<Model, Diagnostics>,
    /// The main file and every file it `#include`d, in first-read order.
    pub files: Vec<PathBuf>,
}

impl Frontend {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a `-I` directory, searched in the order added.
    pub fn include_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.options.include_dirs.push(dir.into());
        self
    }

    /// Defines a macro, `-D` style: `"NAME"` (value 1) or `"NAME=VALUE"`.
    pub fn define(&mut self, def: &str) -> &mut Self {
        let (name, value) = match def.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (def.to_owned(), None),
        };
        self.options.defines.push((name, value));
        self
    }

    /// Compiles `path` and returns the model, or every error found.
    pub fn parse_file(&self, path: impl AsRef<Path>) -> Result<Model, Diagnostics> {
        self.compile_file(path).result
    }

    /// Compiles IDL held in memory; `name` is used in messages and to resolve quoted includes.
    pub fn parse_str(&self, name: impl Into<PathBuf>, text: &str) -> Result<Model, Diagnostics> {
        let mut sm = SourceMap::new();
        let main = sm.add(name.into(), text.to_owned());
        self.run(&mut sm, main).result
    }

    /// Compiles `path`, returning the result together with the list of files read.
    pub fn compile_file(&self, path: impl AsRef<Path>) -> Output {
        let path = path.as_ref();
        let mut sm = SourceMap::new();
        let text = match preprocess::read_source(path) {
            Ok(t) => t,
            Err(e) => {
                return Output {
                    result: Err(
                        Diagnostic::new(format!("cannot read {}: {e}", path.display())).into(),
                    ),
                    files: vec![path.to_path_buf()],
                }
            }
        };
        let main = sm.add(path.to_path_buf(), text);
        self.run(&mut sm, main)
    }

    fn run(&self, sm: &mut SourceMap, main: source::FileId) -> Output {
        let result = preprocess::preprocess(sm, main, &self.options)
            .map_err(Diagnostics::from)
            .and_then(|tokens| {
                parser::parse(&tokens)
                    .map_err(|e| Diagnostics::from(Diagnostic::at(sm, e.span, e.render())))
            })
            .and_then(|spec| ccm::with_components_module(spec, sm))
            .and_then(|spec| resolve::resolve(&spec, sm).map_err(Diagnostics::from));
        // The built-in Components.idl is no file to rerun on.
        let builtin = Path::new(ccm::COMPONENTS_IDL_PATH);
        Output {
            result,
            files: sm.paths().into_iter().filter(|p| p != builtin).collect(),
        }
    }
}
