//! TypeCodes in CDR (CORBA 3.0 §15.3.5.1): a `TCKind` ulong, then nothing, simple parameters or
//! an encapsulation of complex parameters, and indirections for TypeCodes that occur again.
//!
//! Indirections are what make this more than a tree walk. An indirection is the kind
//! 0xffffffff followed by a negative `long`: the distance from that long's own first octet back
//! to the kind of an earlier TypeCode within the same top-level TypeCode. The target may sit in
//! an enclosing encapsulation, so both directions work in absolute stream positions
//! ([`Decoder::offset`], [`Encoder::len`]) rather than positions inside the current
//! encapsulation.
//!
//! Decoding keeps a table of every TypeCode by the absolute offset of its kind, so an
//! indirection resolves to a TypeCode already decoded (a repeated one) or being decoded (a
//! recursive one, which becomes a [`TypeCode::Recursive`]); anything else is an error, which
//! also rules out loops. Encoding does the converse, keyed by node address.

use super::any::{read_discriminator, write_discriminator};
use super::{
    AliasType, ArrayType, EnumType, Named, RecursiveRef, SequenceType, StructMember, StructType,
    TCKind, TypeCode, UnionLabel, UnionMember, UnionType, ValueMember, ValueType,
};
use crate::cdr::{DecodeError, DecodeErrorKind, Decoder, EncodeError, Encoder, ResultExt};
use std::collections::HashMap;
use std::sync::Arc;

/// The kind value that announces an indirection.
pub(super) const INDIRECTION: u32 = 0xffff_ffff;

/// Most nodes a decoded TypeCode may have once its indirections to earlier TypeCodes are
/// expanded. Sharing lets a few octets describe an exponentially large tree; every walk over a
/// TypeCode (comparison, value decoding) is bounded by this instead.
pub const MAX_TYPECODE_NODES: usize = 1 << 16;

/// Recursive references inside a TypeCode that are not bound by a node of that TypeCode.
type Free = Vec<Arc<RecursiveRef>>;

fn merge(into: &mut Free, from: Free) {
    for r in from {
        if !into.iter().any(|x| **x == *r) {
            into.push(r);
        }
    }
}

/// A TypeCode decoded, with what an indirection to it needs to know.
#[derive(Clone)]
struct Decoded {
    tc: TypeCode,
    free: Free,
    /// Nodes in the expanded tree.
    size: usize,
}

impl Decoded {
    fn leaf(tc: TypeCode) -> Decoded {
        Decoded {
            tc,
            free: Vec::new(),
            size: 1,
        }
    }
}

/// A constructed TypeCode whose parameters are being decoded.
struct Open {
    at: usize,
    kind: TCKind,
    /// Known once the repository id, the first parameter, has been read.
    id: Option<String>,
}

/// Decodes one top-level TypeCode.
#[derive(Default)]
pub(super) struct Reader {
    /// Every TypeCode decoded so far, by the absolute offset of its kind: the targets of
    /// indirections to repeated TypeCodes.
    done: HashMap<usize, Decoded>,
    /// The enclosing TypeCodes, outermost first: the targets of recursive indirections.
    open: Vec<Open>,
}

fn invalid(msg: &'static str, at: usize) -> DecodeError {
    DecodeError::new(DecodeErrorKind::Invalid(msg), at)
}

impl Reader {
    pub(super) fn read_top(mut self, dec: &mut Decoder<'_>) -> Result<TypeCode, DecodeError> {
        let d = self.read(dec)?;
        // Every recursive reference is created bound to an open TypeCode, and the outermost one
        // closes them all.
        debug_assert!(d.free.is_empty());
        Ok(d.tc)
    }

    fn read(&mut self, dec: &mut Decoder<'_>) -> Result<Decoded, DecodeError> {
        dec.align(4)?;
        let at = dec.offset();
        let raw = dec.read_ulong().field("kind")?;
        if raw == INDIRECTION {
            return self.indirection(dec).field("indirection");
        }
        let kind = TCKind::from_value(raw)
            .ok_or_else(|| invalid("unknown TCKind", at))
            .field("kind")?;
        let d = match kind {
            TCKind::String => Decoded::leaf(TypeCode::String(dec.read_ulong().field("bound")?)),
            TCKind::WString => Decoded::leaf(TypeCode::WString(dec.read_ulong().field("bound")?)),
            TCKind::Fixed => {
                let digits = dec.read_ushort().field("digits")?;
                let scale = dec.read_short().field("scale")?;
                Decoded::leaf(TypeCode::Fixed { digits, scale })
            }
            _ => match TypeCode::from_kind(kind) {
                Some(tc) => Decoded::leaf(tc),
                None => {
                    let mut body = dec.read_encapsulation().field("parameters")?;
                    self.open.push(Open { at, kind, id: None });
                    let r = self.complex(kind, &mut body);
                    self.open.pop();
                    let mut d = r.field(kind.name())?;
                    body.expect_end().field(kind.name())?;
                    if kind.can_recurse() {
                        // References inside that name this TypeCode are bound here.
                        d.free.retain(|r| !d.tc.binds(r));
                    }
                    d
                }
            },
        };
        if d.size > MAX_TYPECODE_NODES {
            return Err(invalid("TypeCode expands to too many nodes", at));
        }
        self.done.insert(at, d.clone());
        Ok(d)
    }

    /// An indirection is the kind 0xffffffff and a negative long offset from the
    /// offset's own first octet to an earlier TypeCode's kind.
    fn indirection(&mut self, dec: &mut Decoder<'_>) -> Result<Decoded, DecodeError> {
        let at = dec.offset();
        let offset = dec.read_long()?;
        if offset >= 0 {
            // Zero would point at the offset itself; anything positive at what is not decoded
            // yet, which also rules out loops.
            return Err(invalid("TypeCode indirection does not point backwards", at));
        }
        let target = at as i64 + offset as i64;
        if target < 0 {
            return Err(invalid(
                "TypeCode indirection points before the start of the stream",
                at,
            ));
        }
        let target = target as usize;
        if let Some(pos) = self.open.iter().rposition(|o| o.at == target) {
            let o = &self.open[pos];
            if !o.kind.can_recurse() {
                return Err(invalid(
                    "TypeCode indirection to an enclosing anonymous type makes it infinite",
                    at,
                ));
            }
            let id =
                o.id.clone()
                    .ok_or_else(|| invalid("TypeCode indirection to an unfinished type", at))?;
            // The model binds a recursive reference to the innermost enclosing type of the same
            // kind and id; refuse input where that would be another type than the target.
            if self.open[pos + 1..]
                .iter()
                .any(|p| p.kind == o.kind && p.id.as_deref() == Some(id.as_str()))
            {
                return Err(invalid(
                    "recursive TypeCode indirection is shadowed by an inner type with its id",
                    at,
                ));
            }
            let r = Arc::new(RecursiveRef { kind: o.kind, id });
            return Ok(Decoded {
                tc: TypeCode::Recursive(r.clone()),
                free: vec![r],
                size: 1,
            });
        }
        let d = self.done.get(&target).ok_or_else(|| {
            invalid(
                "TypeCode indirection does not point at an enclosing or earlier TypeCode",
                at,
            )
        })?;
        // A repeated TypeCode that refers to its own enclosing types is only meaningful where
        // those types enclose it again.
        let bound = d.free.iter().all(|r| {
            self.open
                .iter()
                .any(|o| o.kind == r.kind && o.id.as_deref() == Some(r.id.as_str()))
        });
        if !bound {
            return Err(invalid(
                "TypeCode indirection repeats a type outside the types it refers to",
                at,
            ));
        }
        Ok(d.clone())
    }

    fn id_and_name(&mut self, body: &mut Decoder<'_>) -> Result<(String, String), DecodeError> {
        let id = body.read_string().field("id")?.into_owned();
        if let Some(o) = self.open.last_mut() {
            o.id = Some(id.clone());
        }
        let name = body.read_string().field("name")?.into_owned();
        Ok((id, name))
    }

    fn member(
        &mut self,
        body: &mut Decoder<'_>,
        size: &mut usize,
        free: &mut Free,
    ) -> Result<TypeCode, DecodeError> {
        let d = self.read(body)?;
        *size = size.saturating_add(d.size);
        merge(free, d.free);
        Ok(d.tc)
    }

    /// The parameters of a kind with an encapsulation, read from `body`.
    fn complex(&mut self, kind: TCKind, body: &mut Decoder<'_>) -> Result<Decoded, DecodeError> {
        let mut size = 1usize;
        let mut free = Free::new();
        let tc = match kind {
            TCKind::ObjRef
            | TCKind::Native
            | TCKind::AbstractInterface
            | TCKind::LocalInterface
            | TCKind::Component
            | TCKind::Home => {
                let (id, name) = self.id_and_name(body)?;
                let n = Arc::new(Named { id, name });
                match kind {
                    TCKind::ObjRef => TypeCode::ObjRef(n),
                    TCKind::Native => TypeCode::Native(n),
                    TCKind::AbstractInterface => TypeCode::AbstractInterface(n),
                    TCKind::LocalInterface => TypeCode::LocalInterface(n),
                    TCKind::Component => TypeCode::Component(n),
                    _ => TypeCode::Home(n),
                }
            }
            TCKind::Struct | TCKind::Except => {
                let (id, name) = self.id_and_name(body)?;
                // Member name (length + NUL) and member TypeCode (its kind).
                let n = body.read_seq_len(5 + 4).field("member_count")?;
                let mut members = Vec::with_capacity(n);
                for _ in 0..n {
                    let name = body.read_string().field("member_name")?.into_owned();
                    let type_code = self
                        .member(body, &mut size, &mut free)
                        .field("member_type")?;
                    members.push(StructMember { name, type_code });
                }
                let s = Arc::new(StructType { id, name, members });
                if kind == TCKind::Struct {
                    TypeCode::Struct(s)
                } else {
                    TypeCode::Except(s)
                }
            }
            TCKind::Union => {
                let (id, name) = self.id_and_name(body)?;
                let discriminator = self
                    .member(body, &mut size, &mut free)
                    .field("discriminator_type")?;
                let at = body.offset();
                let default_index = body.read_long().field("default_index")?;
                // Label (at least an octet), member name, member TypeCode.
                let n = body.read_seq_len(1 + 5 + 4).field("member_count")?;
                if default_index < -1 || (default_index >= 0 && default_index as usize >= n) {
                    return Err(invalid("union default_index is not a member index", at))
                        .field("default_index");
                }
                let mut members = Vec::with_capacity(n);
                for i in 0..n {
                    let at = body.offset();
                    let label = if default_index >= 0 && i == default_index as usize {
                        // "The zero octet is used as the label value for the default member."
                        if body.read_octet().field("member_label")? != 0 {
                            return Err(invalid(
                                "default member's label is not the zero octet",
                                at,
                            ))
                            .field("member_label");
                        }
                        UnionLabel::Default
                    } else {
                        UnionLabel::Value(
                            read_discriminator(body, &discriminator).field("member_label")?,
                        )
                    };
                    let name = body.read_string().field("member_name")?.into_owned();
                    let type_code = self
                        .member(body, &mut size, &mut free)
                        .field("member_type")?;
                    members.push(UnionMember {
                        label,
                        name,
                        type_code,
                    });
                }
                TypeCode::Union(Arc::new(UnionType {
                    id,
                    name,
                    discriminator,
                    members,
                }))
            }
            TCKind::Enum => {
                let (id, name) = self.id_and_name(body)?;
                let n = body.read_seq_len(5).field("member_count")?;
                let mut members = Vec::with_capacity(n);
                for _ in 0..n {
                    members.push(body.read_string().field("member_name")?.into_owned());
                }
                TypeCode::Enum(Arc::new(EnumType { id, name, members }))
            }
            TCKind::Sequence | TCKind::Array => {
                let content = self
                    .member(body, &mut size, &mut free)
                    .field("content_type")?;
                let n = body.read_ulong().field("length")?;
                if kind == TCKind::Sequence {
                    TypeCode::Sequence(Arc::new(SequenceType { content, bound: n }))
                } else {
                    TypeCode::Array(Arc::new(ArrayType { content, length: n }))
                }
            }
            TCKind::Alias | TCKind::ValueBox => {
                let (id, name) = self.id_and_name(body)?;
                let content = self
                    .member(body, &mut size, &mut free)
                    .field("content_type")?;
                let a = Arc::new(AliasType { id, name, content });
                if kind == TCKind::Alias {
                    TypeCode::Alias(a)
                } else {
                    TypeCode::ValueBox(a)
                }
            }
            TCKind::Value | TCKind::Event => {
                let (id, name) = self.id_and_name(body)?;
                let modifier = body.read_short().field("type_modifier")?;
                let concrete_base = self
                    .member(body, &mut size, &mut free)
                    .field("concrete_base")?;
                // Name, TypeCode, visibility.
                let n = body.read_seq_len(5 + 4 + 2).field("member_count")?;
                let mut members = Vec::with_capacity(n);
                for _ in 0..n {
                    let name = body.read_string().field("member_name")?.into_owned();
                    let type_code = self
                        .member(body, &mut size, &mut free)
                        .field("member_type")?;
                    let visibility = body.read_short().field("visibility")?;
                    members.push(ValueMember {
                        name,
                        type_code,
                        visibility,
                    });
                }
                let v = Arc::new(ValueType {
                    id,
                    name,
                    modifier,
                    concrete_base,
                    members,
                });
                if kind == TCKind::Value {
                    TypeCode::Value(v)
                } else {
                    TypeCode::Event(v)
                }
            }
            // `read` handles the kinds with empty or simple parameter lists itself.
            _ => {
                return Err(invalid(
                    "TypeCode kind has no encapsulated parameters",
                    body.offset(),
                ))
            }
        };
        Ok(Decoded { tc, free, size })
    }
}

/// Encodes one top-level TypeCode.
#[derive(Default)]
pub(super) struct Writer<'t> {
    /// Enclosing TypeCodes that recursive references may point at: (kind offset, kind, id).
    open: Vec<(usize, TCKind, &'t str)>,
    /// Constructed TypeCodes written so far, by node address: where, and what they refer to.
    done: HashMap<usize, (usize, Free)>,
}

impl<'t> Writer<'t> {
    fn bound(&self, free: &Free) -> bool {
        free.iter().all(|r| {
            self.open
                .iter()
                .any(|&(_, kind, id)| kind == r.kind && id == r.id)
        })
    }

    /// The offset is measured from its own first octet to the target's kind, both as
    /// positions in the stream the decoder will measure in: encapsulations are written inline,
    /// and fragment headers, which the receiver strips, do not count
    /// ([`Encoder::stream_position`]).
    fn indirection(enc: &mut Encoder, target: usize) -> Result<(), EncodeError> {
        enc.write_ulong(INDIRECTION);
        // Placed first: a fragment may begin before it, which moves where it is.
        let slot = enc.reserve_ulong();
        let at = enc.stream_position() - 4;
        let offset = i32::try_from(target as i64 - at as i64)
            .map_err(|_| EncodeError::Invalid("TypeCode indirection offset exceeds a long"))?;
        enc.patch_ulong(slot, offset as u32);
        Ok(())
    }

    /// Writes `tc`, returning the recursive references in it that it does not bind itself.
    pub(super) fn write(
        &mut self,
        enc: &mut Encoder,
        tc: &'t TypeCode,
    ) -> Result<Free, EncodeError> {
        if let TypeCode::Recursive(r) = tc {
            let target = self
                .open
                .iter()
                .rev()
                .find(|&&(_, kind, id)| kind == r.kind && id == r.id)
                .map(|&(at, _, _)| at)
                .ok_or(EncodeError::Invalid(
                    "recursive TypeCode has no enclosing type of its kind and repository id",
                ))?;
            Self::indirection(enc, target)?;
            return Ok(vec![r.clone()]);
        }
        let address = tc.node_address();
        if let Some((target, free)) = address.and_then(|a| self.done.get(&a)) {
            if self.bound(free) {
                let (target, free) = (*target, free.clone());
                Self::indirection(enc, target)?;
                return Ok(free);
            }
        }
        enc.write_ulong(tc.kind().value());
        let at = enc.stream_position() - 4;
        let mut free = Free::new();
        match tc {
            TypeCode::String(b) | TypeCode::WString(b) => enc.write_ulong(*b),
            TypeCode::Fixed { digits, scale } => {
                enc.write_ushort(*digits);
                enc.write_short(*scale);
            }
            _ if address.is_some() => {
                let binds = tc.kind().can_recurse();
                if binds {
                    self.open.push((at, tc.kind(), tc.id().unwrap_or_default()));
                }
                let r = enc.write_encapsulation(|e| self.params(e, tc, &mut free));
                if binds {
                    self.open.pop();
                    free.retain(|r| !tc.binds(r));
                }
                r?;
            }
            _ => {}
        }
        if let Some(a) = address {
            self.done.insert(a, (at, free.clone()));
        }
        Ok(free)
    }

    fn member(
        &mut self,
        enc: &mut Encoder,
        tc: &'t TypeCode,
        free: &mut Free,
    ) -> Result<(), EncodeError> {
        let f = self.write(enc, tc)?;
        merge(free, f);
        Ok(())
    }

    fn params(
        &mut self,
        enc: &mut Encoder,
        tc: &'t TypeCode,
        free: &mut Free,
    ) -> Result<(), EncodeError> {
        use TypeCode as T;
        match tc {
            T::ObjRef(n)
            | T::Native(n)
            | T::AbstractInterface(n)
            | T::LocalInterface(n)
            | T::Component(n)
            | T::Home(n) => {
                enc.write_string(&n.id)?;
                enc.write_string(&n.name)?;
            }
            T::Struct(s) | T::Except(s) => {
                enc.write_string(&s.id)?;
                enc.write_string(&s.name)?;
                enc.write_length(s.members.len())?;
                for m in &s.members {
                    enc.write_string(&m.name)?;
                    self.member(enc, &m.type_code, free)?;
                }
            }
            T::Union(u) => {
                enc.write_string(&u.id)?;
                enc.write_string(&u.name)?;
                self.member(enc, &u.discriminator, free)?;
                let defaults = u
                    .members
                    .iter()
                    .filter(|m| m.label == UnionLabel::Default)
                    .count();
                if defaults > 1 {
                    return Err(EncodeError::Invalid(
                        "union has more than one default member",
                    ));
                }
                let default_index = u.default_index().map_or(Ok(-1), |i| {
                    i32::try_from(i).map_err(|_| EncodeError::TooLong(i))
                })?;
                enc.write_long(default_index);
                enc.write_length(u.members.len())?;
                for m in &u.members {
                    match &m.label {
                        UnionLabel::Default => enc.write_octet(0),
                        UnionLabel::Value(v) => write_discriminator(enc, &u.discriminator, v)?,
                    }
                    enc.write_string(&m.name)?;
                    self.member(enc, &m.type_code, free)?;
                }
            }
            T::Enum(e) => {
                enc.write_string(&e.id)?;
                enc.write_string(&e.name)?;
                enc.write_length(e.members.len())?;
                for m in &e.members {
                    enc.write_string(m)?;
                }
            }
            T::Sequence(s) => {
                self.member(enc, &s.content, free)?;
                enc.write_ulong(s.bound);
            }
            T::Array(a) => {
                self.member(enc, &a.content, free)?;
                enc.write_ulong(a.length);
            }
            T::Alias(a) | T::ValueBox(a) => {
                enc.write_string(&a.id)?;
                enc.write_string(&a.name)?;
                self.member(enc, &a.content, free)?;
            }
            T::Value(v) | T::Event(v) => {
                enc.write_string(&v.id)?;
                enc.write_string(&v.name)?;
                enc.write_short(v.modifier);
                self.member(enc, &v.concrete_base, free)?;
                enc.write_length(v.members.len())?;
                for m in &v.members {
                    enc.write_string(&m.name)?;
                    self.member(enc, &m.type_code, free)?;
                    enc.write_short(m.visibility);
                }
            }
            _ => {}
        }
        Ok(())
    }
}
