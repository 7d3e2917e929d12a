//! DII: a request built at run time from an operation name, arguments as [`Any`]s and the
//! TypeCodes of the result and of the user exceptions the operation may raise.

use super::ParamMode;
use crate::codegen::reply_decode;
use crate::exception::SystemException;
use crate::object::{ObjectRef, ReplyOutcome};
use crate::typecode::{describe, Any, TCKind, TypeCode};
use std::sync::mpsc;

/// A request to `operation` on `target` (`CORBA::Request`), with its parameters in order.
///
/// ```no_run
/// # fn demo(target: &orb::ObjectRef) -> Result<(), orb::dynamic::RequestError> {
/// use orb::dynamic::Request;
/// use orb::typecode::{Any, TypeCode};
/// let mut req = Request::new(target, "add");
/// req.add_in_arg(Any::from(2i32)).add_in_arg(Any::from(40i32)).set_return_type(TypeCode::Long);
/// let sum: i32 = req.invoke()?.result.get()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Request {
    target: ObjectRef,
    operation: String,
    params: Vec<Param>,
    result_type: TypeCode,
    exceptions: Vec<TypeCode>,
}

#[derive(Clone, Debug)]
struct Param {
    mode: ParamMode,
    /// The value sent: `None` for an `out` parameter, which has only a type.
    value: Option<Any>,
    type_code: TypeCode,
}

/// What a twoway request returned.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// The return value (`tk_void` for a `void` operation).
    pub result: Any,
    /// The values of the `out` and `inout` parameters, in parameter order. A value one of
    /// them shares with the result or an earlier one is a copy in its own `any`
    /// ([`Any::read_values`]).
    pub outs: Vec<Any>,
}

/// Why a request did not return normally.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RequestError {
    #[error("{0}")]
    System(#[from] SystemException),
    /// The operation raised a user exception the request declares ([`Request::add_exception`]):
    /// its members, under its TypeCode.
    #[error("user exception {id}")]
    User { id: String, exception: Any },
    /// The operation raised a user exception the request did not declare, so its members
    /// could not be read.
    #[error("user exception {id}, which the request does not declare: add its TypeCode with Request::add_exception to read it")]
    UndeclaredUser { id: String },
    /// The request itself is malformed (said how); nothing was sent.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Any(#[from] crate::typecode::AnyError),
}

impl Request {
    /// A request for `operation` on `target`, with no parameters, a `void` result and no
    /// user exceptions.
    pub fn new(target: &ObjectRef, operation: impl Into<String>) -> Request {
        Request {
            target: target.clone(),
            operation: operation.into(),
            params: Vec::new(),
            result_type: TypeCode::Void,
            exceptions: Vec::new(),
        }
    }

    pub fn target(&self) -> &ObjectRef {
        &self.target
    }

    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// Adds an `in` parameter; its type is the `any`'s TypeCode.
    pub fn add_in_arg(&mut self, value: Any) -> &mut Request {
        self.add(ParamMode::In, value)
    }

    /// Adds an `inout` parameter; its type is the `any`'s TypeCode.
    pub fn add_inout_arg(&mut self, value: Any) -> &mut Request {
        self.add(ParamMode::InOut, value)
    }

    /// Adds an `out` parameter of type `type_code`.
    pub fn add_out_arg(&mut self, type_code: TypeCode) -> &mut Request {
        self.params.push(Param {
            mode: ParamMode::Out,
            value: None,
            type_code,
        });
        self
    }

    fn add(&mut self, mode: ParamMode, value: Any) -> &mut Request {
        self.params.push(Param {
            mode,
            type_code: value.type_code().clone(),
            value: Some(value),
        });
        self
    }

    /// The type of the return value (`tk_void` unless set).
    pub fn set_return_type(&mut self, type_code: TypeCode) -> &mut Request {
        self.result_type = type_code;
        self
    }

    /// Declares a user exception the operation may raise (a `tk_except` TypeCode), so that a
    /// reply raising it is read into [`RequestError::User`].
    pub fn add_exception(&mut self, type_code: TypeCode) -> &mut Request {
        self.exceptions.push(type_code);
        self
    }

    /// Sends the request and waits for the reply (`invoke`).
    pub fn invoke(&self) -> Result<Response, RequestError> {
        self.check()?;
        let reply = self
            .target
            .invoke(&self.operation, &|enc| self.write_args(enc))?;
        match reply.outcome()? {
            ReplyOutcome::Normal(mut dec) => {
                // One stream: an out value may be an indirection into the result.
                let types: Vec<TypeCode> = std::iter::once(self.result_type.clone())
                    .chain(
                        self.params
                            .iter()
                            .filter(|p| p.mode.returned())
                            .map(|p| p.type_code.clone()),
                    )
                    .collect();
                let mut values = reply_decode(Any::read_values(&types, &mut dec))?.into_iter();
                let result = values.next().unwrap_or_default();
                Ok(Response {
                    result,
                    outs: values.collect(),
                })
            }
            ReplyOutcome::UserException { id, mut body } => {
                let Some(tc) = self.exceptions.iter().find(|t| t.id() == Some(&*id)) else {
                    return Err(RequestError::UndeclaredUser {
                        id: id.into_owned(),
                    });
                };
                reply_decode(body.read_string())?;
                let exception = reply_decode(Any::read_value(tc.clone(), &mut body))?;
                Err(RequestError::User {
                    id: id.into_owned(),
                    exception,
                })
            }
        }
    }

    /// Sends the request as a oneway (`send_oneway`): no reply, so no result, `out` values or
    /// exceptions from the object.
    pub fn send_oneway(&self) -> Result<(), RequestError> {
        self.check()?;
        if self.params.iter().any(|p| p.mode.returned()) || self.result_type.kind() != TCKind::Void
        {
            return Err(RequestError::Invalid(format!(
                "oneway request {:?} has a result or out/inout parameters, which a oneway cannot return: \
                 send it with invoke, or drop them",
                self.operation
            )));
        }
        Ok(self
            .target
            .invoke_oneway(&self.operation, &|enc| self.write_args(enc))?)
    }

    /// Sends the request and returns at once (`send_deferred`); the reply is waited for on a
    /// thread of its own and collected with [`DeferredRequest::get_response`] or
    /// [`DeferredRequest::poll_response`].
    pub fn send_deferred(self) -> DeferredRequest {
        let (tx, rx) = mpsc::sync_channel(1);
        let operation = self.operation.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("dii {}", self.operation))
            .spawn(move || {
                let _ = tx.send(self.invoke());
            });
        let state = match spawned {
            Ok(_) => Deferred::Waiting(rx),
            Err(e) => Deferred::Done(Err(RequestError::Invalid(format!(
                "cannot start a thread for the deferred request: {e}"
            )))),
        };
        DeferredRequest { operation, state }
    }

    /// Refuses before sending what cannot be sent: exceptions that are not `tk_except`.
    fn check(&self) -> Result<(), RequestError> {
        if let Some(tc) = self
            .exceptions
            .iter()
            .find(|t| t.unalias().kind() != TCKind::Except)
        {
            return Err(RequestError::Invalid(format!(
                "request {:?} declares {} as an exception; add_exception takes a tk_except TypeCode",
                self.operation,
                describe(tc)
            )));
        }
        Ok(())
    }

    fn write_args(&self, enc: &mut crate::cdr::Encoder) -> Result<(), crate::cdr::EncodeError> {
        self.params
            .iter()
            .filter_map(|p| p.value.as_ref())
            .try_for_each(|v| v.write_value(enc))
    }
}

/// A request sent with [`Request::send_deferred`], whose reply is still to be collected.
#[derive(Debug)]
pub struct DeferredRequest {
    operation: String,
    state: Deferred,
}

#[derive(Debug)]
enum Deferred {
    Waiting(mpsc::Receiver<Result<Response, RequestError>>),
    Done(Result<Response, RequestError>),
}

impl DeferredRequest {
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// Whether the reply has come (`poll_response`); never blocks.
    pub fn poll_response(&mut self) -> bool {
        match &self.state {
            Deferred::Done(_) => true,
            Deferred::Waiting(rx) => match rx.try_recv() {
                Ok(r) => {
                    self.state = Deferred::Done(r);
                    true
                }
                Err(mpsc::TryRecvError::Empty) => false,
                Err(mpsc::TryRecvError::Disconnected) => {
                    self.state = Deferred::Done(Err(lost_reply()));
                    true
                }
            },
        }
    }

    /// Waits for the reply (`get_response`).
    pub fn get_response(self) -> Result<Response, RequestError> {
        match self.state {
            Deferred::Done(r) => r,
            Deferred::Waiting(rx) => rx.recv().unwrap_or_else(|_| Err(lost_reply())),
        }
    }
}

/// The thread waiting for a deferred reply ended without one (it panicked): the request
/// may or may not have run.
fn lost_reply() -> RequestError {
    RequestError::System(SystemException::new(
        crate::exception::SystemExceptionKind::UNKNOWN,
        0,
        crate::giop::CompletionStatus::Maybe,
    ))
}
