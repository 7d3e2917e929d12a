//! Active object maps: object id → servant, in the three strategies a POA can choose
//! ([`AomStrategy`]). They know nothing of policies or locks; the POA calls them under its lock
//! and has already checked that an id is absent before inserting it.

use std::collections::HashMap;

use super::key::SlotHint;
use super::policy::AomStrategy;

/// Object ids up to this long live inside the slot, so that checking a key's id against a slot
/// touches no other cache line: system ids (16 octets) and most user ids fit.
const INLINE_ID: usize = 22;

/// An object id stored in a slot: inline when short, boxed otherwise.
#[derive(Clone, Debug)]
enum IdBuf {
    Inline { len: u8, octets: [u8; INLINE_ID] },
    Heap(Box<[u8]>),
}

impl IdBuf {
    fn new(id: &[u8]) -> Self {
        if id.len() <= INLINE_ID {
            let mut octets = [0; INLINE_ID];
            octets[..id.len()].copy_from_slice(id);
            IdBuf::Inline {
                len: id.len() as u8,
                octets,
            }
        } else {
            IdBuf::Heap(id.into())
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            IdBuf::Inline { len, octets } => &octets[..usize::from(*len)],
            IdBuf::Heap(b) => b,
        }
    }
}

struct Entry<S> {
    id: IdBuf,
    servant: S,
}

struct Slot<S> {
    generation: u32,
    entry: Option<Entry<S>>,
}

/// Active demultiplexing (TAO): a key's slot index names the entry directly; the generation,
/// bumped at every deactivation, makes a key to an earlier occupant miss; the id kept in the slot
/// is compared too, so a key can only ever reach the object it names.
pub(crate) struct DemuxMap<S> {
    slots: Vec<Slot<S>>,
    /// Free slots, most recently freed last: reuse is LIFO, which keeps the table dense.
    free: Vec<u32>,
    /// For operations by id (activate_object_with_id, deactivate_object, id_to_servant) and
    /// for keys whose slot hint is stale or absent.
    by_id: HashMap<Box<[u8]>, u32>,
}

pub(crate) enum ActiveObjectMap<S> {
    Demux(DemuxMap<S>),
    Linear(Vec<(Box<[u8]>, S)>),
    Hash(HashMap<Box<[u8]>, S>),
}

impl<S> ActiveObjectMap<S> {
    pub(crate) fn new(strategy: AomStrategy) -> Self {
        match strategy {
            AomStrategy::ActiveDemux => ActiveObjectMap::Demux(DemuxMap {
                slots: Vec::new(),
                free: Vec::new(),
                by_id: HashMap::new(),
            }),
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

    /// Binds `id`, which the caller has checked is not bound; returns the slot hint for keys,
    /// or gives the servant back if the map has no slot left (2^32 - 1 of them, which memory
    /// runs out long before; index NO_SLOT is the keys' "no slot" marker).
    pub(crate) fn insert(&mut self, id: &[u8], servant: S) -> Result<Option<SlotHint>, S> {
        match self {
            ActiveObjectMap::Demux(m) => {
                let index = match m.free.pop() {
                    Some(i) => i,
                    None => match u32::try_from(m.slots.len()) {
                        Ok(i) if i != super::key::NO_SLOT => {
                            m.slots.push(Slot {
                                generation: 0,
                                entry: None,
                            });
                            i
                        }
                        _ => return Err(servant),
                    },
                };
                let slot = &mut m.slots[index as usize];
                slot.entry = Some(Entry {
                    id: IdBuf::new(id),
                    servant,
                });
                m.by_id.insert(id.into(), index);
                Ok(Some(SlotHint {
                    index,
                    generation: slot.generation,
                }))
            }
            ActiveObjectMap::Linear(v) => {
                v.push((id.into(), servant));
                Ok(None)
            }
            ActiveObjectMap::Hash(h) => {
                h.insert(id.into(), servant);
                Ok(None)
            }
        }
    }

    /// Unbinds `id`, returning its servant.
    pub(crate) fn remove(&mut self, id: &[u8]) -> Option<S> {
        match self {
            ActiveObjectMap::Demux(m) => {
                let index = m.by_id.remove(id)?;
                let slot = m.slots.get_mut(index as usize)?;
                let entry = slot.entry.take()?;
                // A new generation makes every key to this occupant miss from now on. A slot
                // whose generation would wrap is retired rather than reused, so that no key
                // made 2^32 occupants ago can ever match again.
                slot.generation = slot.generation.wrapping_add(1);
                if slot.generation != u32::MAX {
                    m.free.push(index);
                }
                Some(entry.servant)
            }
            ActiveObjectMap::Linear(v) => {
                let at = v.iter().position(|(i, _)| &**i == id)?;
                Some(v.swap_remove(at).1)
            }
            ActiveObjectMap::Hash(h) => h.remove(id),
        }
    }

    /// The servant bound to `id`, and its slot hint for keys.
    pub(crate) fn find_by_id(&self, id: &[u8]) -> Option<(&S, Option<SlotHint>)> {
        match self {
            ActiveObjectMap::Demux(m) => {
                let index = *m.by_id.get(id)?;
                let slot = m.slots.get(index as usize)?;
                let e = slot.entry.as_ref()?;
                Some((
                    &e.servant,
                    Some(SlotHint {
                        index,
                        generation: slot.generation,
                    }),
                ))
            }
            ActiveObjectMap::Linear(v) => {
                v.iter().find(|(i, _)| &**i == id).map(|(_, s)| (s, None))
            }
            ActiveObjectMap::Hash(h) => h.get(id).map(|s| (s, None)),
        }
    }

    /// The request path: the slot named by the hint if it still holds `id`, else by id.
    #[inline]
    pub(crate) fn find_by_key(&self, hint: Option<SlotHint>, id: &[u8]) -> Option<&S> {
        if let (ActiveObjectMap::Demux(m), Some(h)) = (self, hint) {
            if let Some(Slot {
                generation,
                entry: Some(e),
            }) = m.slots.get(h.index as usize)
            {
                if *generation == h.generation && e.id.as_slice() == id {
                    return Some(&e.servant);
                }
            }
        }
        // A stale or absent hint: the object may have been reactivated under the same id in
        // another slot (the same CORBA object), or be gone (no entry: OBJECT_NOT_EXIST).
        self.find_by_id(id).map(|(s, _)| s)
    }

    /// Empties the map, handing the servants back so the caller can drop them outside its lock.
    pub(crate) fn drain(&mut self) -> Vec<S> {
        match self {
            ActiveObjectMap::Demux(m) => {
                m.by_id.clear();
                m.free.clear();
                m.slots
                    .drain(..)
                    .filter_map(|s| s.entry.map(|e| e.servant))
                    .collect()
            }
            ActiveObjectMap::Linear(v) => v.drain(..).map(|(_, s)| s).collect(),
            ActiveObjectMap::Hash(h) => h.drain().map(|(_, s)| s).collect(),
        }
    }
}
