//! The dynamic interfaces: calling an operation no stub was generated for (DII, [`Request`])
//! and implementing an object without a generated skeleton (DSI, [`DynamicImplementation`]),
//! both with arguments as [`Any`](crate::typecode::Any)s described by TypeCodes the caller
//! supplies (CORBA 3.0 §7 and §8, in a Rust shape: results and exceptions are return values,
//! not an `Environment`).
//!
//! Both sit on what generated code uses: a [`Request`] is an [`ObjectRef::invoke`] whose
//! arguments and results are read and written by TypeCode, a [`DynamicImplementation`] is a
//! [`Servant`](crate::Servant) whose `dispatch` hands the request over as a [`ServerRequest`].
//!
//! [`ObjectRef::invoke`]: crate::ObjectRef::invoke

mod dii;
mod dsi;

pub use dii::{DeferredRequest, Request, RequestError, Response};
pub use dsi::{dynamic_servant, DynamicImplementation, DynamicServant, ServerRequest};

/// How a parameter travels (`CORBA::ParameterMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamMode {
    /// Caller to object.
    In,
    /// Object to caller.
    Out,
    /// Both ways.
    InOut,
}

impl ParamMode {
    /// Whether the caller sends a value for it.
    pub fn sent(self) -> bool {
        matches!(self, ParamMode::In | ParamMode::InOut)
    }

    /// Whether the object sends a value back for it.
    pub fn returned(self) -> bool {
        matches!(self, ParamMode::Out | ParamMode::InOut)
    }
}
