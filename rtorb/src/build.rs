//! The IDL compiler for build scripts (feature `build`): [`Builder`] is idlc's
//! [`idlc::Builder`] with one default changed — the code it generates names the runtime as
//! `::rtorb`, so that a crate depending on `rtorb` alone compiles it.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), rtorb::build::Error> {
//!     rtorb::build::Builder::new().include("idl").compile(&["idl/echo.idl"])?;
//!     Ok(())
//! }
//! ```
//!
//! An error prints as idlc prints it (file:line:col, the line, a caret), under `?` too.
//! Every setter of [`idlc::Builder`] is there ([`Builder`] dereferences to it); a crate that
//! renames its `rtorb` dependency says so with `.runtime_crate("its_name")`.

use std::ops::{Deref, DerefMut};

pub use idlc::{Demux, Diagnostic, Diagnostics, Error};

/// Settings for compiling IDL to Rust that uses `rtorb`: see [`idlc::Builder`] for the
/// setters and `compile`.
#[derive(Debug, Clone)]
pub struct Builder(idlc::Builder);

impl Builder {
    /// idlc's defaults (output to `$OUT_DIR`, perfect-hash demux, `cargo:rerun-if-changed`
    /// for every file read), generated code naming `::rtorb`.
    pub fn new() -> Builder {
        let mut b = idlc::Builder::new();
        b.runtime_crate("rtorb");
        Builder(b)
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Deref for Builder {
    type Target = idlc::Builder;
    fn deref(&self) -> &idlc::Builder {
        &self.0
    }
}

impl DerefMut for Builder {
    fn deref_mut(&mut self) -> &mut idlc::Builder {
        &mut self.0
    }
}
