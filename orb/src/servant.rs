//! Servants: the objects that carry out requests, as the POA and the ORB see them.
//!
//! An implementation of an IDL interface `I` implements the Rust trait `I` that `idlc`
//! generates; the generated `i::servant(imp)` wraps it into a [`ServantRef`], which is what
//! POAs hold. Through this trait the ORB dispatches a remote request to the generated
//! skeleton, answers `_is_a`, and lets a collocated typed reference reach the implementation
//! as a plain trait object ([`Servant::upcast`]), without marshaling.

use crate::cdr::{Decoder, Encoder};
use crate::codegen::DispatchStatus;
use crate::exception::SystemException;
use std::any::Any;
use std::sync::Arc;

/// What the ORB needs of a servant. Generated code implements it (`idlc`'s `Tie` types);
/// hand-written implementations are for dynamic servants (DSI-style) and tests.
pub trait Servant: Send + Sync + 'static {
    /// The repository id of the servant's most-derived interface: the type id of the
    /// references the POA makes for it.
    fn repository_id(&self) -> &'static str;

    /// Whether the servant implements the interface with repository id `id` (the answer to
    /// `_is_a`): its own interface, any ancestor and `CORBA::Object`.
    fn is_a(&self, id: &str) -> bool;

    /// Decodes a request's arguments from `args`, runs `operation` and encodes its results or
    /// its user exception into `reply`. Unknown operations are `BAD_OPERATION`, arguments
    /// that do not decode `MARSHAL`.
    fn dispatch(
        &self,
        operation: &str,
        args: &mut Decoder<'_>,
        reply: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException>;

    /// The implementation as an `Arc<dyn I>` for the interface `I` with repository id `id`
    /// (the servant's own interface or an ancestor), boxed as `Any`; `None` for any other id.
    /// A collocated typed reference calls it once, when it is made, and then calls the
    /// implementation directly. The default offers none: a servant written by hand against
    /// this trait, with no generated interface trait, is only ever called through `dispatch`.
    fn upcast(&self, id: &str) -> Option<Box<dyn Any + Send + Sync>> {
        let _ = id;
        None
    }

    /// The servant itself, to get back the implementation's concrete type
    /// (`reference_to_servant`, `id_to_servant`).
    fn as_any(&self) -> &dyn Any;
}

/// A servant as POAs and the ORB hold it. Clones designate the same servant: the POA tells
/// servants apart by the `Arc`'s address.
pub type ServantRef = Arc<dyn Servant>;

/// The `Arc<dyn I>` a servant offers for interface `id`, if it implements it: the typed
/// reference's collocated fast path. `I` is the interface's trait object type.
pub fn upcast<I: ?Sized + 'static>(servant: &dyn Servant, id: &str) -> Option<Arc<I>> {
    servant
        .upcast(id)?
        .downcast::<Arc<I>>()
        .ok()
        .map(|boxed| *boxed)
}
