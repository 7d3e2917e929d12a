//! RT-CORBA 1.2 priorities in the POA (`RTPortableServer::POA`): each POA's priority model
//! (its own `PriorityModelPolicy`, or the tree's default, the ORB's), and the objects of a
//! SERVER_DECLARED POA that have a priority of their own.
//!
//! An object's own priority is kept in its active object map entry, so the request path finds
//! it in the entry it looks up anyway ([`ActiveObjectMap::find_with_priority`]); an object of
//! a SERVER_DECLARED POA without one runs at the POA's priority.
//!
//! The rules of the four operations (RT-CORBA 1.2, `RTPortableServer::POA`): a priority must
//! be an RTCORBA priority, 0 ..= 32767 (BAD_PARAM otherwise); the POA must have the
//! SERVER_DECLARED model and must not have IMPLICIT_ACTIVATION — an implicitly activated object
//! would have no priority to be found when its request arrives — (WrongPolicy otherwise); in
//! every other respect each is the `PortableServer::POA` operation of the same name without
//! `_with_priority`/`_and_priority`.
//!
//! [`ActiveObjectMap::find_with_priority`]: super::ActiveObjectMap::find_with_priority

use std::sync::atomic::Ordering;

use super::{ObjectId, ObjectKey, Poa, PoaError, PoaTree};
use crate::poa::key::ObjectKeyRef;
use crate::poa::ServantIdentity;
use crate::rt::{check_priority, Priority, PriorityModel, PriorityModelPolicy};

impl<S: Clone + ServantIdentity> PoaTree<S> {
    /// Whether some POA has a priority model of its own or some object a priority: until
    /// then, every request runs under the tree's default model (the ORB's).
    #[inline]
    pub fn priorities_vary(&self) -> bool {
        self.shared.priorities_vary.load(Ordering::Acquire)
    }

    /// The priority model a request for `key` runs under, before it is dispatched (to choose
    /// its lane): its POA's, with the object's own priority in a SERVER_DECLARED POA. A key
    /// that reaches no POA gets the default (its request is refused at dispatch anyway).
    /// Constant time: the same demultiplexing as a request's, under the table's read lock.
    pub fn priority_model_for_key(&self, key: &[u8]) -> PriorityModelPolicy {
        let default = self.shared.default_priority_model;
        let Ok(key) = ObjectKeyRef::parse(key) else {
            return default;
        };
        let table = self.shared.table.read();
        let Some((poa, hint_valid)) = self.shared.locate(&table, &key) else {
            return default;
        };
        let model = poa.shared.priority_model(&self.shared);
        if model.model != PriorityModel::ServerDeclared || !poa.shared.policies.retain() {
            return model;
        }
        let hint = if hint_valid { key.slot } else { None };
        match poa.state.aom.find_with_priority(hint, key.id) {
            Some((_, Some(own))) => PriorityModelPolicy {
                server_priority: own,
                ..model
            },
            _ => model,
        }
    }
}

impl<S: Clone + ServantIdentity> Poa<S> {
    /// The POA's priority model: the `PriorityModelPolicy` it was created with, else the
    /// ORB's.
    pub fn priority_model(&self) -> PriorityModelPolicy {
        self.shared.priority_model(&self.tree)
    }

    /// The priority model requests for the object `id` run under, as its references declare
    /// it: the POA's, with the object's own priority if it is active with one.
    pub fn object_priority_model(&self, id: &[u8]) -> Result<PriorityModelPolicy, PoaError> {
        let model = self.priority_model();
        let st = self.read()?;
        Ok(match st.aom.priority_by_id(id) {
            Some(own) if model.model == PriorityModel::ServerDeclared => PriorityModelPolicy {
                server_priority: own,
                ..model
            },
            _ => model,
        })
    }

    /// Checks that `priority` may be given to an object of this POA (the rules are in the
    /// module's doc).
    fn check_object_priority(&self, priority: Priority) -> Result<Priority, PoaError> {
        let priority = check_priority(priority.into())
            .map_err(|_| PoaError::BadParam("an RTCORBA priority runs from 0 to 32767"))?;
        if self.priority_model().model != PriorityModel::ServerDeclared {
            return Err(PoaError::WrongPolicy {
                needs: "the SERVER_DECLARED priority model to give an object a priority \
                        (create the POA with Policy::PriorityModel of ServerDeclared, or run \
                        the ORB with -ORBpriorityModel server)",
            });
        }
        if self.shared.policies.implicit() {
            return Err(PoaError::WrongPolicy {
                needs: "NO_IMPLICIT_ACTIVATION to give an object a priority (an implicitly \
                        activated object would have none)",
            });
        }
        Ok(priority)
    }

    /// Marks the tree as having priorities other than the default (for good).
    fn note_own_priority(&self) {
        self.tree.priorities_vary.store(true, Ordering::Release);
    }

    /// `create_reference_with_priority` (as a key): a new system id, not activated, whose
    /// references declare `priority` (the caller puts it in their `TAG_POLICIES`). The
    /// object runs at it once activated with it (`activate_object_with_id_and_priority`);
    /// activated without, it runs at the POA's priority.
    pub fn create_reference_with_priority(
        &self,
        priority: Priority,
    ) -> Result<ObjectKey, PoaError> {
        self.check_object_priority(priority)?;
        self.create_reference()
    }

    /// `create_reference_with_id_and_priority` (as a key); see
    /// [`Poa::create_reference_with_priority`].
    pub fn create_reference_with_id_and_priority(
        &self,
        id: &[u8],
        priority: Priority,
    ) -> Result<ObjectKey, PoaError> {
        self.check_object_priority(priority)?;
        self.create_reference_with_id(id)
    }

    /// `activate_object_with_priority`: activates `servant` under a new system id, which it
    /// returns; the object's requests run at `priority`.
    pub fn activate_object_with_priority(
        &self,
        servant: S,
        priority: Priority,
    ) -> Result<ObjectId, PoaError> {
        let priority = self.check_object_priority(priority)?;
        // Before the object can be called: a request for it then looks its priority up.
        self.note_own_priority();
        self.activate_object_at(servant, Some(priority))
    }

    /// `activate_object_with_id_and_priority`: the object's requests run at `priority`.
    pub fn activate_object_with_id_and_priority(
        &self,
        id: &[u8],
        servant: S,
        priority: Priority,
    ) -> Result<(), PoaError> {
        let priority = self.check_object_priority(priority)?;
        self.note_own_priority();
        self.activate_object_with_id_at(id, servant, Some(priority))
    }
}
