//! rtorb's object key layout: what a POA puts in the `object_key` of the references it makes,
//! and the borrowed, allocation-free parser that request dispatch runs on every incoming key.
//!
//! The layout is documented on [`ObjectKeyRef`].
//!
//! This module never allocates while parsing and never panics on input: every parse entry point
//! is meant to be fed arbitrary bytes.

/// The first two octets of every key rtorb's POAs make.
pub const KEY_MAGIC: [u8; 2] = [0xD7, 0x52];
/// The layout version this module reads and writes.
pub const KEY_VERSION: u8 = 1;
/// Octets before the object id.
pub const KEY_FIXED_LEN: usize = 32;
/// The slot field's value for "no slot": a reference made without activation, or by a POA
/// whose active object map has no slots.
pub const NO_SLOT: u32 = u32::MAX;

const FLAG_PERSISTENT: u8 = 0x01;
const KNOWN_FLAGS: u8 = FLAG_PERSISTENT;

/// A POA's place in the POA table: the index, and the generation that index had when the POA
/// was created, so that a destroyed POA's key never matches a later POA given the same index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PoaId {
    pub index: u32,
    pub generation: u32,
}

/// An object's place in an active-demultiplexing active object map, as a hint: validated by the
/// generation and by the object id on every lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SlotHint {
    pub index: u32,
    pub generation: u32,
}

/// Why octets are not a well-formed rtorb object key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The octets do not start with [`KEY_MAGIC`]: someone else's key (a well-known name such as
    /// `NameService`, another ORB's key), to be looked up elsewhere.
    #[error("not an rtorb object key (no magic octets)")]
    NotOurs,
    /// An rtorb key of a layout this build does not read.
    #[error("unsupported object key version {found} at octet 2")]
    UnsupportedVersion { found: u8 },
    /// The key ends inside a field.
    #[error("object key truncated in {field} at octet {offset}")]
    Truncated { field: &'static str, offset: usize },
    /// Flag bits this version does not define.
    #[error("unknown object key flags {flags:#04x} at octet 3")]
    UnknownFlags { flags: u8 },
    /// The "no slot" marker with a non-zero generation: no encoder writes that.
    #[error("object key has no slot but a slot generation of {generation}")]
    BadSlot { generation: u32 },
    /// A persistent key must name at least one POA below the root (the root is transient).
    #[error("persistent object key without a POA path at octet {offset}")]
    EmptyPath { offset: usize },
    /// A POA name in the path that is not UTF-8.
    #[error("POA name in object key is not UTF-8 at octet {offset}")]
    BadSegment { offset: usize },
    /// Octets after the end of a transient key.
    #[error("trailing octets after the object key at octet {offset}")]
    TrailingOctets { offset: usize },
}

/// A parsed rtorb object key, borrowing the id and the path from the octets it was read from.
///
/// Layout (version 1; integers big-endian, because a key is opaque octets that travel inside
/// IORs and requests of either byte order, so it carries no byte-order flag of its own):
///
/// | octets        | field                                                              |
/// |---------------|--------------------------------------------------------------------|
/// | 0–1           | magic `0xD7 0x52`: not ASCII, so no textual key (`NameService`) is ours |
/// | 2             | layout version, 1                                                  |
/// | 3             | flags: bit 0 PERSISTENT (a POA path follows the id); others zero   |
/// | 4–11          | ORB instance id: random per [`PoaTree`](super::PoaTree)            |
/// | 12–15         | POA table index                                                    |
/// | 16–19         | POA generation                                                     |
/// | 20–23         | active object map slot; `0xFFFF_FFFF`: no slot (no hint)           |
/// | 24–27         | slot generation (0 when there is no slot)                          |
/// | 28–31         | object id length *n*                                               |
/// | 32–32+*n*     | object id                                                          |
/// | persistent: rest | POA path from the root: per POA, a u16 name length and its UTF-8 name |
///
/// The fixed fields come first so that the fast path (instance id equal to ours: index the POA
/// table, check the generation, index the slot, check the generation, compare the id) never
/// looks at the path; the path sits last and is read lazily, only on the slow path, which is why
/// [`ObjectKeyRef::parse`] costs the same for a POA at depth 1 and at depth 25.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectKeyRef<'a> {
    pub instance_id: u64,
    pub poa: PoaId,
    pub slot: Option<SlotHint>,
    pub id: &'a [u8],
    /// `Some` exactly for keys of PERSISTENT POAs.
    pub path: Option<PoaPath<'a>>,
}

/// The big-endian u32 at `at` of the fixed fields (a constant offset once inlined: no bounds
/// check is left).
#[inline]
fn be32(f: &[u8; KEY_FIXED_LEN], at: usize) -> u32 {
    u32::from_be_bytes([f[at], f[at + 1], f[at + 2], f[at + 3]])
}

/// The fixed fields by first octet, for naming the one a short key ends in.
const FIXED_FIELDS: [(usize, &str); 7] = [
    (2, "version"),
    (3, "flags"),
    (4, "ORB instance id"),
    (12, "POA index"),
    (16, "POA generation"),
    (20, "slot"),
    (24, "slot generation"),
];

impl<'a> ObjectKeyRef<'a> {
    /// Reads the fixed fields and the id, and frames the path without reading its segments
    /// (they are checked as [`PoaPath::segments`] yields them; [`Self::validate`] checks all).
    /// Constant time, whatever the POA's depth: every request runs this, so the fixed fields
    /// are read from one array after a single length check rather than field by field.
    #[inline]
    pub fn parse(b: &'a [u8]) -> Result<Self, KeyError> {
        if b.get(..2) != Some(&KEY_MAGIC[..]) {
            return Err(KeyError::NotOurs);
        }
        let Some((f, rest)) = b.split_first_chunk::<KEY_FIXED_LEN>() else {
            return Err(Self::short(b));
        };
        if f[2] != KEY_VERSION {
            return Err(KeyError::UnsupportedVersion { found: f[2] });
        }
        let flags = f[3];
        if flags & !KNOWN_FLAGS != 0 {
            return Err(KeyError::UnknownFlags { flags });
        }
        let instance_id = u64::from(be32(f, 4)) << 32 | u64::from(be32(f, 8));
        let poa = PoaId {
            index: be32(f, 12),
            generation: be32(f, 16),
        };
        let slot = Self::slot(be32(f, 20), be32(f, 24))?;
        let id_len = be32(f, 28) as usize;
        if id_len > rest.len() {
            return Err(KeyError::Truncated {
                field: "object id",
                offset: KEY_FIXED_LEN,
            });
        }
        let (id, rest) = rest.split_at(id_len);
        let id_end = KEY_FIXED_LEN + id_len;
        let path = if flags & FLAG_PERSISTENT != 0 {
            if rest.is_empty() {
                return Err(KeyError::EmptyPath { offset: id_end });
            }
            Some(PoaPath {
                octets: rest,
                base: id_end,
            })
        } else {
            if !rest.is_empty() {
                return Err(KeyError::TrailingOctets { offset: id_end });
            }
            None
        };
        Ok(ObjectKeyRef {
            instance_id,
            poa,
            slot,
            id,
            path,
        })
    }

    /// The slot fields as a hint; "no slot" must come with generation 0.
    #[inline]
    fn slot(index: u32, generation: u32) -> Result<Option<SlotHint>, KeyError> {
        match (index, generation) {
            (NO_SLOT, 0) => Ok(None),
            (NO_SLOT, generation) => Err(KeyError::BadSlot { generation }),
            (index, generation) => Ok(Some(SlotHint { index, generation })),
        }
    }

    /// Why a key of ours shorter than the fixed fields is malformed: what a reader going field
    /// by field would meet first — a bad version or flags, a bad slot, or the field it ends in.
    #[cold]
    fn short(b: &[u8]) -> KeyError {
        if let Some(&v) = b.get(2).filter(|&&v| v != KEY_VERSION) {
            return KeyError::UnsupportedVersion { found: v };
        }
        if let Some(&flags) = b.get(3).filter(|&&f| f & !KNOWN_FLAGS != 0) {
            return KeyError::UnknownFlags { flags };
        }
        if let Some(s) = b.get(20..28) {
            let word = |at: usize| u32::from_be_bytes([s[at], s[at + 1], s[at + 2], s[at + 3]]);
            if let Err(e) = Self::slot(word(0), word(4)) {
                return e;
            }
        }
        let (offset, field) = FIXED_FIELDS
            .iter()
            .rev()
            .find(|&&(at, _)| at <= b.len())
            .map_or((2, "version"), |&(at, field)| (at, field));
        // Every field but the id length ends before octet 28.
        let (offset, field) = if b.len() >= 28 {
            (28, "object id length")
        } else {
            (offset, field)
        };
        KeyError::Truncated { field, offset }
    }

    /// [`Self::parse`], then every path segment: what a key must pass to be called well formed.
    pub fn parse_strict(b: &'a [u8]) -> Result<Self, KeyError> {
        let key = Self::parse(b)?;
        key.validate()?;
        Ok(key)
    }

    /// Checks the path segments that [`Self::parse`] left for later.
    pub fn validate(&self) -> Result<(), KeyError> {
        match self.path {
            Some(p) => p.validate().map(|_| ()),
            None => Ok(()),
        }
    }

    /// Whether the key was made by a PERSISTENT POA.
    pub fn is_persistent(&self) -> bool {
        self.path.is_some()
    }

    /// The octets of this key, appended to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_key(
            out,
            self.instance_id,
            self.poa,
            self.slot,
            self.id,
            self.path.map(|p| p.octets),
        );
    }
}

/// Appends a key to `out`. `path` is an encoded POA path ([`encode_path`]); `Some` makes the key
/// persistent. The id must be shorter than 4 GiB (the POA checks ids it is given).
pub(crate) fn encode_key(
    out: &mut Vec<u8>,
    instance_id: u64,
    poa: PoaId,
    slot: Option<SlotHint>,
    id: &[u8],
    path: Option<&[u8]>,
) {
    out.reserve(KEY_FIXED_LEN + id.len() + path.map_or(0, <[u8]>::len));
    out.extend_from_slice(&KEY_MAGIC);
    out.push(KEY_VERSION);
    out.push(if path.is_some() { FLAG_PERSISTENT } else { 0 });
    out.extend_from_slice(&instance_id.to_be_bytes());
    out.extend_from_slice(&poa.index.to_be_bytes());
    out.extend_from_slice(&poa.generation.to_be_bytes());
    let (si, sg) = slot.map_or((NO_SLOT, 0), |s| (s.index, s.generation));
    out.extend_from_slice(&si.to_be_bytes());
    out.extend_from_slice(&sg.to_be_bytes());
    out.extend_from_slice(&(id.len() as u32).to_be_bytes());
    out.extend_from_slice(id);
    if let Some(p) = path {
        out.extend_from_slice(p);
    }
}

/// Appends one POA name to an encoded path. `None` if the name is longer than 65,535 octets
/// (the POA refuses such names when they are created).
pub(crate) fn encode_segment(out: &mut Vec<u8>, name: &str) -> Option<()> {
    let len = u16::try_from(name.len()).ok()?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(name.as_bytes());
    Some(())
}

/// Encodes POA names (from the root's child down) as a key's path. `None` if a name is longer
/// than 65,535 octets.
pub fn encode_path<'s>(names: impl IntoIterator<Item = &'s str>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for n in names {
        encode_segment(&mut out, n)?;
    }
    Some(out)
}

/// The POA path of a persistent key: the names from the root POA's child down to the POA that
/// made the key, as sub-slices of the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoaPath<'a> {
    octets: &'a [u8],
    /// Where `octets` starts in the key, for error offsets.
    base: usize,
}

impl<'a> PoaPath<'a> {
    /// Reads encoded path octets (as [`encode_path`] writes them), checking every segment.
    pub fn from_encoded(octets: &'a [u8]) -> Result<Self, KeyError> {
        if octets.is_empty() {
            return Err(KeyError::EmptyPath { offset: 0 });
        }
        let p = PoaPath { octets, base: 0 };
        p.validate()?;
        Ok(p)
    }

    /// The encoded octets, as they are in the key.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.octets
    }

    /// The POA names, outermost first; a malformed segment yields one error and ends the walk.
    pub fn segments(&self) -> PathSegments<'a> {
        PathSegments {
            rest: self.octets,
            offset: self.base,
        }
    }

    /// Checks every segment; returns how many there are.
    pub fn validate(&self) -> Result<usize, KeyError> {
        let mut n = 0;
        for s in self.segments() {
            s?;
            n += 1;
        }
        Ok(n)
    }
}

/// Iterator over a [`PoaPath`]'s names.
#[derive(Clone, Debug)]
pub struct PathSegments<'a> {
    rest: &'a [u8],
    offset: usize,
}

impl<'a> Iterator for PathSegments<'a> {
    type Item = Result<&'a str, KeyError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let at = self.offset;
        let Some(len) = self
            .rest
            .get(..2)
            .and_then(|s| <[u8; 2]>::try_from(s).ok())
            .map(|b| usize::from(u16::from_be_bytes(b)))
        else {
            self.rest = &[];
            return Some(Err(KeyError::Truncated {
                field: "POA name length",
                offset: at,
            }));
        };
        let Some(name) = self.rest.get(2..2 + len) else {
            self.rest = &[];
            return Some(Err(KeyError::Truncated {
                field: "POA name",
                offset: at + 2,
            }));
        };
        self.rest = &self.rest[2 + len..];
        self.offset = at + 2 + len;
        match std::str::from_utf8(name) {
            Ok(s) => Some(Ok(s)),
            Err(_) => {
                self.rest = &[];
                Some(Err(KeyError::BadSegment { offset: at + 2 }))
            }
        }
    }
}
