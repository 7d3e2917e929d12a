//! The POA manager (CORBA 3.0 §11.3.2): the switch that says whether the POAs it manages take,
//! queue, discard or refuse requests. Shared by every POA created with it.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use super::error::AdapterInactive;

/// §11.3.2.1's four states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ManagerState {
    /// Requests are queued until the manager becomes active (or discarding, or inactive).
    Holding,
    /// Requests are dispatched.
    Active,
    /// Requests are refused with TRANSIENT: a flow-control valve for an overloaded server.
    Discarding,
    /// Requests are refused with OBJ_ADAPTER; final: the POAs are about to be destroyed.
    Inactive,
}

impl ManagerState {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => ManagerState::Holding,
            1 => ManagerState::Active,
            2 => ManagerState::Discarding,
            _ => ManagerState::Inactive,
        }
    }
}

/// A handle to a POA manager; clones share the state. The state is one atomic octet, so the
/// request path reads it without a lock.
#[derive(Clone, Debug)]
pub struct PoaManager {
    state: Arc<AtomicU8>,
}

impl Default for PoaManager {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for PoaManager {
    /// The same manager (not merely the same state).
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }
}
impl Eq for PoaManager {}

impl PoaManager {
    /// §11.3.2.1: "When a POA manager is created, it is in the holding state."
    pub fn new() -> Self {
        PoaManager {
            state: Arc::new(AtomicU8::new(ManagerState::Holding as u8)),
        }
    }

    /// The current state (`get_state`).
    #[inline]
    pub fn state(&self) -> ManagerState {
        ManagerState::from_u8(self.state.load(Ordering::Acquire))
    }

    /// Moves to `to` unless inactive: §11.3.2: each transition operation raises "AdapterInactive
    /// if issued while the POA manager is in the inactive state" — deactivate included, since
    /// no transition leaves INACTIVE, not even to itself.
    fn transition(&self, to: ManagerState) -> Result<(), AdapterInactive> {
        self.state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                (ManagerState::from_u8(s) != ManagerState::Inactive).then_some(to as u8)
            })
            .map(|_| super::note_change())
            .map_err(|_| AdapterInactive)
    }

    /// `activate`: dispatch requests (including those held).
    pub fn activate(&self) -> Result<(), AdapterInactive> {
        self.transition(ManagerState::Active)
    }

    /// `hold_requests`: queue requests. Waiting for requests under way to complete is the
    /// ORB's business (it owns the requests).
    pub fn hold_requests(&self) -> Result<(), AdapterInactive> {
        self.transition(ManagerState::Holding)
    }

    /// `discard_requests`: refuse requests with TRANSIENT (held ones too, when the ORB next
    /// looks at its queue).
    pub fn discard_requests(&self) -> Result<(), AdapterInactive> {
        self.transition(ManagerState::Discarding)
    }

    /// `deactivate`: refuse requests with OBJ_ADAPTER, for good. Etherealization and waiting
    /// for completion are the ORB's business.
    pub fn deactivate(&self) -> Result<(), AdapterInactive> {
        self.transition(ManagerState::Inactive)
    }
}
