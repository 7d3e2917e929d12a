//! The Portable Object Adapter's data structures and rules (CORBA 3.0 chapter 11), generic over
//! the servant handle `S` (the ORB uses `Arc<dyn Servant>`): the POA tree and the POA table,
//! policies and their valid combinations, active object maps, POA managers, object keys, and
//! the per-request decision — dispatch to which servant, hold, or refuse with which system
//! exception.
//!
//! Request demultiplexing is TAO's *active demultiplexing*: an object key carries the POA's
//! table index and generation and the object's slot index and generation
//! (the layout is on [`ObjectKeyRef`]), so finding a servant is two array indexings and a
//! comparison of the object id, with no hashing and no string comparison, whatever the number of
//! objects or the depth of the POA. Generations make stale keys (a deactivated object, a
//! destroyed POA whose index was reused) miss, so a key reaches the object it names or none.
//! PERSISTENT POAs' keys also carry the POA path and the object id, so that in a later process
//! the key resolves through the path (the slow path, taken when the key's ORB instance id is not
//! this tree's, or its POA incarnation is gone).
//!
//! - [`PoaTree`]: RootPOA and descendants; [`PoaTree::dispatch_decision`] for the ORB,
//!   well-known keys (`NameService`) for `corbaloc:`.
//! - [`Poa`]: `create_poa`, `find_poa`, `destroy`, and the activation and mapping operations,
//!   raising [`PoaError`].
//! - [`Policy`], [`Policies`], [`AomStrategy`]; [`PoaManager`].
//! - [`ObjectKeyRef`]: the borrowed key parser, [`KeyError`].
//!
//! This module never does I/O, never calls servant code (servants leave it as clones of `S`,
//! and those it drops are dropped outside its locks), never panics on a key, and never
//! allocates to look one up. Servant managers, adapter activators and POA Current are not here.

mod aom;
mod error;
mod key;
mod manager;
mod policy;
mod tree;

#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Counts the changes that can alter a dispatch decision, in every POA tree of the process:
/// activations and deactivations, POAs created and destroyed, default servants, well-known
/// keys, POA manager transitions (and ORBs going away, counted by the ORB). A decision taken
/// while this read `n`, and the count still `n`, is still the decision: what lets a `ThruPoa`
/// collocated call skip the lookup. Each change counts itself *while holding the lock* it
/// changes things under (or, for a manager, after its state changed), so that whoever reads
/// the new count and then takes that lock sees the change.
static CHANGES: AtomicU64 = AtomicU64::new(0);

/// The number of POA changes so far (see [`CHANGES`]).
#[inline]
pub(crate) fn changes() -> u64 {
    CHANGES.load(Ordering::Acquire)
}

/// Counts one change (see [`CHANGES`]).
pub(crate) fn note_change() {
    CHANGES.fetch_add(1, Ordering::AcqRel);
}

pub use error::{AdapterInactive, PoaError, SystemException, SystemExceptionKind};
pub use key::{
    encode_path, KeyError, ObjectKeyRef, PathSegments, PoaId, PoaPath, SlotHint, KEY_FIXED_LEN,
    KEY_MAGIC, KEY_VERSION, NO_SLOT,
};
pub use manager::{ManagerState, PoaManager};
pub use policy::{
    AomStrategy, IdAssignment, IdUniqueness, ImplicitActivation, Lifespan, Policies, Policy,
    RequestProcessing, ServantRetention,
};
pub(crate) use tree::DispatchMemo;
pub use tree::{Decision, ObjectId, ObjectKey, Poa, PoaTree, Target, SYSTEM_ID_LEN};

/// How the POA tells servants apart: UNIQUE_ID ("is this servant already active?") and
/// `servant_to_id` compare servants by identity, not by value.
pub trait ServantIdentity {
    /// A value equal for two handles exactly when they designate the same servant, and stable
    /// while a handle to it is alive.
    fn identity(&self) -> usize;
}

/// An `Arc`'s identity is its allocation's address: clones share it, and it cannot be reused
/// while the POA holds a clone.
impl<T: ?Sized> ServantIdentity for Arc<T> {
    fn identity(&self) -> usize {
        Arc::as_ptr(self).cast::<()>() as usize
    }
}

/// A servant handle that has a weak form: what a [`DispatchMemo`] keeps, so that remembering
/// the last decision never keeps a deactivated servant alive (its destructor runs when the
/// POA lets it go, as without the memo).
pub trait WeakServant: Sized {
    type Weak;
    fn downgrade(&self) -> Self::Weak;
    fn upgrade(weak: &Self::Weak) -> Option<Self>;
}

impl<T: ?Sized> WeakServant for Arc<T> {
    type Weak = std::sync::Weak<T>;
    fn downgrade(&self) -> Self::Weak {
        Arc::downgrade(self)
    }
    #[inline]
    fn upgrade(weak: &Self::Weak) -> Option<Self> {
        weak.upgrade()
    }
}
