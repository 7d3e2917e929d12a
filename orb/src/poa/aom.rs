//! Active object maps: object id → servant (and the object's own RT-CORBA priority, if it was
//! activated with one), in the three strategies a POA can choose ([`AomStrategy`]). They know
//! nothing of policies or locks; the POA calls them under its lock and has already checked that
//! an id is absent before inserting it.

use std::collections::HashMap;

use super::key::{SlotHint, NO_SLOT};
use super::policy::AomStrategy;
use crate::rt::Priority;

/// Object ids up to this long are kept in the slot and compared there: system ids (16 octets)
/// and the ids rtorb's own services choose fit. A longer id is checked through `by_id` (one
/// hash), which keeps every slot at 32 octets instead of paying for rare long ids in all of
/// them.
const INLINE_ID: usize = 16;

/// `Tag::id_len` of a free slot. No id in a slot is that long: ids are checked to be shorter
/// than 4 GiB, and `Body::servant` is `None` besides.
const VACANT: u32 = u32::MAX;

/// The half of a slot a lookup checks first, 8 octets so that the tags of 100,000 objects
/// (800 KB) stay in a core's L2 cache.
#[derive(Clone, Copy)]
struct Tag {
    /// Bumped at every deactivation: keys to an earlier occupant carry an older one.
    generation: u32,
    /// The occupant's id length, or [`VACANT`].
    id_len: u32,
}

/// The other half: the servant and the id that must match. Aligned so that one never straddles
/// two cache lines; with `Tag` in its own array, both loads of a lookup are issued at once
/// (their addresses depend on the slot index alone), instead of one after the other.
#[repr(align(32))]
struct Body<S> {
    servant: Option<S>,
    /// The id's octets when it is at most [`INLINE_ID`] long, zero-padded; zeros otherwise.
    id: [u8; INLINE_ID],
}

/// Active demultiplexing (TAO): a key's slot index names the entry directly; the generation,
/// bumped at every deactivation, makes a key to an earlier occupant miss; the id kept in the slot
/// is compared too, so a key can only ever reach the object it names.
///
/// Layout: a slot is split between `tags` and `bodies` (same index); a lookup reads one tag
/// and one body, with no pointer to follow but the servant handle it clones.
pub(crate) struct DemuxMap<S> {
    tags: Vec<Tag>,
    bodies: Vec<Body<S>>,
    /// Each slot's own RT-CORBA priority (`activate_object_with_priority`), in an array of its
    /// own so that slots stay 8 + 32 octets: only lookups in SERVER_DECLARED POAs read it.
    priorities: Vec<Option<Priority>>,
    /// Free slots, most recently freed last: reuse is LIFO, which keeps the table dense.
    free: Vec<u32>,
    /// For operations by id (activate_object_with_id, deactivate_object, id_to_servant), for
    /// keys whose slot hint is stale or absent, and to check ids longer than [`INLINE_ID`].
    by_id: HashMap<Box<[u8]>, u32>,
}

impl<S> DemuxMap<S> {
    fn new() -> Self {
        DemuxMap {
            tags: Vec::new(),
            bodies: Vec::new(),
            priorities: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
        }
    }

    fn insert(&mut self, id: &[u8], servant: S, priority: Option<Priority>) -> Result<SlotHint, S> {
        let Ok(id_len) = u32::try_from(id.len()) else {
            return Err(servant);
        };
        let index = match self.free.pop() {
            Some(i) => i,
            None => match u32::try_from(self.tags.len()) {
                // Index NO_SLOT is the keys' "no slot" marker; memory runs out long before.
                Ok(i) if i != NO_SLOT => {
                    self.tags.push(Tag {
                        generation: 0,
                        id_len: VACANT,
                    });
                    self.bodies.push(Body {
                        servant: None,
                        id: [0; INLINE_ID],
                    });
                    self.priorities.push(None);
                    i
                }
                _ => return Err(servant),
            },
        };
        let (tag, body) = (
            &mut self.tags[index as usize],
            &mut self.bodies[index as usize],
        );
        tag.id_len = id_len;
        body.id = [0; INLINE_ID];
        if let Some(inline) = body.id.get_mut(..id.len()) {
            inline.copy_from_slice(id);
        }
        body.servant = Some(servant);
        if let Some(p) = self.priorities.get_mut(index as usize) {
            *p = priority;
        }
        self.by_id.insert(id.into(), index);
        Ok(SlotHint {
            index,
            generation: tag.generation,
        })
    }

    fn remove(&mut self, id: &[u8]) -> Option<S> {
        let index = self.by_id.remove(id)?;
        let (tag, body) = (
            self.tags.get_mut(index as usize)?,
            self.bodies.get_mut(index as usize)?,
        );
        let servant = body.servant.take()?;
        body.id = [0; INLINE_ID];
        if let Some(p) = self.priorities.get_mut(index as usize) {
            *p = None;
        }
        tag.id_len = VACANT;
        // A new generation makes every key to this occupant miss from now on. A slot whose
        // generation would wrap is retired rather than reused, so that no key made 2^32
        // occupants ago can ever match again.
        tag.generation = tag.generation.wrapping_add(1);
        if tag.generation != u32::MAX {
            self.free.push(index);
        }
        Some(servant)
    }

    fn find_by_id(&self, id: &[u8]) -> Option<(&S, SlotHint)> {
        let index = *self.by_id.get(id)?;
        let servant = self.bodies.get(index as usize)?.servant.as_ref()?;
        let generation = self.tags.get(index as usize)?.generation;
        Some((servant, SlotHint { index, generation }))
    }

    /// The servant in the hinted slot if the slot still holds this occupant (generation) and
    /// the occupant is the object the key names (id).
    #[inline]
    fn find_by_hint(&self, hint: SlotHint, id: &[u8]) -> Option<&S> {
        let i = hint.index as usize;
        let (tag, body) = (self.tags.get(i)?, self.bodies.get(i)?);
        if tag.generation != hint.generation || tag.id_len as usize != id.len() {
            return None;
        }
        let same_id = match <&[u8; INLINE_ID]>::try_from(id) {
            // The common case, a system id: a fixed-size compare, no call to memcmp.
            Ok(full) => body.id == *full,
            Err(_) if id.len() < INLINE_ID => body.id[..id.len()] == *id,
            Err(_) => self.by_id.get(id) == Some(&hint.index),
        };
        if same_id {
            body.servant.as_ref()
        } else {
            None
        }
    }

    /// The own priority of the object in slot `index` (one whose servant was just found).
    #[inline]
    fn priority_at(&self, index: u32) -> Option<Priority> {
        self.priorities.get(index as usize).copied().flatten()
    }

    fn drain(&mut self) -> Vec<S> {
        self.by_id.clear();
        self.free.clear();
        self.tags.clear();
        self.priorities.clear();
        self.bodies.drain(..).filter_map(|b| b.servant).collect()
    }
}

/// An entry of the linear and hash maps: the servant and the object's own priority.
pub(crate) struct Entry<S> {
    servant: S,
    priority: Option<Priority>,
}

pub(crate) enum ActiveObjectMap<S> {
    Demux(DemuxMap<S>),
    Linear(Vec<(Box<[u8]>, Entry<S>)>),
    Hash(HashMap<Box<[u8]>, Entry<S>>),
}

impl<S> ActiveObjectMap<S> {
    pub(crate) fn new(strategy: AomStrategy) -> Self {
        match strategy {
            AomStrategy::ActiveDemux => ActiveObjectMap::Demux(DemuxMap::new()),
            AomStrategy::Linear => ActiveObjectMap::Linear(Vec::new()),
            AomStrategy::DynamicHash => ActiveObjectMap::Hash(HashMap::new()),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            ActiveObjectMap::Demux(m) => m.by_id.len(),
            ActiveObjectMap::Linear(v) => v.len(),
            ActiveObjectMap::Hash(h) => h.len(),
        }
    }

    /// Binds `id`, with the object's own priority if it has one, which the caller has checked
    /// is not bound; returns the slot hint for keys, or gives the servant back if the map has
    /// no slot left (2^32 - 1 of them, which memory runs out long before; index NO_SLOT is the
    /// keys' "no slot" marker).
    pub(crate) fn insert(
        &mut self,
        id: &[u8],
        servant: S,
        priority: Option<Priority>,
    ) -> Result<Option<SlotHint>, S> {
        match self {
            ActiveObjectMap::Demux(m) => m.insert(id, servant, priority).map(Some),
            ActiveObjectMap::Linear(v) => {
                v.push((id.into(), Entry { servant, priority }));
                Ok(None)
            }
            ActiveObjectMap::Hash(h) => {
                h.insert(id.into(), Entry { servant, priority });
                Ok(None)
            }
        }
    }

    /// Unbinds `id`, returning its servant.
    pub(crate) fn remove(&mut self, id: &[u8]) -> Option<S> {
        match self {
            ActiveObjectMap::Demux(m) => m.remove(id),
            ActiveObjectMap::Linear(v) => {
                let at = v.iter().position(|(i, _)| &**i == id)?;
                Some(v.swap_remove(at).1.servant)
            }
            ActiveObjectMap::Hash(h) => h.remove(id).map(|e| e.servant),
        }
    }

    /// The servant bound to `id`, and its slot hint for keys.
    pub(crate) fn find_by_id(&self, id: &[u8]) -> Option<(&S, Option<SlotHint>)> {
        match self {
            ActiveObjectMap::Demux(m) => m.find_by_id(id).map(|(s, h)| (s, Some(h))),
            ActiveObjectMap::Linear(v) => v
                .iter()
                .find(|(i, _)| &**i == id)
                .map(|(_, e)| (&e.servant, None)),
            ActiveObjectMap::Hash(h) => h.get(id).map(|e| (&e.servant, None)),
        }
    }

    /// The own priority of the object bound to `id` (`None`: it has none, or is not active).
    pub(crate) fn priority_by_id(&self, id: &[u8]) -> Option<Priority> {
        match self {
            ActiveObjectMap::Demux(m) => m.priority_at(*m.by_id.get(id)?),
            ActiveObjectMap::Linear(v) => v.iter().find(|(i, _)| &**i == id)?.1.priority,
            ActiveObjectMap::Hash(h) => h.get(id)?.priority,
        }
    }

    /// The request path: the slot named by the hint if it still holds `id`, else by id.
    #[inline]
    pub(crate) fn find_by_key(&self, hint: Option<SlotHint>, id: &[u8]) -> Option<&S> {
        if let (ActiveObjectMap::Demux(m), Some(h)) = (self, hint) {
            if let Some(s) = m.find_by_hint(h, id) {
                return Some(s);
            }
        }
        // A stale or absent hint: the object may have been reactivated under the same id in
        // another slot (the same CORBA object), or be gone (no entry: OBJECT_NOT_EXIST).
        self.find_by_id(id).map(|(s, _)| s)
    }

    /// [`ActiveObjectMap::find_by_key`] with the object's own priority: the request path of
    /// SERVER_DECLARED POAs, where the entry found carries the priority the request runs at
    /// (one more array read, no second lookup).
    #[inline]
    pub(crate) fn find_with_priority(
        &self,
        hint: Option<SlotHint>,
        id: &[u8],
    ) -> Option<(&S, Option<Priority>)> {
        if let (ActiveObjectMap::Demux(m), Some(h)) = (self, hint) {
            if let Some(s) = m.find_by_hint(h, id) {
                return Some((s, m.priority_at(h.index)));
            }
        }
        match self {
            ActiveObjectMap::Demux(m) => {
                let index = *m.by_id.get(id)?;
                let s = m.bodies.get(index as usize)?.servant.as_ref()?;
                Some((s, m.priority_at(index)))
            }
            ActiveObjectMap::Linear(v) => v
                .iter()
                .find(|(i, _)| &**i == id)
                .map(|(_, e)| (&e.servant, e.priority)),
            ActiveObjectMap::Hash(h) => h.get(id).map(|e| (&e.servant, e.priority)),
        }
    }

    /// Empties the map, handing the servants back so the caller can drop them outside its lock.
    pub(crate) fn drain(&mut self) -> Vec<S> {
        match self {
            ActiveObjectMap::Demux(m) => m.drain(),
            ActiveObjectMap::Linear(v) => v.drain(..).map(|(_, e)| e.servant).collect(),
            ActiveObjectMap::Hash(h) => h.drain().map(|(_, e)| e.servant).collect(),
        }
    }
}
