//! IDL compiler library: preprocess → parse → resolve → generate.
#![forbid(unsafe_code)]
