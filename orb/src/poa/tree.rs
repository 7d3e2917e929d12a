//! The POA tree, the POA table, the POA operations, and the decision the ORB asks for on every
//! request: given an object key, dispatch to which servant, hold, or refuse with what.
//!
//! Locking: one `parking_lot::RwLock` over the POA table, which holds every POA's mutable
//! state (active object map, default servant, children) beside its entry. A lookup takes that
//! read lock once and nothing else: readers never wait for each other. A lock round trip is two
//! locked instructions (about 5 ns each on the machine the benches ran on, and the memory
//! accesses around them cannot cross them); with a second lock per POA, as there was, a lookup
//! took 36 ns instead of 26 (`poa_demux` bench). The price is on the write side: an activation
//! or deactivation in one POA holds the whole table for its map update, so lookups in other
//! POAs wait for it — constant time, but the update that grows a map of 100,000 objects copies
//! it. Requests outnumber activations by far in the servers this is for. An Arc-swap snapshot
//! would make reads wait-free, but every activation would copy the map (O(n) for 100,000
//! objects) or need a persistent map with a hashing fast path — the very cost active
//! demultiplexing removes. Servants leave the lock only as clones (`S: Clone`, typically an
//! `Arc`), and servants dropped by deactivation or destruction are dropped after the lock is
//! released, so no user code runs under it. A POA handle reaches its state through the table by
//! its index and generation, so a destroyed POA's handle finds none: [`PoaError::Destroyed`].

mod priority;

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{
    MappedRwLockReadGuard, MappedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};

use super::aom::ActiveObjectMap;
use super::error::{PoaError, SystemException};
use super::key::{
    encode_key, encode_segment, KeyError, ObjectKeyRef, PoaId, PoaPath, SlotHint, KEY_MAGIC,
};
use super::manager::{ManagerState, PoaManager};
use super::policy::{Policies, Policy, RequestProcessing};
use super::{ServantIdentity, WeakServant};
use crate::rt::{Priority, PriorityModel, PriorityModelPolicy};

/// An object id (CORBA's `sequence<octet>`).
pub type ObjectId = Vec<u8>;
/// An object key: what the ORB puts in an IOR's profile and finds in a request header.
pub type ObjectKey = Vec<u8>;

/// Length of the ids SYSTEM_ID POAs generate: the ORB instance id, then a serial number, both
/// big-endian u64. The instance id keeps a PERSISTENT POA's ids from a new process from
/// colliding with those its references from earlier processes carry.
pub const SYSTEM_ID_LEN: usize = 16;

/// Where a request goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target<'a, S> {
    pub servant: S,
    /// The POA that dispatches (for POA Current); `None` for a well-known key.
    pub poa: Option<PoaId>,
    /// The object id, borrowed from the key (the whole key for a well-known one).
    pub object_id: &'a [u8],
    /// Whether `servant` is the POA's default servant rather than an active object's.
    pub default_servant: bool,
    /// The RT-CORBA priority model the object's requests run under: its POA's, with the
    /// object's own priority if it was activated with one (the ORB's for a well-known key).
    pub priority_model: PriorityModelPolicy,
}

/// What the ORB must do with a request for a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision<'a, S> {
    Dispatch(Target<'a, S>),
    /// The POA manager is holding: queue the request, ask again when its state changes.
    Hold,
    /// Reply with this system exception (COMPLETED_NO).
    Reject(SystemException),
}

struct TableEntry<S> {
    generation: u32,
    poa: Option<LivePoa<S>>,
}

/// A live POA: its fixed part, which handles share, and its mutable state, which lives in the
/// table under the table's lock (see the module's doc).
struct LivePoa<S> {
    shared: Arc<PoaShared>,
    state: PoaState<S>,
}

/// POAs by index. An index is reused after its POA is destroyed (LIFO, keeping the table dense)
/// but with the next generation, so the destroyed POA's keys never match its successor.
struct PoaTable<S> {
    entries: Vec<TableEntry<S>>,
    free: Vec<u32>,
}

impl<S> PoaTable<S> {
    #[inline]
    fn live(&self, id: PoaId) -> Option<&LivePoa<S>> {
        let e = self.entries.get(id.index as usize)?;
        if e.generation == id.generation {
            e.poa.as_ref()
        } else {
            None
        }
    }

    fn live_mut(&mut self, id: PoaId) -> Option<&mut LivePoa<S>> {
        let e = self.entries.get_mut(id.index as usize)?;
        if e.generation == id.generation {
            e.poa.as_mut()
        } else {
            None
        }
    }

    #[inline]
    fn get(&self, id: PoaId) -> Option<&Arc<PoaShared>> {
        self.live(id).map(|l| &l.shared)
    }

    fn insert(&mut self, make: impl FnOnce(PoaId) -> Arc<PoaShared>) -> Option<Arc<PoaShared>> {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                let i = u32::try_from(self.entries.len()).ok()?;
                self.entries.push(TableEntry {
                    generation: 0,
                    poa: None,
                });
                i
            }
        };
        let e = &mut self.entries[index as usize];
        let poa = make(PoaId {
            index,
            generation: e.generation,
        });
        e.poa = Some(LivePoa {
            shared: poa.clone(),
            state: PoaState::new(poa.policies),
        });
        Some(poa)
    }

    fn remove(&mut self, id: PoaId) -> Option<LivePoa<S>> {
        let e = self.entries.get_mut(id.index as usize)?;
        if e.generation != id.generation {
            return None;
        }
        let poa = e.poa.take()?;
        // An index whose generation would wrap is retired, not reused: a key made 2^32 POAs
        // ago must not match either.
        e.generation = e.generation.wrapping_add(1);
        if e.generation != u32::MAX {
            self.free.push(id.index);
        }
        Some(poa)
    }
}

struct TreeShared<S> {
    instance_id: u64,
    root: Arc<PoaShared>,
    table: RwLock<PoaTable<S>>,
    well_known: RwLock<HashMap<Box<[u8]>, S>>,
    /// Serial numbers of system ids: tree-wide, so a POA destroyed and re-created under the
    /// same name (same path, for PERSISTENT ones) never hands out an id its predecessor did.
    next_serial: AtomicU64,
    /// The priority model of POAs created without one (the ORB's `-ORBpriorityModel`).
    default_priority_model: PriorityModelPolicy,
    /// Set, for good, once a POA has a priority model of its own or an object a priority:
    /// until then every request's priority model is the default, and the ORB need not look
    /// the key up to choose a request's lane.
    priorities_vary: AtomicBool,
}

struct PoaShared {
    id: PoaId,
    name: Box<str>,
    parent: Option<PoaId>,
    /// The names from the root's child down to this POA.
    names: Vec<String>,
    /// `names` as a key's path, written once so making a persistent key is a copy.
    path: Box<[u8]>,
    policies: Policies,
    manager: PoaManager,
}

struct PoaState<S> {
    aom: ActiveObjectMap<S>,
    /// Servant identity → its object id, kept with UNIQUE_ID only (the only policy under which a
    /// servant has *the* id: ServantAlreadyActive, servant_to_id). The AOM holds a clone of each
    /// servant, so an identity (an `Arc`'s address) cannot be reused while it is in here.
    by_servant: HashMap<usize, Box<[u8]>>,
    default_servant: Option<S>,
    children: HashMap<Box<str>, PoaId>,
}

impl<S> PoaState<S> {
    fn new(policies: Policies) -> Self {
        PoaState {
            aom: ActiveObjectMap::new(policies.aom),
            by_servant: HashMap::new(),
            default_servant: None,
            children: HashMap::new(),
        }
    }
}

/// The POA hierarchy of one ORB instance: RootPOA, its descendants, the POA table that keys
/// index, and the table of well-known keys. Clones share the tree.
pub struct PoaTree<S> {
    shared: Arc<TreeShared<S>>,
}

impl<S> Clone for PoaTree<S> {
    fn clone(&self) -> Self {
        PoaTree {
            shared: self.shared.clone(),
        }
    }
}

/// A handle to one POA. Clones refer to the same POA; a handle outlives the POA's destruction,
/// after which its operations answer [`PoaError::Destroyed`] (OBJECT_NOT_EXIST).
pub struct Poa<S> {
    tree: Arc<TreeShared<S>>,
    shared: Arc<PoaShared>,
}

impl<S> Clone for Poa<S> {
    fn clone(&self) -> Self {
        Poa {
            tree: self.tree.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<S> std::fmt::Debug for Poa<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poa")
            .field("name", &self.shared.name)
            .field("id", &self.shared.id)
            .field("policies", &self.shared.policies)
            .finish_non_exhaustive()
    }
}

/// A number that differs between ORB instances (processes, or trees in one process): std's
/// `RandomState` is seeded from the OS, the counter and clock separate trees of one process.
fn fresh_instance_id() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.write_u128(now);
    h.finish()
}

impl<S: Clone + ServantIdentity> Default for PoaTree<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Clone + ServantIdentity> PoaTree<S> {
    /// A tree with a fresh ORB instance id and a RootPOA (§11.2.3's policies) whose manager is
    /// new, hence holding.
    pub fn new() -> Self {
        Self::with_instance_id(fresh_instance_id())
    }

    /// A tree with the given ORB instance id: for tests that simulate a restart (a new tree,
    /// another id) or a key from this very instance.
    pub fn with_instance_id(instance_id: u64) -> Self {
        Self::with_instance_id_and_priority_model(instance_id, PriorityModelPolicy::default())
    }

    /// A tree whose POAs created without a `PriorityModelPolicy` (the RootPOA among them) run
    /// their requests under `default` (the ORB's `-ORBpriorityModel`, `-ORBserverPriority`).
    pub fn with_default_priority_model(default: PriorityModelPolicy) -> Self {
        Self::with_instance_id_and_priority_model(fresh_instance_id(), default)
    }

    fn with_instance_id_and_priority_model(
        instance_id: u64,
        default_priority_model: PriorityModelPolicy,
    ) -> Self {
        let root_id = PoaId {
            index: 0,
            generation: 0,
        };
        let root = Arc::new(PoaShared::new(
            root_id,
            "RootPOA",
            None,
            Vec::new(),
            Vec::new(),
            Policies::root(),
            PoaManager::new(),
        ));
        let table = PoaTable {
            entries: vec![TableEntry {
                generation: root_id.generation,
                poa: Some(LivePoa {
                    shared: root.clone(),
                    state: PoaState::new(root.policies),
                }),
            }],
            free: Vec::new(),
        };
        PoaTree {
            shared: Arc::new(TreeShared {
                instance_id,
                root,
                table: RwLock::new(table),
                well_known: RwLock::new(HashMap::new()),
                next_serial: AtomicU64::new(0),
                default_priority_model,
                priorities_vary: AtomicBool::new(false),
            }),
        }
    }

    /// The id written into every key this tree makes; keys with another one skip the fast path.
    pub fn instance_id(&self) -> u64 {
        self.shared.instance_id
    }

    /// The RootPOA (destroyed if someone destroyed it).
    pub fn root(&self) -> Poa<S> {
        Poa {
            tree: self.shared.clone(),
            shared: self.shared.root.clone(),
        }
    }

    /// The live POA with this table index and generation.
    pub fn poa(&self, id: PoaId) -> Option<Poa<S>> {
        let table = self.shared.table.read();
        table.get(id).map(|p| Poa {
            tree: self.shared.clone(),
            shared: p.clone(),
        })
    }

    /// The live POA a key of ours designates: by table index if the key is from this instance
    /// and that POA incarnation, else (persistent keys only) by its path.
    pub fn poa_for_key(&self, key: &[u8]) -> Option<Poa<S>> {
        let key = ObjectKeyRef::parse(key).ok()?;
        let table = self.shared.table.read();
        self.shared.locate(&table, &key).map(|(p, _)| Poa {
            tree: self.shared.clone(),
            shared: p.shared.clone(),
        })
    }

    /// What the ORB must do with a request for `key`: the POA manager's state, then the servant.
    ///
    /// - A key that is not ours (no magic) is looked up among the well-known keys.
    /// - A malformed key, one whose POA is gone (a transient POA destroyed, its index reused, a
    ///   key from an earlier ORB instance), or whose object is not active: OBJECT_NOT_EXIST.
    /// - §11.3.2.1: holding → queue; discarding → "the TRANSIENT system exception, with
    ///   standard minor code 1"; inactive → OBJ_ADAPTER.
    /// - Active: the active object's servant; else with USE_DEFAULT_SERVANT the default
    ///   servant, or OBJ_ADAPTER if none is set (§11.3.7.6); else OBJECT_NOT_EXIST.
    pub fn dispatch_decision<'a>(&self, key: &'a [u8]) -> Decision<'a, S> {
        self.shared.decide(key, true)
    }

    /// The servant a request for `key` reaches, whatever the POA manager's state.
    pub fn key_to_servant<'a>(&self, key: &'a [u8]) -> Result<Target<'a, S>, SystemException> {
        match self.shared.decide(key, false) {
            Decision::Dispatch(t) => Ok(t),
            Decision::Reject(e) => Err(e),
            // Only the manager's state holds a request, and it was not consulted.
            Decision::Hold => Err(SystemException::OBJECT_NOT_EXIST),
        }
    }

    /// Binds a key that is not ours — `NameService`, a `corbaloc:` URL's key — to a servant
    /// (after TAO's IORTable). A key starting with rtorb's magic octets is refused (BAD_PARAM):
    /// it would be read as one of ours and never reach this table.
    pub fn register_well_known(&self, key: &[u8], servant: S) -> Result<(), PoaError> {
        if key.is_empty() {
            return Err(PoaError::BadParam("a well-known key cannot be empty"));
        }
        if key.starts_with(&KEY_MAGIC) {
            return Err(PoaError::BadParam(
                "a well-known key cannot start with rtorb's key magic",
            ));
        }
        let mut wk = self.shared.well_known.write();
        super::note_change();
        if wk.contains_key(key) {
            return Err(PoaError::AlreadyBound);
        }
        wk.insert(key.into(), servant);
        Ok(())
    }

    /// Unbinds a well-known key, returning its servant.
    pub fn unregister_well_known(&self, key: &[u8]) -> Option<S> {
        let mut wk = self.shared.well_known.write();
        super::note_change();
        let removed = wk.remove(key);
        drop(wk);
        removed
    }
}

/// The last decision to dispatch that a thread took, to take it again without the lookup:
/// while the POA change count ([`super::changes`]) has not moved since, nothing the decision
/// depended on has changed — no activation or deactivation, no POA created or destroyed, no
/// manager transition, no default servant or well-known key set — so the same key gets the
/// same answer (servant, POA, priority model). rtorb has no servant managers and counts no
/// requests in progress per object, so a decision has no other inputs and no side effects.
///
/// The servant is kept weakly: a servant the POA lets go is dropped then, not when the thread
/// next looks. The tree is kept weakly too, so that its address cannot be another tree's while
/// the memo names it (well-known keys are the same octets in every tree).
/// The longest key a [`DispatchMemo`] remembers: a system id's key (48 octets) with room for
/// a persistent POA's path or a longer user id.
const MEMO_KEY_MAX: usize = 128;

pub(crate) struct DispatchMemo<S: WeakServant> {
    /// The change count when the decision was taken; `u64::MAX`: none taken.
    changes: u64,
    tree: std::sync::Weak<TreeShared<S>>,
    /// The key, in place: remembering one allocates nothing, not even on a thread's first
    /// request (a pool's threads may serve their first while others are long warm). Keys
    /// longer than this are looked up every time.
    key: [u8; MEMO_KEY_MAX],
    key_len: usize,
    servant: Option<S::Weak>,
    poa: Option<PoaId>,
    /// Where the object id is in `key`.
    object_id: (usize, usize),
    default_servant: bool,
    priority_model: PriorityModelPolicy,
}

impl<S: WeakServant> DispatchMemo<S> {
    pub(crate) const fn new() -> Self {
        DispatchMemo {
            changes: u64::MAX,
            tree: std::sync::Weak::new(),
            key: [0; MEMO_KEY_MAX],
            key_len: 0,
            servant: None,
            poa: None,
            object_id: (0, 0),
            default_servant: false,
            priority_model: PriorityModelPolicy {
                model: PriorityModel::ServerDeclared,
                server_priority: 0,
            },
        }
    }
}

impl<S: Clone + ServantIdentity + WeakServant> PoaTree<S> {
    /// The servant and priority model `memo` holds for `key`, if it holds this tree's
    /// decision to dispatch it and nothing has changed since: the request path's question,
    /// answered with no more than it needs (a whole [`Decision`] assembled and moved out
    /// cost a store-forwarding stall per request). `None`: ask
    /// [`PoaTree::dispatch_decision_memo`].
    #[inline]
    pub(crate) fn remembered(
        &self,
        key: &[u8],
        memo: &DispatchMemo<S>,
    ) -> Option<(S, PriorityModelPolicy)> {
        self.remembered_at(super::changes(), key, memo)
    }

    #[inline]
    fn remembered_at(
        &self,
        now: u64,
        key: &[u8],
        memo: &DispatchMemo<S>,
    ) -> Option<(S, PriorityModelPolicy)> {
        if memo.changes == now
            && std::ptr::eq(memo.tree.as_ptr(), Arc::as_ptr(&self.shared))
            && memo.key.get(..memo.key_len) == Some(key)
        {
            let servant = memo.servant.as_ref().and_then(S::upgrade)?;
            return Some((servant, memo.priority_model));
        }
        None
    }

    /// [`PoaTree::dispatch_decision`], taken again from `memo` when it holds this tree's
    /// decision for this very key and nothing has changed since (see [`DispatchMemo`]); else
    /// looked up, and remembered if it is to dispatch.
    #[inline]
    pub(crate) fn dispatch_decision_memo<'a>(
        &self,
        key: &'a [u8],
        memo: &mut DispatchMemo<S>,
    ) -> Decision<'a, S> {
        // Read before looking, as for collocated calls: a change made during the lookup moves
        // the count past this, so the memo then misses.
        let now = super::changes();
        if let Some((servant, priority_model)) = self.remembered_at(now, key, memo) {
            return Decision::Dispatch(Target {
                servant,
                poa: memo.poa,
                object_id: key.get(memo.object_id.0..memo.object_id.1).unwrap_or(&[]),
                default_servant: memo.default_servant,
                priority_model,
            });
        }
        let decision = self.shared.decide(key, true);
        match &decision {
            Decision::Dispatch(t) => {
                if !std::ptr::eq(memo.tree.as_ptr(), Arc::as_ptr(&self.shared)) {
                    memo.tree = Arc::downgrade(&self.shared);
                }
                let Some(slot) = memo.key.get_mut(..key.len()) else {
                    memo.changes = u64::MAX;
                    return decision;
                };
                slot.copy_from_slice(key);
                memo.key_len = key.len();
                // The object id is borrowed from the key: remember where.
                let start = (t.object_id.as_ptr() as usize).wrapping_sub(key.as_ptr() as usize);
                memo.object_id = (start, start.wrapping_add(t.object_id.len()));
                memo.servant = Some(t.servant.downgrade());
                memo.poa = t.poa;
                memo.default_servant = t.default_servant;
                memo.priority_model = t.priority_model;
                memo.changes = if key.get(memo.object_id.0..memo.object_id.1) == Some(t.object_id) {
                    now
                } else {
                    u64::MAX
                };
            }
            _ => memo.changes = u64::MAX,
        }
        decision
    }
}

impl<S: Clone> TreeShared<S> {
    fn new_system_id(&self) -> ObjectId {
        let serial = self.next_serial.fetch_add(1, Ordering::Relaxed);
        let mut id = Vec::with_capacity(SYSTEM_ID_LEN);
        id.extend_from_slice(&self.instance_id.to_be_bytes());
        id.extend_from_slice(&serial.to_be_bytes());
        id
    }

    /// The live POA a parsed key designates, and whether the key's slot hint was made by that
    /// very POA incarnation (only then may it index the POA's slots).
    #[inline]
    fn locate<'t>(
        &self,
        table: &'t PoaTable<S>,
        key: &ObjectKeyRef<'_>,
    ) -> Option<(&'t LivePoa<S>, bool)> {
        if key.instance_id == self.instance_id {
            if let Some(p) = table.live(key.poa) {
                // A key's lifespan must be its POA's: anything else was not made by this POA.
                return (p.shared.policies.persistent() == key.is_persistent())
                    .then_some((p, true));
            }
        }
        // §11.3.7.2: only PERSISTENT objects outlive the POA incarnation (and the process) that
        // created them; they are found again through their POA's path from the root.
        let path = key.path?;
        let p = self.walk(table, path)?;
        p.shared.policies.persistent().then_some((p, false))
    }

    fn walk<'t>(&self, table: &'t PoaTable<S>, path: PoaPath<'_>) -> Option<&'t LivePoa<S>> {
        let mut poa = table.live(self.root.id)?;
        for name in path.segments() {
            let name = name.ok()?;
            poa = table.live(*poa.state.children.get(name)?)?;
        }
        Some(poa)
    }

    fn decide<'a>(&self, bytes: &'a [u8], consult_manager: bool) -> Decision<'a, S> {
        let key = match ObjectKeyRef::parse(bytes) {
            Ok(k) => k,
            Err(KeyError::NotOurs) => {
                return match self.well_known.read().get(bytes) {
                    Some(s) => Decision::Dispatch(Target {
                        servant: s.clone(),
                        poa: None,
                        object_id: bytes,
                        default_servant: false,
                        priority_model: self.default_priority_model,
                    }),
                    None => Decision::Reject(SystemException::OBJECT_NOT_EXIST),
                };
            }
            // Ours, but not well formed: no POA made it, so it names no object.
            Err(_) => return Decision::Reject(SystemException::OBJECT_NOT_EXIST),
        };
        let table = self.table.read();
        let Some((LivePoa { shared: poa, state }, hint_valid)) = self.locate(&table, &key) else {
            return Decision::Reject(SystemException::OBJECT_NOT_EXIST);
        };
        if consult_manager {
            match poa.manager.state() {
                ManagerState::Active => {}
                ManagerState::Holding => return Decision::Hold,
                ManagerState::Discarding => {
                    return Decision::Reject(SystemException::TRANSIENT_DISCARDING)
                }
                ManagerState::Inactive => {
                    return Decision::Reject(SystemException::OBJ_ADAPTER_INACTIVE)
                }
            }
        }
        let hint = if hint_valid { key.slot } else { None };
        let poa_model = poa.priority_model(self);
        match poa.servant_for(state, hint, key.id, poa_model) {
            Ok((servant, default_servant, priority_model)) => Decision::Dispatch(Target {
                servant,
                poa: Some(poa.id),
                object_id: key.id,
                default_servant,
                priority_model,
            }),
            Err(e) => Decision::Reject(e),
        }
    }
}

impl PoaShared {
    fn new(
        id: PoaId,
        name: &str,
        parent: Option<PoaId>,
        names: Vec<String>,
        path: Vec<u8>,
        policies: Policies,
        manager: PoaManager,
    ) -> Self {
        PoaShared {
            id,
            name: name.into(),
            parent,
            names,
            path: path.into(),
            policies,
            manager,
        }
    }

    /// This POA's priority model: its own, or the tree's default.
    #[inline]
    fn priority_model<S>(&self, tree: &TreeShared<S>) -> PriorityModelPolicy {
        self.policies
            .priority_model
            .unwrap_or(tree.default_priority_model)
    }

    /// The servant for `id` under §11.3.7.6's rules, whether it is the default servant, and
    /// the priority model the request runs under (`poa_model`, with the object's own priority
    /// in a SERVER_DECLARED POA); or the system exception for the client.
    #[inline]
    fn servant_for<S: Clone>(
        &self,
        st: &PoaState<S>,
        hint: Option<SlotHint>,
        id: &[u8],
        poa_model: PriorityModelPolicy,
    ) -> Result<(S, bool, PriorityModelPolicy), SystemException> {
        // With NON_RETAIN there is no active object map to look in.
        if self.policies.retain() {
            if poa_model.model == PriorityModel::ServerDeclared {
                // The entry at hand carries the object's own priority, if it has one.
                if let Some((s, own)) = st.aom.find_with_priority(hint, id) {
                    let model = PriorityModelPolicy {
                        server_priority: own.unwrap_or(poa_model.server_priority),
                        ..poa_model
                    };
                    return Ok((s.clone(), false, model));
                }
            } else if let Some(s) = st.aom.find_by_key(hint, id) {
                return Ok((s.clone(), false, poa_model));
            }
        }
        match self.policies.request_processing {
            // "USE_DEFAULT_SERVANT – If the Object Id is not found in the Active Object Map or
            // the NON_RETAIN policy is present, and a default servant has been registered ...,
            // the request is dispatched to the default servant. If no default servant has been
            // registered, an OBJ_ADAPTER exception is returned to the client."
            RequestProcessing::UseDefaultServant => st
                .default_servant
                .clone()
                .map(|s| (s, true, poa_model))
                .ok_or(SystemException::OBJ_ADAPTER_NO_DEFAULT_SERVANT),
            // "USE_ACTIVE_OBJECT_MAP_ONLY – If the Object Id is not found in the Active Object
            // Map, an OBJECT_NOT_EXIST exception is returned to the client."
            _ => Err(SystemException::OBJECT_NOT_EXIST),
        }
    }
}

impl<S: Clone + ServantIdentity> Poa<S> {
    /// `the_name`.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The POA's index and generation in the POA table.
    pub fn id(&self) -> PoaId {
        self.shared.id
    }

    /// The names from the RootPOA's child down to this POA (empty for the RootPOA).
    pub fn path(&self) -> &[String] {
        &self.shared.names
    }

    pub fn policies(&self) -> &Policies {
        &self.shared.policies
    }

    /// `the_POAManager`.
    pub fn manager(&self) -> &PoaManager {
        &self.shared.manager
    }

    /// `the_parent`: `None` for the RootPOA, or once the parent is destroyed.
    pub fn parent(&self) -> Option<Poa<S>> {
        let table = self.tree.table.read();
        let p = table.get(self.shared.parent?)?;
        Some(Poa {
            tree: self.tree.clone(),
            shared: p.clone(),
        })
    }

    /// `the_children`' names, sorted (none once destroyed).
    pub fn children(&self) -> Vec<String> {
        let mut names: Vec<String> = self.read().map_or_else(
            |_| Vec::new(),
            |st| st.children.keys().map(|k| k.to_string()).collect(),
        );
        names.sort();
        names
    }

    pub fn is_destroyed(&self) -> bool {
        self.read().is_err()
    }

    /// How many objects are active (0 with NON_RETAIN, or once destroyed).
    pub fn active_object_count(&self) -> usize {
        self.read().map_or(0, |st| st.aom.len())
    }

    /// This POA's state, under the table's read lock; Destroyed once its table entry is gone.
    fn read(&self) -> Result<MappedRwLockReadGuard<'_, PoaState<S>>, PoaError> {
        RwLockReadGuard::try_map(self.tree.table.read(), |t| {
            t.live(self.shared.id).map(|l| &l.state)
        })
        .map_err(|_| PoaError::Destroyed)
    }

    /// This POA's state, under the table's write lock, counting a change.
    fn write(&self) -> Result<MappedRwLockWriteGuard<'_, PoaState<S>>, PoaError> {
        let table = self.tree.table.write();
        super::note_change();
        RwLockWriteGuard::try_map(table, |t| t.live_mut(self.shared.id).map(|l| &mut l.state))
            .map_err(|_| PoaError::Destroyed)
    }

    fn make_key(&self, hint: Option<SlotHint>, id: &[u8]) -> ObjectKey {
        let mut out = Vec::new();
        let path = self
            .shared
            .policies
            .persistent()
            .then_some(&*self.shared.path);
        encode_key(
            &mut out,
            self.tree.instance_id,
            self.shared.id,
            hint,
            id,
            path,
        );
        out
    }

    /// Checks an id handed to this POA.
    fn check_id(&self, id: &[u8]) -> Result<(), PoaError> {
        if u32::try_from(id.len()).is_err() {
            return Err(PoaError::BadParam("object id longer than 4 GiB"));
        }
        // activate_object_with_id, create_reference_with_id: "If the POA has the SYSTEM_ID
        // policy and it detects that the Object Id value was not generated by the system or for
        // this POA, the ... operation may raise the BAD_PARAM system exception." An id of
        // another shape cannot be ours; for a TRANSIENT POA neither can one of another ORB
        // instance or one whose serial number was never handed out.
        if self.shared.policies.system_id() {
            let Ok(id) = <[u8; SYSTEM_ID_LEN]>::try_from(id) else {
                return Err(PoaError::BadParam("not an id this POA's system generated"));
            };
            let (instance, serial) = id.split_at(8);
            let instance = u64::from_be_bytes(instance.try_into().unwrap_or_default());
            let serial = u64::from_be_bytes(serial.try_into().unwrap_or_default());
            if !self.shared.policies.persistent()
                && (instance != self.tree.instance_id
                    || serial >= self.tree.next_serial.load(Ordering::Relaxed))
            {
                return Err(PoaError::BadParam("not an id this POA's system generated"));
            }
        }
        Ok(())
    }

    /// `create_POA`. A `None` manager makes a new one (holding): §11.3.8 "If a null reference
    /// is passed for the manager, a new POA manager is created and associated with the new POA".
    pub fn create_poa(
        &self,
        name: &str,
        manager: Option<PoaManager>,
        policies: &[Policy],
    ) -> Result<Poa<S>, PoaError> {
        let policies = Policies::from_list(policies)?;
        let mut path = self.shared.path.to_vec();
        encode_segment(&mut path, name).ok_or(PoaError::BadParam(
            "a POA name cannot be longer than 65,535 octets",
        ))?;
        let mut names = self.shared.names.clone();
        names.push(name.to_owned());
        let manager = manager.unwrap_or_default();

        let mut table = self.tree.table.write();
        super::note_change();
        let parent = self.shared.id;
        let siblings = &table
            .live(parent)
            .ok_or(PoaError::Destroyed)?
            .state
            .children;
        // "AdapterAlreadyExists is raised if the target POA already has a child POA with the
        // specified name."
        if siblings.contains_key(name) {
            return Err(PoaError::AdapterAlreadyExists);
        }
        let child = table
            .insert(|id| {
                Arc::new(PoaShared::new(
                    id,
                    name,
                    Some(parent),
                    names,
                    path,
                    policies,
                    manager,
                ))
            })
            .ok_or(PoaError::NoResources("the POA table is full"))?;
        if let Some(p) = table.live_mut(parent) {
            p.state.children.insert(name.into(), child.id);
        }
        if policies.priority_model.is_some() {
            self.tree.priorities_vary.store(true, Ordering::Release);
        }
        Ok(Poa {
            tree: self.tree.clone(),
            shared: child,
        })
    }

    /// `find_POA` (without adapter activators: an absent child is AdapterNonExistent).
    pub fn find_poa(&self, name: &str) -> Result<Poa<S>, PoaError> {
        let table = self.tree.table.read();
        let id = *table
            .live(self.shared.id)
            .ok_or(PoaError::Destroyed)?
            .state
            .children
            .get(name)
            .ok_or(PoaError::AdapterNonExistent)?;
        let p = table.get(id).ok_or(PoaError::AdapterNonExistent)?;
        Ok(Poa {
            tree: self.tree.clone(),
            shared: p.clone(),
        })
    }

    /// `destroy`, without etherealization (no servant managers). §11.3.8: "This operation
    /// destroys the POA and all descendant POAs. All descendant POAs are destroyed
    /// (recursively) before the destruction of the containing POA. The POA so destroyed (that
    /// is, the POA with its name) may be re-created later in the same process." Every key the
    /// destroyed POAs made stops resolving at once (their table entries move to the next
    /// generation), except persistent ones, which resolve again once the POA is re-created.
    pub fn destroy(&self) -> Result<(), PoaError> {
        let mut released = Vec::new();
        {
            let mut table = self.tree.table.write();
            super::note_change();
            if table.live(self.shared.id).is_none() {
                return Err(PoaError::Destroyed);
            }
            // Pre-order walk, then reversed: every POA comes after all its descendants.
            let mut order = Vec::new();
            let mut stack = vec![self.shared.id];
            while let Some(id) = stack.pop() {
                if let Some(p) = table.live(id) {
                    stack.extend(p.state.children.values().copied());
                    order.push(id);
                }
            }
            for id in order.into_iter().rev() {
                if let Some(mut p) = table.remove(id) {
                    released.extend(p.state.aom.drain());
                    released.extend(p.state.default_servant.take());
                }
            }
            if let Some(parent) = self.shared.parent.and_then(|id| table.live_mut(id)) {
                parent.state.children.remove(&*self.shared.name);
            }
        }
        // Servants' destructors are user code: run them with no lock held.
        drop(released);
        Ok(())
    }

    /// Binds `id` to `servant` after the ServantAlreadyActive check; the caller has checked
    /// ObjectAlreadyActive and the policies.
    fn bind(
        &self,
        st: &mut PoaState<S>,
        id: &[u8],
        servant: S,
        priority: Option<Priority>,
    ) -> Result<Option<SlotHint>, PoaError> {
        if self.shared.policies.unique_id() {
            // "If the POA has the UNIQUE_ID policy and the servant is already in the Active
            // Object Map, the ServantAlreadyActive exception is raised."
            let who = servant.identity();
            if st.by_servant.contains_key(&who) {
                return Err(PoaError::ServantAlreadyActive);
            }
            st.by_servant.insert(who, id.into());
        }
        let who = servant.identity();
        st.aom.insert(id, servant, priority).map_err(|_| {
            if self.shared.policies.unique_id() {
                st.by_servant.remove(&who);
            }
            PoaError::NoResources("the active object map is full")
        })
    }

    /// `activate_object`: activates `servant` under a new system id, which it returns.
    pub fn activate_object(&self, servant: S) -> Result<ObjectId, PoaError> {
        self.activate_object_at(servant, None)
    }

    /// `activate_object`, with the object's own priority if it has one (checked by the caller).
    fn activate_object_at(
        &self,
        servant: S,
        priority: Option<Priority>,
    ) -> Result<ObjectId, PoaError> {
        // "This operation requires the SYSTEM_ID and RETAIN policy; if not present, the
        // WrongPolicy exception is raised."
        let p = &self.shared.policies;
        if !(p.system_id() && p.retain()) {
            return Err(PoaError::WrongPolicy {
                needs: "SYSTEM_ID and RETAIN",
            });
        }
        let mut st = self.write()?;
        let id = self.tree.new_system_id();
        self.bind(&mut st, &id, servant, priority)?;
        Ok(id)
    }

    /// `activate_object_with_id`.
    pub fn activate_object_with_id(&self, id: &[u8], servant: S) -> Result<(), PoaError> {
        self.activate_object_with_id_at(id, servant, None)
    }

    /// `activate_object_with_id`, with the object's own priority if it has one (checked by
    /// the caller).
    fn activate_object_with_id_at(
        &self,
        id: &[u8],
        servant: S,
        priority: Option<Priority>,
    ) -> Result<(), PoaError> {
        // "This operation requires the RETAIN policy; if not present, the WrongPolicy exception
        // is raised."
        if !self.shared.policies.retain() {
            return Err(PoaError::WrongPolicy { needs: "RETAIN" });
        }
        self.check_id(id)?;
        let mut st = self.write()?;
        // "If the CORBA object denoted by the Object Id value is already active in this POA
        // (there is a servant bound to it in the Active Object Map), the ObjectAlreadyActive
        // exception is raised."
        if st.aom.find_by_id(id).is_some() {
            return Err(PoaError::ObjectAlreadyActive);
        }
        self.bind(&mut st, id, servant, priority).map(|_| ())
    }

    /// `deactivate_object`: the object stops being reachable at once (waiting for requests
    /// under way is the ORB's part; etherealization needs servant managers, which rtorb lacks).
    pub fn deactivate_object(&self, id: &[u8]) -> Result<(), PoaError> {
        // "This operation requires the RETAIN policy; if not present, the WrongPolicy exception
        // is raised."
        if !self.shared.policies.retain() {
            return Err(PoaError::WrongPolicy { needs: "RETAIN" });
        }
        let removed = {
            let mut st = self.write()?;
            // "If there is no active object associated with the specified Object Id, the
            // operation raises an ObjectNotActive exception."
            let s = st.aom.remove(id).ok_or(PoaError::ObjectNotActive)?;
            if self.shared.policies.unique_id() {
                st.by_servant.remove(&s.identity());
            }
            s
        };
        drop(removed);
        Ok(())
    }

    /// `create_reference` (as a key): a new system id, not activated.
    pub fn create_reference(&self) -> Result<ObjectKey, PoaError> {
        // "This operation requires the SYSTEM_ID policy; if not present, the WrongPolicy
        // exception is raised."
        if !self.shared.policies.system_id() {
            return Err(PoaError::WrongPolicy { needs: "SYSTEM_ID" });
        }
        drop(self.read()?);
        let id = self.tree.new_system_id();
        Ok(self.make_key(None, &id))
    }

    /// `create_reference_with_id` (as a key), activating nothing. If the id happens to be
    /// active, the key carries its slot hint.
    pub fn create_reference_with_id(&self, id: &[u8]) -> Result<ObjectKey, PoaError> {
        self.check_id(id)?;
        let st = self.read()?;
        let hint = st.aom.find_by_id(id).and_then(|(_, h)| h);
        Ok(self.make_key(hint, id))
    }

    /// servant_to_id's and servant_to_reference's shared rules 1, 2 and 5 (3 and 4 concern
    /// calls made while this POA dispatches a request, which only the ORB's POA Current knows).
    fn servant_id(&self, servant: &S) -> Result<(ObjectId, Option<SlotHint>), PoaError> {
        let p = &self.shared.policies;
        let mut st = self.write()?;
        // "1. If the POA has the UNIQUE_ID policy and the specified servant is active, the
        // Object Id associated with that servant is returned."
        if p.unique_id() {
            if let Some(id) = st.by_servant.get(&servant.identity()) {
                let id = id.to_vec();
                let hint = st.aom.find_by_id(&id).and_then(|(_, h)| h);
                return Ok((id, hint));
            }
        }
        // "2. If the POA has the IMPLICIT_ACTIVATION policy and either the POA has the
        // MULTIPLE_ID policy or the specified servant is not active, the servant is activated
        // using a POA-generated Object Id ... and that Object Id is returned."
        if p.implicit() {
            let id = self.tree.new_system_id();
            let hint = self.bind(&mut st, &id, servant.clone(), None)?;
            return Ok((id, hint));
        }
        // "5. Otherwise, the ServantNotActive exception is raised."
        Err(PoaError::ServantNotActive)
    }

    /// `servant_to_id`.
    pub fn servant_to_id(&self, servant: &S) -> Result<ObjectId, PoaError> {
        // "This operation requires the USE_DEFAULT_SERVANT policy or a combination of the
        // RETAIN policy and either the UNIQUE_ID or IMPLICIT_ACTIVATION policies if invoked
        // outside the context of an operation dispatched by this POA."
        let p = &self.shared.policies;
        if !(p.default_servant() || (p.retain() && (p.unique_id() || p.implicit()))) {
            return Err(PoaError::WrongPolicy {
                needs: "USE_DEFAULT_SERVANT, or RETAIN with UNIQUE_ID or IMPLICIT_ACTIVATION",
            });
        }
        self.servant_id(servant).map(|(id, _)| id)
    }

    /// `servant_to_reference` (as a key).
    pub fn servant_to_reference(&self, servant: &S) -> Result<ObjectKey, PoaError> {
        // "This operation requires the RETAIN policy and either the UNIQUE_ID or
        // IMPLICIT_ACTIVATION policies if invoked outside the context of an operation
        // dispatched by this POA."
        let p = &self.shared.policies;
        if !(p.retain() && (p.unique_id() || p.implicit())) {
            return Err(PoaError::WrongPolicy {
                needs: "RETAIN with UNIQUE_ID or IMPLICIT_ACTIVATION",
            });
        }
        let (id, hint) = self.servant_id(servant)?;
        Ok(self.make_key(hint, &id))
    }

    /// Parses a key and checks this POA made it: "If the object reference was not created by
    /// this POA, the WrongAdapter exception is raised." Returns the key and whether its slot
    /// hint is this POA incarnation's.
    fn own_key<'k>(&self, key: &'k [u8]) -> Result<(ObjectKeyRef<'k>, bool), PoaError> {
        let k = ObjectKeyRef::parse(key).map_err(|_| PoaError::WrongAdapter)?;
        let persistent = self.shared.policies.persistent();
        if k.is_persistent() != persistent {
            return Err(PoaError::WrongAdapter);
        }
        if k.instance_id == self.tree.instance_id && k.poa == self.shared.id {
            return Ok((k, true));
        }
        // A persistent object's key from an earlier process or POA incarnation is this POA's
        // if it names this POA's path.
        if persistent && k.path.map(|p| p.as_bytes()) == Some(&*self.shared.path) {
            return Ok((k, false));
        }
        Err(PoaError::WrongAdapter)
    }

    /// id_to_servant's and reference_to_servant's shared rule.
    fn servant_by_id(&self, hint: Option<SlotHint>, id: &[u8]) -> Result<S, PoaError> {
        let st = self.read()?;
        // "If the POA has the RETAIN policy and the specified object is present in the Active
        // Object Map, this operation returns the servant associated with that object in the
        // Active Object Map. Otherwise, if the POA has the USE_DEFAULT_SERVANT policy and a
        // default servant has been registered with the POA, this operation returns the default
        // servant. ... Otherwise, the ObjectNotActive exception is raised."
        self.shared
            .servant_for(&st, hint, id, self.shared.priority_model(&self.tree))
            .map(|(s, _, _)| s)
            .map_err(|_| PoaError::ObjectNotActive)
    }

    /// `reference_to_servant` (for a key).
    pub fn reference_to_servant(&self, key: &[u8]) -> Result<S, PoaError> {
        // "This operation requires the RETAIN policy or the USE_DEFAULT_SERVANT policy. If
        // neither policy is present, the WrongPolicy exception is raised."
        let p = &self.shared.policies;
        if !(p.retain() || p.default_servant()) {
            return Err(PoaError::WrongPolicy {
                needs: "RETAIN or USE_DEFAULT_SERVANT",
            });
        }
        let (k, hint_valid) = self.own_key(key)?;
        self.servant_by_id(if hint_valid { k.slot } else { None }, k.id)
    }

    /// `reference_to_id` (for a key).
    pub fn reference_to_id(&self, key: &[u8]) -> Result<ObjectId, PoaError> {
        drop(self.read()?);
        let (k, _) = self.own_key(key)?;
        Ok(k.id.to_vec())
    }

    /// `id_to_servant`.
    pub fn id_to_servant(&self, id: &[u8]) -> Result<S, PoaError> {
        // "This operation requires the RETAIN policy or the USE_DEFAULT_SERVANT policy. If
        // neither policy is present, the WrongPolicy exception is raised."
        let p = &self.shared.policies;
        if !(p.retain() || p.default_servant()) {
            return Err(PoaError::WrongPolicy {
                needs: "RETAIN or USE_DEFAULT_SERVANT",
            });
        }
        self.servant_by_id(None, id)
    }

    /// `id_to_reference` (as a key).
    pub fn id_to_reference(&self, id: &[u8]) -> Result<ObjectKey, PoaError> {
        // "This operation requires the RETAIN policy; if not present, the WrongPolicy
        // exception is raised."
        if !self.shared.policies.retain() {
            return Err(PoaError::WrongPolicy { needs: "RETAIN" });
        }
        let st = self.read()?;
        // "If the Object Id value is not active in the POA, an ObjectNotActive exception is
        // raised."
        let (_, hint) = st.aom.find_by_id(id).ok_or(PoaError::ObjectNotActive)?;
        Ok(self.make_key(hint, id))
    }

    /// `get_servant`: the default servant.
    pub fn get_servant(&self) -> Result<S, PoaError> {
        // "This operation requires the USE_DEFAULT_SERVANT policy; if not present, the
        // WrongPolicy exception is raised."
        if !self.shared.policies.default_servant() {
            return Err(PoaError::WrongPolicy {
                needs: "USE_DEFAULT_SERVANT",
            });
        }
        // "If no servant has been associated with the POA, the NoServant exception is raised."
        self.read()?
            .default_servant
            .clone()
            .ok_or(PoaError::NoServant)
    }

    /// `set_servant`: sets (or replaces) the default servant.
    pub fn set_servant(&self, servant: S) -> Result<(), PoaError> {
        // "This operation requires the USE_DEFAULT_SERVANT policy; if not present, the
        // WrongPolicy exception is raised."
        if !self.shared.policies.default_servant() {
            return Err(PoaError::WrongPolicy {
                needs: "USE_DEFAULT_SERVANT",
            });
        }
        let old = self.write()?.default_servant.replace(servant);
        drop(old);
        Ok(())
    }
}
