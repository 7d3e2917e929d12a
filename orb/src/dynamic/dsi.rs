//! DSI: a servant that handles whatever operation comes, reading the arguments by TypeCodes it
//! gives when it sees the operation's name.

use super::ParamMode;
use crate::cdr::{Decoder, Encoder};
use crate::codegen::{
    reply_is_a, reply_non_existent, reply_ok, DispatchStatus, OBJECT_REPOSITORY_ID,
};
use crate::exception::{SystemException, SystemExceptionKind};
use crate::giop::CompletionStatus;
use crate::servant::{Servant, ServantRef};
use crate::typecode::{Any, TCKind, TypeCode};
use std::sync::Arc;

/// An object implemented without generated code (`PortableServer::DynamicImplementation`):
/// every request reaches [`DynamicImplementation::invoke`] as a [`ServerRequest`].
/// `_is_a` and `_non_existent` are answered for it. Make it a servant with
/// [`dynamic_servant`].
pub trait DynamicImplementation: Send + Sync + 'static {
    /// The repository id of the interface the object implements (`_primary_interface`).
    fn repository_id(&self) -> &'static str;

    /// Whether the object implements interface `id` (`_is_a`): by default its own interface
    /// and `CORBA::Object`. Override it to add base interfaces.
    fn is_a(&self, id: &str) -> bool {
        id == self.repository_id() || id == OBJECT_REPOSITORY_ID
    }

    /// Carries out `request`: reads its arguments ([`ServerRequest::arguments`]), then sets
    /// the result and out values, or a user exception. An unknown operation is
    /// [`SystemException::bad_operation`].
    fn invoke(&self, request: &mut ServerRequest<'_, '_>) -> Result<(), SystemException>;
}

/// A request as a [`DynamicImplementation`] sees it (`CORBA::ServerRequest`).
pub struct ServerRequest<'r, 'a> {
    operation: &'r str,
    args: &'r mut Decoder<'a>,
    /// The parameters' modes and types, once [`ServerRequest::arguments`] read them.
    params: Option<Vec<(ParamMode, TypeCode)>>,
    result: Option<Any>,
    outs: Option<Vec<Any>>,
    exception: Option<Any>,
}

impl<'r, 'a> ServerRequest<'r, 'a> {
    /// The operation's name (`_get_x` and `_set_x` for attribute `x`).
    pub fn operation(&self) -> &str {
        self.operation
    }

    /// Reads the arguments by the operation's parameters, given in order as mode and type;
    /// returns the values of the `in` and `inout` ones, in order. Call it once, before
    /// setting anything. Arguments that do not decode are `MARSHAL`. A value an argument
    /// shares with an earlier one (sent as an indirection to it) is a copy in the later
    /// argument's `any` ([`Any::read_values`]).
    pub fn arguments(
        &mut self,
        params: &[(ParamMode, TypeCode)],
    ) -> Result<Vec<Any>, SystemException> {
        if self.params.is_some() {
            return Err(bad_inv_order());
        }
        // One stream: an argument may be an indirection into an earlier one.
        let sent: Vec<TypeCode> = params
            .iter()
            .filter(|(mode, _)| mode.sent())
            .map(|(_, tc)| tc.clone())
            .collect();
        let values = Any::read_values(&sent, self.args).map_err(SystemException::from)?;
        self.params = Some(params.to_vec());
        Ok(values)
    }

    /// Sets the return value (`set_result`); an operation that returns `void` sets none.
    pub fn set_result(&mut self, value: Any) {
        self.result = Some(value);
    }

    /// Sets the values of the `out` and `inout` parameters, in parameter order; each must
    /// have its parameter's type.
    pub fn set_outs(&mut self, values: Vec<Any>) {
        self.outs = Some(values);
    }

    /// Raises a user exception (`set_exception`): a `tk_except` `any`, holding its members.
    pub fn set_exception(&mut self, exception: Any) {
        self.exception = Some(exception);
    }

    /// Writes what the implementation set as the reply.
    fn reply(self, reply: &mut Encoder) -> Result<DispatchStatus, SystemException> {
        if let Some(e) = self.exception {
            let TypeCode::Except(tc) = e.type_code().unalias() else {
                // A programming error of the implementation, after it ran.
                return Err(bad_param());
            };
            reply_ok(reply.write_string(&tc.id))?;
            reply_ok(e.write_value(reply))?;
            return Ok(DispatchStatus::UserException);
        }
        let params = self.params.unwrap_or_default();
        if let Some(result) = &self.result {
            if result.type_code().kind() != TCKind::Void {
                reply_ok(result.write_value(reply))?;
            }
        }
        let returned: Vec<&TypeCode> = params
            .iter()
            .filter(|(mode, _)| mode.returned())
            .map(|(_, tc)| tc)
            .collect();
        let outs = self.outs.unwrap_or_default();
        if outs.len() != returned.len()
            || outs
                .iter()
                .zip(&returned)
                .any(|(v, tc)| !v.type_code().equivalent(tc))
        {
            return Err(bad_param());
        }
        outs.iter()
            .try_for_each(|v| reply_ok(v.write_value(reply)))?;
        Ok(DispatchStatus::NoException)
    }
}

/// The implementation set out values or an exception that do not fit the operation.
fn bad_param() -> SystemException {
    SystemException::new(SystemExceptionKind::BAD_PARAM, 0, CompletionStatus::Yes)
}

fn bad_inv_order() -> SystemException {
    SystemException::new(SystemExceptionKind::BAD_INV_ORDER, 0, CompletionStatus::No)
}

/// A [`DynamicImplementation`] as a [`Servant`] the POA can hold.
pub struct DynamicServant<D>(pub D);

/// `imp` as a servant, to activate in a POA.
pub fn dynamic_servant<D: DynamicImplementation>(imp: D) -> ServantRef {
    Arc::new(DynamicServant(imp))
}

impl<D: DynamicImplementation> Servant for DynamicServant<D> {
    fn repository_id(&self) -> &'static str {
        self.0.repository_id()
    }

    fn is_a(&self, id: &str) -> bool {
        self.0.is_a(id)
    }

    fn dispatch(
        &self,
        operation: &str,
        args: &mut Decoder<'_>,
        reply: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        match operation {
            "_is_a" => return reply_is_a(args, reply, |id| self.0.is_a(id)),
            // `_not_existent` is GIOP 1.0's spelling.
            "_non_existent" | "_not_existent" => return reply_non_existent(reply),
            _ => {}
        }
        let mut request = ServerRequest {
            operation,
            args,
            params: None,
            result: None,
            outs: None,
            exception: None,
        };
        self.0.invoke(&mut request)?;
        request.reply(reply)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
