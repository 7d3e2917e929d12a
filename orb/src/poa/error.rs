//! The POA's exceptions (CORBA 3.0 §11.3.8's user exceptions, plus the system exceptions the
//! POA itself raises) and the system exceptions a dispatch decision asks the ORB to return.

/// What a POA operation raised: the `PortableServer::POA` user exceptions by their IDL names, and
/// the two system exceptions these operations raise themselves ([`Self::system_exception`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PoaError {
    /// `create_POA`: the parent already has a child of that name.
    #[error("AdapterAlreadyExists: the parent POA already has a child named so")]
    AdapterAlreadyExists,
    /// `find_POA`: no child of that name (and rtorb has no adapter activators to make one).
    #[error("AdapterNonExistent: no child POA of that name")]
    AdapterNonExistent,
    /// `create_POA`: the policy at `index` of the list is unsupported, duplicated with another
    /// value, or conflicts with another policy (explicit or defaulted).
    #[error("InvalidPolicy: policy at index {index}")]
    InvalidPolicy { index: u16 },
    /// The operation needs policies this POA does not have; `needs` says which.
    #[error("WrongPolicy: the operation requires {needs}")]
    WrongPolicy { needs: &'static str },
    /// An object with this id is already active in this POA.
    #[error("ObjectAlreadyActive")]
    ObjectAlreadyActive,
    /// With UNIQUE_ID, this servant already incarnates an object of this POA.
    #[error("ServantAlreadyActive")]
    ServantAlreadyActive,
    /// No active object with this id.
    #[error("ObjectNotActive")]
    ObjectNotActive,
    /// The servant incarnates no object of this POA (and the policies do not activate it).
    #[error("ServantNotActive")]
    ServantNotActive,
    /// The reference (object key) was not created by this POA.
    #[error("WrongAdapter: the reference was not created by this POA")]
    WrongAdapter,
    /// `get_servant`: no default servant has been set.
    #[error("NoServant: no default servant is set")]
    NoServant,
    /// `register_well_known`: the key is already bound (IORTable's `AlreadyBound`).
    #[error("AlreadyBound: the well-known key is already registered")]
    AlreadyBound,
    /// The POA has been destroyed: the system exception OBJECT_NOT_EXIST.
    #[error("OBJECT_NOT_EXIST: the POA has been destroyed")]
    Destroyed,
    /// An argument the POA cannot accept: the system exception BAD_PARAM.
    #[error("BAD_PARAM: {0}")]
    BadParam(&'static str),
    /// The POA table or an active object map is full: the system exception NO_RESOURCES.
    #[error("NO_RESOURCES: {0}")]
    NoResources(&'static str),
}

impl PoaError {
    /// The system exception this error stands for, for the two that are not user exceptions.
    pub fn system_exception(&self) -> Option<SystemException> {
        match self {
            PoaError::Destroyed => Some(SystemException::new(
                SystemExceptionKind::OBJECT_NOT_EXIST,
                0,
                CompletionStatus::No,
            )),
            PoaError::BadParam(_) => Some(SystemException::new(
                SystemExceptionKind::BAD_PARAM,
                0,
                CompletionStatus::No,
            )),
            PoaError::NoResources(_) => Some(SystemException::new(
                SystemExceptionKind::NO_RESOURCES,
                0,
                CompletionStatus::No,
            )),
            _ => None,
        }
    }
}

/// `POAManager::AdapterInactive`: the manager is INACTIVE, which is final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("AdapterInactive: the POA manager is inactive")]
pub struct AdapterInactive;

use crate::exception::minor::OMG_VMCID;
pub use crate::exception::{SystemException, SystemExceptionKind};
use crate::giop::CompletionStatus;

/// The system exceptions the object adapter decides on. All are COMPLETED_NO: the servant was
/// never reached.
impl SystemException {
    /// OBJECT_NOT_EXIST, minor 0: what every unresolvable key gets (no such POA or object, a
    /// stale key, or a malformed one).
    pub const OBJECT_NOT_EXIST: SystemException = SystemException::new(
        SystemExceptionKind::OBJECT_NOT_EXIST,
        0,
        CompletionStatus::No,
    );
    /// TRANSIENT, OMG minor 1: "request discarded ... because POA is in discarding state".
    pub const TRANSIENT_DISCARDING: SystemException = SystemException::new(
        SystemExceptionKind::TRANSIENT,
        OMG_VMCID | 1,
        CompletionStatus::No,
    );
    /// OBJ_ADAPTER for an INACTIVE POA manager (§11.3.2.1 names no minor code).
    pub const OBJ_ADAPTER_INACTIVE: SystemException =
        SystemException::new(SystemExceptionKind::OBJ_ADAPTER, 0, CompletionStatus::No);
    /// OBJ_ADAPTER, OMG minor 3: "no default servant available".
    pub const OBJ_ADAPTER_NO_DEFAULT_SERVANT: SystemException = SystemException::new(
        SystemExceptionKind::OBJ_ADAPTER,
        OMG_VMCID | 3,
        CompletionStatus::No,
    );
}
