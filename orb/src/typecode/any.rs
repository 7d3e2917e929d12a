//! `any` (CORBA 3.0 §15.3.5.2): "encoded as a TypeCode followed by the encoded value".
//!
//! [`Value`] is a dynamic value, shaped by a TypeCode but not carrying one, so that whatever a
//! peer puts in an `any` can be decoded and re-encoded unchanged without generated code. The
//! TypeCode drives both directions: a union's discriminator picks the member that follows, an
//! alias is read as its content, a recursive reference as the enclosing type it names.
//!
//! Value types (§15.3.4) go through [`crate::cdr::value`]'s framing: null, value tags with or
//! without a codebase URL and one or a list of repository ids (indirections to earlier ones
//! resolved), chunked state with nested values and end tags, truncation of a derived
//! truncatable value to the TypeCode's type, and shared values: an instance that appears again
//! in the same `any` (a shared node, a cycle) is [`Value::SharedValue`], so the graph survives
//! decoding and re-encoding.

use super::{EnumType, TCKind, TypeCode};
use crate::cdr::value::{TypeInfoRef, ValueDecoder, ValueEncoder, ValueStart};
use crate::cdr::{
    ByteOrder, CdrDecode, CdrEncode, CodeSetId, CodeSets, DecodeError, DecodeErrorKind, Decoder,
    EncodeError, Encoder, Fixed, GiopVersion, LongDouble, ResultExt, WChar, WString,
};
use crate::iop::Ior;
use std::collections::HashMap;

/// A value of some IDL type; which one is said by the TypeCode it travels with.
///
/// An alias's value is its content type's value. Octet sequences, octet arrays and
/// `Principal`s are held as [`Value::Octets`] (decoding never produces a `Sequence` of
/// `Octet`s, encoding accepts both).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Void,
    Short(i16),
    Long(i32),
    UShort(u16),
    ULong(u32),
    LongLong(i64),
    ULongLong(u64),
    Float(f32),
    Double(f64),
    LongDouble(LongDouble),
    Boolean(bool),
    Char(char),
    WChar(char),
    Octet(u8),
    /// Boxed because its `i128` would double the size of every `Value`.
    Fixed(Box<Fixed>),
    String(String),
    WString(String),
    /// The index of an enumerator.
    Enum(u32),
    /// The members of a struct or exception, in order (an exception's repository id is in
    /// its TypeCode).
    Struct(Vec<Value>),
    Union(Box<UnionValue>),
    Sequence(Vec<Value>),
    Array(Vec<Value>),
    Octets(Vec<u8>),
    Any(Box<Any>),
    TypeCode(TypeCode),
    /// An object reference (also a component or home reference, or an abstract interface
    /// holding a reference); a nil reference is an IOR without profiles.
    ObjRef(Box<Ior>),
    /// A value type, value box or event instance; `None` is the null value.
    Valuetype(Option<Box<ValueInstance>>),
    /// A value type instance that already appeared in this value (sharing, or a cycle when it
    /// encloses this place): the `n`th instance from 0, counted in the order their value tags
    /// are written — depth first, an instance before the instances in its state.
    SharedValue(u32),
}

/// A union's value.
#[derive(Clone, Debug, PartialEq)]
pub struct UnionValue {
    pub discriminator: Value,
    /// The selected member's index and value; `None` when no label matches and there is no
    /// default member.
    pub member: Option<(usize, Value)>,
}

/// A non-null value type instance.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueInstance {
    /// The codebase URL sent with the value, if any.
    pub codebase: Option<String>,
    pub type_info: ValueTypeInfo,
    /// The state: the members of the root base type first, down to the most derived type's;
    /// for a value box, the one boxed value.
    pub state: Vec<Value>,
}

pub use crate::cdr::ValueTypeInfo;

/// An IDL `any`: a TypeCode and a value of that type.
#[derive(Clone, Debug, PartialEq)]
pub struct Any {
    type_code: TypeCode,
    value: Value,
}

impl Default for Any {
    /// An empty `any`: `tk_null`.
    fn default() -> Any {
        Any {
            type_code: TypeCode::Null,
            value: Value::Null,
        }
    }
}

impl Any {
    /// Pairs `value` with `type_code`, checking that the value has the type: the shape, enum
    /// ranges, union member selection, string and sequence bounds, that recursive references
    /// have an enclosing type. (Whether characters fit a code set is for encoding to tell.)
    pub fn new(type_code: TypeCode, value: Value) -> Result<Any, EncodeError> {
        let mut scratch = Encoder::new(ByteOrder::NATIVE);
        scratch.set_codesets(CodeSets {
            char: CodeSetId::UTF_8,
            wchar: CodeSetId::UTF_16,
        });
        type_code.encode(&mut scratch)?;
        ValueWriter {
            check_only: true,
            ..ValueWriter::default()
        }
        .write(&mut scratch, &type_code, &value)?;
        Ok(Any { type_code, value })
    }

    /// Pairs a value with its TypeCode when the value was just read by that TypeCode, so
    /// needs no check.
    pub(super) fn from_checked_parts(type_code: TypeCode, value: Value) -> Any {
        Any { type_code, value }
    }

    pub fn type_code(&self) -> &TypeCode {
        &self.type_code
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    pub fn into_parts(self) -> (TypeCode, Value) {
        (self.type_code, self.value)
    }

    /// Reads a value of type `type_code` that travels without its TypeCode (an operation's
    /// argument or result, an exception's members), as [`Any`] decoding reads the value part.
    pub fn read_value(type_code: TypeCode, dec: &mut Decoder<'_>) -> Result<Any, DecodeError> {
        let value = ValueReader::new(dec.remaining()).read(dec, &type_code)?;
        Ok(Any { type_code, value })
    }

    /// Reads values of `type_codes` that travel one after another without their TypeCodes in
    /// one message body (an operation's arguments; a result and its out values), as one
    /// stream (§15.3.4.3): a value tag, repository id or codebase URL may be an indirection
    /// to one in an earlier value. omniORB sends a value passed as two arguments as the value
    /// and an indirection to it. Each `any` holds its own values, so a value met again in a
    /// later one is read as a copy of what it reaches (its sharing and cycles kept, as a
    /// graph of the later `any`'s own).
    pub fn read_values(
        type_codes: &[TypeCode],
        dec: &mut Decoder<'_>,
    ) -> Result<Vec<Any>, DecodeError> {
        let mut reader = ValueReader::new(dec.remaining());
        for tc in type_codes {
            let value = reader.read(dec, tc)?;
            reader.finish_parameter(value);
        }
        Ok(type_codes
            .iter()
            .cloned()
            .zip(reader.earlier)
            .map(|(type_code, earlier)| Any {
                type_code,
                value: earlier.value,
            })
            .collect())
    }

    /// Writes the value alone, without the TypeCode (the other half of [`Any::read_value`]).
    pub fn write_value(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        ValueWriter::default().write(enc, &self.type_code, &self.value)
    }

    /// Decodes an `any` that fills `bytes` (GIOP 1.2 rules, default code sets). Never panics.
    pub fn decode_from_slice(bytes: &[u8], order: ByteOrder) -> Result<Any, DecodeError> {
        crate::cdr::decode_from_slice(bytes, order)
    }

    /// A string (bounded or not).
    pub fn as_str(&self) -> Option<&str> {
        match (self.type_code.unalias(), &self.value) {
            (TypeCode::String(_), Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// A wide string (bounded or not).
    pub fn as_wstr(&self) -> Option<&str> {
        match (self.type_code.unalias(), &self.value) {
            (TypeCode::WString(_), Value::WString(s)) => Some(s),
            _ => None,
        }
    }

    pub fn as_wchar(&self) -> Option<char> {
        match (self.type_code.unalias(), &self.value) {
            (TypeCode::WChar, Value::WChar(c)) => Some(*c),
            _ => None,
        }
    }

    pub fn as_type_code(&self) -> Option<&TypeCode> {
        match (self.type_code.unalias(), &self.value) {
            (TypeCode::TypeCode, Value::TypeCode(t)) => Some(t),
            _ => None,
        }
    }

    /// The `any` inside an `any`.
    pub fn as_any(&self) -> Option<&Any> {
        match (self.type_code.unalias(), &self.value) {
            (TypeCode::Any, Value::Any(a)) => Some(a),
            _ => None,
        }
    }

    pub fn as_objref(&self) -> Option<&Ior> {
        match (self.type_code.unalias(), &self.value) {
            (TypeCode::ObjRef(_), Value::ObjRef(ior)) => Some(ior),
            _ => None,
        }
    }

    /// The content of an octet sequence.
    pub fn as_octets(&self) -> Option<&[u8]> {
        match (self.type_code.unalias(), &self.value) {
            (TypeCode::Sequence(s), Value::Octets(b))
                if matches!(s.content.unalias(), TypeCode::Octet) =>
            {
                Some(b)
            }
            _ => None,
        }
    }
}

macro_rules! primitives {
    ($($ty:ty, $variant:ident, $as:ident;)*) => {$(
        impl From<$ty> for Any {
            fn from(v: $ty) -> Any {
                Any { type_code: TypeCode::$variant, value: Value::$variant(v) }
            }
        }

        impl Any {
            #[doc = concat!("The value if the `any` holds a `", stringify!($variant), "` (or an alias of one).")]
            pub fn $as(&self) -> Option<$ty> {
                match (self.type_code.unalias(), &self.value) {
                    (TypeCode::$variant, Value::$variant(v)) => Some(*v),
                    _ => None,
                }
            }
        }

        impl TryFrom<&Any> for $ty {
            type Error = WrongType;

            fn try_from(any: &Any) -> Result<$ty, WrongType> {
                any.$as().ok_or(WrongType(any.type_code.kind()))
            }
        }
    )*};
}

primitives! {
    i16, Short, as_i16;
    i32, Long, as_i32;
    u16, UShort, as_u16;
    u32, ULong, as_u32;
    i64, LongLong, as_i64;
    u64, ULongLong, as_u64;
    f32, Float, as_f32;
    f64, Double, as_f64;
    bool, Boolean, as_bool;
    char, Char, as_char;
    u8, Octet, as_u8;
    LongDouble, LongDouble, as_long_double;
}

/// An extraction from an `any` holding another type (of this kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the any holds a value of kind {0}")]
pub struct WrongType(pub TCKind);

impl From<&str> for Any {
    fn from(s: &str) -> Any {
        Any::from(s.to_owned())
    }
}

impl From<String> for Any {
    fn from(s: String) -> Any {
        Any {
            type_code: TypeCode::String(0),
            value: Value::String(s),
        }
    }
}

impl From<WString> for Any {
    fn from(s: WString) -> Any {
        Any {
            type_code: TypeCode::WString(0),
            value: Value::WString(s.0),
        }
    }
}

impl From<WChar> for Any {
    fn from(c: WChar) -> Any {
        Any {
            type_code: TypeCode::WChar,
            value: Value::WChar(c.0),
        }
    }
}

impl From<TypeCode> for Any {
    fn from(tc: TypeCode) -> Any {
        Any {
            type_code: TypeCode::TypeCode,
            value: Value::TypeCode(tc),
        }
    }
}

impl From<Vec<u8>> for Any {
    /// An unbounded `sequence<octet>`.
    fn from(b: Vec<u8>) -> Any {
        Any {
            type_code: TypeCode::sequence(TypeCode::Octet, 0),
            value: Value::Octets(b),
        }
    }
}

impl From<Fixed> for Value {
    fn from(f: Fixed) -> Value {
        Value::Fixed(Box::new(f))
    }
}

impl CdrEncode for Any {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        self.type_code.encode(enc)?;
        ValueWriter::default().write(enc, &self.type_code, &self.value)
    }
}

impl<'a> CdrDecode<'a> for Any {
    /// The TypeCode's kind.
    const MIN_WIRE_SIZE: usize = 4;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        ValueReader::new(dec.remaining()).read_any(dec)
    }
}

/// Fuzz target body: decodes `data[1..]` as one `any` (bit 0 of `data[0]` is the byte order,
/// bit 1 selects GIOP 1.1 instead of 1.2). Input that does not decode is simply refused; an
/// `any` that decodes must encode, decode again and encode to the same octets, and this
/// function panics if it does not, since that is a bug.
pub fn fuzz_any(data: &[u8]) {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let order = ByteOrder::from_flag(flags);
    let version = if flags & 2 != 0 {
        GiopVersion::V1_1
    } else {
        GiopVersion::V1_2
    };
    let decode = |bytes: &[u8], budget: usize| -> Result<Any, DecodeError> {
        let mut dec = Decoder::new(bytes, order);
        dec.set_version(version);
        let mut reader = ValueReader::new(0);
        reader.budget = budget;
        let any = reader.read_any(&mut dec)?;
        dec.expect_end()?;
        Ok(any)
    };
    let encode = |any: &Any| -> Result<Vec<u8>, EncodeError> {
        let mut enc = Encoder::new(order);
        enc.set_version(version);
        any.encode(&mut enc)?;
        Ok(enc.into_vec())
    };
    // The same work budget both times: re-encoding may shrink the input (a wide character's
    // byte-order mark is dropped), which must not make the second decode fail.
    let budget = ValueReader::new(body.len()).budget;
    let Ok(any) = decode(body, budget) else {
        return;
    };
    let first = encode(&any).expect("a decoded any must encode");
    let again = decode(&first, budget).expect("an encoded any must decode");
    let second = encode(&again).expect("a decoded any must encode");
    assert_eq!(first, second, "any did not survive encode/decode unchanged");
}

/// Value nodes an `any` may decode regardless of its size, on top of
/// [`NODES_PER_OCTET`] per octet of input: enough for any honest value, while a value made of
/// empty structs or `void`s (which take no octets) cannot make us build an unbounded tree.
const BASE_BUDGET: usize = 1 << 16;
const NODES_PER_OCTET: usize = 8;

fn invalid(msg: &'static str, at: usize) -> DecodeError {
    DecodeError::new(DecodeErrorKind::Invalid(msg), at)
}

/// A discriminator value as an integer, for comparing it with case labels.
pub(super) fn discriminator_key(v: &Value) -> Option<i128> {
    Some(match v {
        Value::Short(x) => *x as i128,
        Value::Long(x) => *x as i128,
        Value::UShort(x) => *x as i128,
        Value::ULong(x) => *x as i128,
        Value::LongLong(x) => *x as i128,
        Value::ULongLong(x) => *x as i128,
        Value::Boolean(x) => *x as i128,
        Value::Char(x) | Value::WChar(x) => *x as i128,
        Value::Enum(x) => *x as i128,
        _ => return None,
    })
}

fn read_enum(dec: &mut Decoder<'_>, e: &EnumType) -> Result<Value, DecodeError> {
    dec.align(4)?;
    let at = dec.offset();
    let v = dec.read_ulong()?;
    if v as usize >= e.members.len() {
        return Err(DecodeError::new(DecodeErrorKind::InvalidEnum(v), at));
    }
    Ok(Value::Enum(v))
}

/// Reads a union discriminator or case label of type `tc`.
pub(super) fn read_discriminator(
    dec: &mut Decoder<'_>,
    tc: &TypeCode,
) -> Result<Value, DecodeError> {
    Ok(match tc.unalias() {
        TypeCode::Short => Value::Short(dec.read_short()?),
        TypeCode::Long => Value::Long(dec.read_long()?),
        TypeCode::UShort => Value::UShort(dec.read_ushort()?),
        TypeCode::ULong => Value::ULong(dec.read_ulong()?),
        TypeCode::LongLong => Value::LongLong(dec.read_longlong()?),
        TypeCode::ULongLong => Value::ULongLong(dec.read_ulonglong()?),
        TypeCode::Boolean => Value::Boolean(dec.read_bool()?),
        TypeCode::Char => Value::Char(dec.read_char()?),
        TypeCode::WChar => Value::WChar(dec.read_wchar()?),
        TypeCode::Enum(e) => read_enum(dec, e)?,
        _ => {
            return Err(dec.error(DecodeErrorKind::Invalid(
                "union discriminator type is not an integer, char, wchar, boolean or enum type",
            )))
        }
    })
}

/// Writes a union discriminator or case label of type `tc`.
pub(super) fn write_discriminator(
    enc: &mut Encoder,
    tc: &TypeCode,
    v: &Value,
) -> Result<(), EncodeError> {
    match (tc.unalias(), v) {
        (TypeCode::Short, Value::Short(x)) => enc.write_short(*x),
        (TypeCode::Long, Value::Long(x)) => enc.write_long(*x),
        (TypeCode::UShort, Value::UShort(x)) => enc.write_ushort(*x),
        (TypeCode::ULong, Value::ULong(x)) => enc.write_ulong(*x),
        (TypeCode::LongLong, Value::LongLong(x)) => enc.write_longlong(*x),
        (TypeCode::ULongLong, Value::ULongLong(x)) => enc.write_ulonglong(*x),
        (TypeCode::Boolean, Value::Boolean(x)) => enc.write_bool(*x),
        (TypeCode::Char, Value::Char(x)) => enc.write_char(*x)?,
        (TypeCode::WChar, Value::WChar(x)) => enc.write_wchar(*x)?,
        (TypeCode::Enum(e), Value::Enum(x)) if (*x as usize) < e.members.len() => {
            enc.write_ulong(*x)
        }
        _ => {
            return Err(EncodeError::Invalid(
                "union discriminator or label does not match the discriminator type",
            ))
        }
    }
    Ok(())
}

/// The fewest octets a value of `tc` can take (alignment aside), to refuse a sequence length
/// the input cannot hold before allocating. Zero where it is costly to know or really zero;
/// the node budget covers those.
fn min_wire_size(tc: &TypeCode) -> usize {
    use TypeCode as T;
    match tc.unalias() {
        T::Boolean | T::Char | T::Octet | T::WChar | T::Union(_) | T::AbstractInterface(_) => 1,
        T::Short | T::UShort => 2,
        T::Long
        | T::ULong
        | T::Float
        | T::Enum(_)
        | T::String(_)
        | T::WString(_)
        | T::Sequence(_)
        | T::Any
        | T::TypeCode
        | T::Principal
        | T::ObjRef(_)
        | T::Component(_)
        | T::Home(_)
        | T::Value(_)
        | T::ValueBox(_)
        | T::Event(_) => 4,
        T::LongLong | T::ULongLong | T::Double => 8,
        T::LongDouble => 16,
        T::Fixed { digits, .. } => (*digits as usize + 2) / 2,
        _ => 0,
    }
}

/// The TypeCodes whose members make up a value type's state, root base first; for a value
/// box, the box itself.
fn value_chain(tc: &TypeCode) -> Result<Vec<&TypeCode>, &'static str> {
    let mut chain = Vec::new();
    let mut cur = tc;
    loop {
        match cur {
            TypeCode::Value(v) | TypeCode::Event(v) => {
                chain.push(cur);
                cur = &v.concrete_base;
            }
            TypeCode::ValueBox(_) if chain.is_empty() => return Ok(vec![cur]),
            TypeCode::Null if !chain.is_empty() => break,
            _ => return Err("concrete base of a value type is not a value type"),
        }
    }
    chain.reverse();
    Ok(chain)
}

/// The TypeCodes of a value's state members, in wire order.
fn state_types<'t>(chain: &[&'t TypeCode]) -> Vec<&'t TypeCode> {
    chain
        .iter()
        .flat_map(|tc| match tc {
            TypeCode::Value(v) | TypeCode::Event(v) => {
                v.members.iter().map(|m| &m.type_code).collect::<Vec<_>>()
            }
            TypeCode::ValueBox(b) => vec![&b.content],
            _ => Vec::new(),
        })
        .collect()
}

/// Decodes values, sharing across nested `any`s what the whole stream shares: the work budget
/// and the repository ids that later value tags may refer back to.
pub(super) struct ValueReader<'a> {
    budget: usize,
    /// Value framing of the stream, made when the first value type instance is met.
    values: Option<ValueDecoder>,
    /// The instances of this `any` (their [`Value::SharedValue`] numbers), by the ordinal of
    /// their value tag in the stream; `None` for one whose state was skipped.
    instances: HashMap<usize, Option<u32>>,
    /// Instances numbered so far in this `any`.
    instance_count: u32,
    /// Enclosing constructed types, for resolving recursive references.
    env: Vec<TypeCode>,
    /// The values read before this one in the same stream ([`Any::read_values`]), which a
    /// later value's indirection may point into.
    earlier: Vec<Earlier>,
    /// Instances of earlier values copied into the current `any`, per earlier value: their
    /// number there → their number here. Each is copied at most once per `any`.
    copied: HashMap<usize, HashMap<u32, u32>>,
    /// The input read from.
    _input: std::marker::PhantomData<&'a [u8]>,
}

/// A value read earlier in the stream, and where its instances' value tags were.
struct Earlier {
    value: Value,
    /// Its instances' [`Value::SharedValue`] numbers, by the ordinal of their value tag.
    instances: HashMap<usize, Option<u32>>,
    /// The other way: the ordinal of each instance's value tag, by its number.
    ordinals: HashMap<u32, usize>,
    /// Its instances flattened ([`flatten`]), made when a later value first refers back.
    flat: Option<Vec<ValueInstance>>,
}

/// Instances nested in one another deeper than this are not copied: a copy is nested as
/// the graph's references lead, which may be far deeper than the stream it came from.
const MAX_COPY_DEPTH: u32 = 128;

impl<'a> ValueReader<'a> {
    pub(super) fn new(input_len: usize) -> ValueReader<'a> {
        ValueReader {
            budget: BASE_BUDGET.saturating_add(input_len.saturating_mul(NODES_PER_OCTET)),
            values: None,
            instances: HashMap::new(),
            instance_count: 0,
            env: Vec::new(),
            earlier: Vec::new(),
            copied: HashMap::new(),
            _input: std::marker::PhantomData,
        }
    }

    /// Ends one value of a stream of several ([`Any::read_values`]): the next numbers its
    /// instances from 0 and reaches this one's only by copying.
    fn finish_parameter(&mut self, value: Value) {
        self.instance_count = 0;
        self.copied.clear();
        let instances = std::mem::take(&mut self.instances);
        let ordinals = instances
            .iter()
            .filter_map(|(&ordinal, n)| Some(((*n)?, ordinal)))
            .collect();
        self.earlier.push(Earlier {
            value,
            instances,
            ordinals,
            flat: None,
        });
    }

    /// An indirection to the value tag at `ordinal` in an earlier value of the stream, as a
    /// copy of that instance and of what it reaches, numbered from `self.instance_count` on
    /// (the order they will be written in). The copied instances are then this value's: a
    /// later indirection to one of them is a [`Value::SharedValue`], not another copy, so
    /// copying costs at most the earlier values' size per `any` (and counts against the
    /// work budget). `Ok(None)`: no earlier value has that instance.
    fn copy_from_earlier(&mut self, ordinal: usize) -> Result<Option<Value>, &'static str> {
        let Some((from, number)) = self
            .earlier
            .iter()
            .enumerate()
            .find_map(|(i, e)| Some((i, (*e.instances.get(&ordinal)?)?)))
        else {
            return Ok(None);
        };
        let earlier = &mut self.earlier[from];
        let flat = earlier.flat.get_or_insert_with(|| flatten(&earlier.value));
        let mut copier = Copier {
            flat,
            renumbered: self.copied.remove(&from).unwrap_or_default(),
            added: Vec::new(),
            next: self.instance_count,
            budget: self.budget,
        };
        let copy = copier.instance(number, 0);
        let Copier {
            renumbered,
            added,
            next,
            budget,
            ..
        } = copier;
        self.budget = budget;
        self.instance_count = next;
        for (old, new) in added {
            if let Some(&ord) = earlier.ordinals.get(&old) {
                self.instances.insert(ord, Some(new));
            }
        }
        self.copied.insert(from, renumbered);
        copy.map(Some)
    }

    fn read_any(&mut self, dec: &mut Decoder<'a>) -> Result<Any, DecodeError> {
        let type_code = TypeCode::decode(dec).field("type")?;
        // The inner TypeCode's recursive references bind within it alone, and its value
        // instances are numbered within it alone (it is re-encoded on its own).
        let outer = std::mem::take(&mut self.env);
        let outer_instances = std::mem::take(&mut self.instances);
        let outer_count = std::mem::replace(&mut self.instance_count, 0);
        let outer_copied = std::mem::take(&mut self.copied);
        let value = self.read(dec, &type_code).field("value");
        self.env = outer;
        self.instances = outer_instances;
        self.instance_count = outer_count;
        self.copied = outer_copied;
        Ok(Any {
            type_code,
            value: value?,
        })
    }

    pub(super) fn read(
        &mut self,
        dec: &mut Decoder<'a>,
        tc: &TypeCode,
    ) -> Result<Value, DecodeError> {
        use TypeCode as T;
        if self.budget == 0 {
            return Err(dec.error(DecodeErrorKind::Invalid(
                "value has more elements than its octets can justify",
            )));
        }
        self.budget -= 1;
        Ok(match tc {
            T::Null => Value::Null,
            T::Void => Value::Void,
            T::Short => Value::Short(dec.read_short()?),
            T::Long => Value::Long(dec.read_long()?),
            T::UShort => Value::UShort(dec.read_ushort()?),
            T::ULong => Value::ULong(dec.read_ulong()?),
            T::LongLong => Value::LongLong(dec.read_longlong()?),
            T::ULongLong => Value::ULongLong(dec.read_ulonglong()?),
            T::Float => Value::Float(dec.read_float()?),
            T::Double => Value::Double(dec.read_double()?),
            T::LongDouble => Value::LongDouble(LongDouble::decode(dec)?),
            T::Boolean => Value::Boolean(dec.read_bool()?),
            T::Char => Value::Char(dec.read_char()?),
            T::WChar => Value::WChar(dec.read_wchar()?),
            T::Octet => Value::Octet(dec.read_octet()?),
            T::Fixed { digits, scale } => {
                let at = dec.offset();
                let scale = u16::try_from(*scale)
                    .map_err(|_| invalid("fixed type with a negative scale", at))?;
                let f = dec.read_fixed(*digits, scale)?;
                // An even digit count leaves a spare leading half-octet, which must be zero.
                if 10u128
                    .checked_pow(*digits as u32)
                    .is_some_and(|limit| f.value.unsigned_abs() >= limit)
                {
                    return Err(DecodeError::new(DecodeErrorKind::InvalidFixed, at));
                }
                Value::Fixed(Box::new(f))
            }
            T::String(bound) => Value::String(
                match bound {
                    0 => dec.read_string()?,
                    b => dec.read_bounded_string(*b)?,
                }
                .into_owned(),
            ),
            T::WString(bound) => {
                dec.align(4)?;
                let at = dec.offset();
                let s = dec.read_wstring()?;
                let n = s.chars().count();
                if *bound != 0 && n > *bound as usize {
                    return Err(DecodeError::new(
                        DecodeErrorKind::BoundExceeded {
                            length: n as u64,
                            bound: *bound as u64,
                        },
                        at,
                    ));
                }
                Value::WString(s)
            }
            T::Any => Value::Any(Box::new(dec.nested(|d| self.read_any(d))?)),
            T::TypeCode => Value::TypeCode(TypeCode::decode(dec)?),
            T::Principal => Value::Octets(dec.read_octet_seq()?.to_vec()),
            T::ObjRef(_) | T::Component(_) | T::Home(_) => {
                Value::ObjRef(Box::new(Ior::decode(dec)?))
            }
            T::AbstractInterface(_) => {
                // §15.3.7: a union on a boolean, TRUE for an object reference.
                if dec.read_bool().field("discriminator")? {
                    Value::ObjRef(Box::new(Ior::decode(dec).field("reference")?))
                } else {
                    dec.align(4)?;
                    let at = dec.offset();
                    if dec.read_ulong().field("value_tag")? != 0 {
                        return Err(invalid(
                            "abstract interface holding a value, whose TypeCode is not sent",
                            at,
                        ));
                    }
                    Value::Valuetype(None)
                }
            }
            T::Native(_) | T::LocalInterface(_) => {
                return Err(dec.error(DecodeErrorKind::Invalid(
                    "native and local interface values cannot be marshalled",
                )))
            }
            T::Struct(s) | T::Except(s) => dec.nested(|d| {
                self.env.push(tc.clone());
                let r = s
                    .members
                    .iter()
                    .map(|m| self.read(d, &m.type_code))
                    .collect::<Result<Vec<_>, _>>()
                    .field("member");
                self.env.pop();
                r.map(Value::Struct)
            })?,
            T::Union(u) => dec.nested(|d| {
                let discriminator =
                    read_discriminator(d, &u.discriminator).field("discriminator")?;
                let member = match u.member_index(&discriminator) {
                    None => None,
                    Some(i) => {
                        self.env.push(tc.clone());
                        let v = self.read(d, &u.members[i].type_code).field("member");
                        self.env.pop();
                        Some((i, v?))
                    }
                };
                Ok(Value::Union(Box::new(UnionValue {
                    discriminator,
                    member,
                })))
            })?,
            T::Enum(e) => read_enum(dec, e)?,
            T::Sequence(s) => dec.nested(|d| {
                let octets = matches!(s.content.unalias(), TypeCode::Octet);
                let min = if octets { 1 } else { min_wire_size(&s.content) };
                let n = match s.bound {
                    0 => d.read_seq_len(min),
                    b => d.read_bounded_len(min, b),
                }
                .field("length")?;
                if octets {
                    return Ok(Value::Octets(d.take(n)?.to_vec()));
                }
                self.elements(d, &s.content, n).map(Value::Sequence)
            })?,
            T::Array(a) => dec.nested(|d| {
                let n = a.length as usize;
                if matches!(a.content.unalias(), TypeCode::Octet) {
                    return Ok(Value::Octets(d.take(n)?.to_vec()));
                }
                let need = n.saturating_mul(min_wire_size(&a.content));
                if need > d.remaining() {
                    return Err(d.error(DecodeErrorKind::Truncated {
                        needed: need,
                        remaining: d.remaining(),
                    }));
                }
                self.elements(d, &a.content, n).map(Value::Array)
            })?,
            T::Alias(a) => self.read(dec, &a.content)?,
            T::Value(_) | T::Event(_) | T::ValueBox(_) => {
                dec.nested(|d| self.read_valuetype(d, tc))?
            }
            T::Recursive(r) => {
                let target = self.env.iter().rev().find(|t| t.binds(r)).cloned();
                match target {
                    Some(t) => self.read(dec, &t)?,
                    None => {
                        return Err(dec.error(DecodeErrorKind::Invalid(
                            "recursive TypeCode has no enclosing type of its kind and id",
                        )))
                    }
                }
            }
        })
    }

    fn elements(
        &mut self,
        dec: &mut Decoder<'a>,
        tc: &TypeCode,
        n: usize,
    ) -> Result<Vec<Value>, DecodeError> {
        if let Some(run) = read_number_run(dec, tc, n) {
            return run;
        }
        // Grow with what is really decoded: `n` is only checked against a lower bound.
        let mut v = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            v.push(self.read(dec, tc).field("element")?);
        }
        Ok(v)
    }

    /// The value framing of the stream `dec` reads.
    fn framing(&mut self, dec: &Decoder<'a>) -> &mut ValueDecoder {
        self.values.get_or_insert_with(|| ValueDecoder::new(dec))
    }

    /// A value type instance of type `tc` (or of a truncatable type derived from it, read as
    /// `tc` with the rest of its state skipped), null, or an instance read before.
    fn read_valuetype(
        &mut self,
        dec: &mut Decoder<'a>,
        tc: &TypeCode,
    ) -> Result<Value, DecodeError> {
        let at = dec.offset();
        let header = match self.framing(dec).begin(dec)? {
            ValueStart::Null => return Ok(Value::Valuetype(None)),
            ValueStart::Shared(ordinal) => {
                return match self.instances.get(&ordinal) {
                    Some(Some(n)) => Ok(Value::SharedValue(*n)),
                    Some(None) => Err(invalid(
                        "indirection to a value whose state was skipped (truncated)",
                        at,
                    )),
                    None => match self.copy_from_earlier(ordinal) {
                        Ok(Some(copy)) => Ok(copy),
                        Ok(None) => Err(invalid(
                            "indirection to a value outside this any, or inside state that was skipped",
                            at,
                        )),
                        Err(msg) => Err(invalid(msg, at)),
                    },
                };
            }
            ValueStart::New(header) => header,
        };
        let ids = header.type_info.ids();
        // Where the TypeCode's own id is in the list: 0 (or no ids) is the type itself, later
        // is a base the value can be truncated to.
        let position = if ids.is_empty() {
            Some(0)
        } else {
            ids.iter().position(|id| Some(id.as_str()) == tc.id())
        };
        let position = match position {
            Some(p) if p == 0 || header.chunked => p,
            _ => {
                return Err(DecodeError::new(
                    DecodeErrorKind::UnknownValueType(ids[0].clone()),
                    header.offset,
                ))
            }
        };
        if matches!(tc, TypeCode::Value(v) | TypeCode::Event(v) if v.modifier == super::ValueType::VM_CUSTOM)
        {
            return Err(invalid(
                "custom-marshalled values cannot be read without their type's own code",
                header.offset,
            ));
        }
        let number = self.instance_count;
        self.instance_count += 1;
        self.instances.insert(header.ordinal, Some(number));
        let chain = value_chain(tc).map_err(|msg| invalid(msg, header.offset))?;
        let saved = self.env.len();
        self.env.extend(chain.iter().map(|t| (*t).clone()));
        let state: Result<Vec<Value>, DecodeError> = state_types(&chain)
            .into_iter()
            .map(|t| self.read(dec, t).field("state"))
            .collect();
        self.env.truncate(saved);
        let values = self.framing(dec);
        let state = state.map_err(|e| values.explain(e))?;
        let type_info = if position == 0 {
            values.end(dec, &header)?;
            header.type_info
        } else {
            values.skip_value(dec, &header)?;
            ValueTypeInfo::Truncatable(ids[position..].to_vec())
        };
        Ok(Value::Valuetype(Some(Box::new(ValueInstance {
            codebase: header.codebase,
            type_info,
            state,
        }))))
    }
}

/// The instances of `value`, by their number (depth first, an instance before those in its
/// state, as they were numbered when read; a nested `any` numbers its own), each with the
/// instances in its state replaced by [`Value::SharedValue`]s of their numbers: the graph as
/// a table, which copies are made from in time proportional to what they copy.
fn flatten(value: &Value) -> Vec<ValueInstance> {
    fn walk(value: &Value, table: &mut Vec<ValueInstance>) -> Value {
        match value {
            Value::Valuetype(Some(v)) => {
                let number = table.len();
                table.push(ValueInstance {
                    codebase: v.codebase.clone(),
                    type_info: v.type_info.clone(),
                    state: Vec::new(),
                });
                let state = v.state.iter().map(|s| walk(s, table)).collect();
                table[number].state = state;
                Value::SharedValue(number as u32)
            }
            Value::Struct(vs) => Value::Struct(vs.iter().map(|v| walk(v, table)).collect()),
            Value::Sequence(vs) => Value::Sequence(vs.iter().map(|v| walk(v, table)).collect()),
            Value::Array(vs) => Value::Array(vs.iter().map(|v| walk(v, table)).collect()),
            Value::Union(u) => Value::Union(Box::new(UnionValue {
                discriminator: u.discriminator.clone(),
                member: u.member.as_ref().map(|(i, v)| (*i, walk(v, table))),
            })),
            other => other.clone(),
        }
    }
    let mut table = Vec::new();
    walk(value, &mut table);
    table
}

/// Copies instances of an earlier value ([`flatten`]ed) into the value being read: shared
/// instances stay shared and cycles stay cycles, and the copies are numbered from `next` in
/// the order they will be written.
struct Copier<'f> {
    flat: &'f [ValueInstance],
    /// Instances copied into the current `any` so far: their number there → here.
    renumbered: HashMap<u32, u32>,
    /// What this copy added to `renumbered`.
    added: Vec<(u32, u32)>,
    next: u32,
    /// Value nodes that may still be made (the reader's work budget).
    budget: usize,
}

impl Copier<'_> {
    /// The copy of instance `number`, or a reference to it if it is already copied.
    fn instance(&mut self, number: u32, depth: u32) -> Result<Value, &'static str> {
        if let Some(&n) = self.renumbered.get(&number) {
            return Ok(Value::SharedValue(n));
        }
        if depth >= MAX_COPY_DEPTH {
            return Err("value referred back to from a later parameter nests too deep to copy");
        }
        let flat = self.flat;
        let v = flat
            .get(number as usize)
            .ok_or("shared value refers to no instance of its value")?;
        self.renumbered.insert(number, self.next);
        self.added.push((number, self.next));
        self.next += 1;
        let state = v
            .state
            .iter()
            .map(|s| self.value(s, depth + 1))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Value::Valuetype(Some(Box::new(ValueInstance {
            codebase: v.codebase.clone(),
            type_info: v.type_info.clone(),
            state,
        }))))
    }

    fn value(&mut self, value: &Value, depth: u32) -> Result<Value, &'static str> {
        self.budget = self.budget.checked_sub(1).ok_or(
            "values referred back to from later parameters have more elements than the \
             message's octets can justify",
        )?;
        Ok(match value {
            Value::SharedValue(n) => self.instance(*n, depth)?,
            Value::Struct(vs) => Value::Struct(self.values(vs, depth)?),
            Value::Sequence(vs) => Value::Sequence(self.values(vs, depth)?),
            Value::Array(vs) => Value::Array(self.values(vs, depth)?),
            Value::Union(u) => Value::Union(Box::new(UnionValue {
                discriminator: u.discriminator.clone(),
                member: match &u.member {
                    Some((i, v)) => Some((*i, self.value(v, depth)?)),
                    None => None,
                },
            })),
            other => other.clone(),
        })
    }

    fn values(&mut self, values: &[Value], depth: u32) -> Result<Vec<Value>, &'static str> {
        values.iter().map(|v| self.value(v, depth)).collect()
    }
}

/// Encodes values by their TypeCode, or (with `check_only`) checks that they fit it.
#[derive(Default)]
pub(super) struct ValueWriter {
    env: Vec<TypeCode>,
    /// Skip what depends on the code sets (text), and nested `any`s (checked when made).
    check_only: bool,
    /// Value framing of the stream: where instances and repository ids went, chunks.
    values: ValueEncoder,
    /// Instances written so far in the current `any` (their [`Value::SharedValue`] numbers).
    instance_count: u32,
    /// Which `any` is being written (nested ones number their instances apart): the high half
    /// of the keys instances are remembered by.
    scope: u64,
    scopes: u64,
}

fn check_bound(bound: u32, length: usize) -> Result<(), EncodeError> {
    if bound != 0 && length > bound as usize {
        return Err(EncodeError::BoundExceeded {
            length,
            bound: bound as usize,
        });
    }
    Ok(())
}

const MISMATCH: EncodeError = EncodeError::Invalid("value does not match its TypeCode");

impl ValueWriter {
    pub(super) fn write(
        &mut self,
        enc: &mut Encoder,
        tc: &TypeCode,
        v: &Value,
    ) -> Result<(), EncodeError> {
        use TypeCode as T;
        use Value as V;
        match (tc, v) {
            (T::Null, V::Null) | (T::Void, V::Void) => {}
            (T::Short, V::Short(x)) => enc.write_short(*x),
            (T::Long, V::Long(x)) => enc.write_long(*x),
            (T::UShort, V::UShort(x)) => enc.write_ushort(*x),
            (T::ULong, V::ULong(x)) => enc.write_ulong(*x),
            (T::LongLong, V::LongLong(x)) => enc.write_longlong(*x),
            (T::ULongLong, V::ULongLong(x)) => enc.write_ulonglong(*x),
            (T::Float, V::Float(x)) => enc.write_float(*x),
            (T::Double, V::Double(x)) => enc.write_double(*x),
            (T::LongDouble, V::LongDouble(x)) => x.encode(enc)?,
            (T::Boolean, V::Boolean(x)) => enc.write_bool(*x),
            (T::Octet, V::Octet(x)) => enc.write_octet(*x),
            (T::Char, V::Char(c)) if !self.check_only => enc.write_char(*c)?,
            (T::WChar, V::WChar(c)) if !self.check_only => enc.write_wchar(*c)?,
            (T::Char, V::Char(_)) | (T::WChar, V::WChar(_)) => {}
            (T::Fixed { digits, scale }, V::Fixed(f)) => {
                let scale = u16::try_from(*scale)
                    .map_err(|_| EncodeError::Invalid("fixed type with a negative scale"))?;
                enc.write_fixed(f, *digits, scale)?;
            }
            (T::String(b), V::String(s)) | (T::WString(b), V::WString(s)) => {
                check_bound(*b, s.chars().count())?;
                if self.check_only {
                    if s.contains('\0') {
                        return Err(EncodeError::EmbeddedNul);
                    }
                } else if matches!(tc, T::String(_)) {
                    enc.write_string(s)?;
                } else {
                    enc.write_wstring(s)?;
                }
            }
            (T::Any, V::Any(a)) if !self.check_only => {
                // Written with this writer, not on its own: a value in the inner `any` may be
                // nested in a chunked value of the outer one, and must be chunked then.
                a.type_code.encode(enc)?;
                let env = std::mem::take(&mut self.env);
                let count = std::mem::replace(&mut self.instance_count, 0);
                self.scopes += 1;
                let scope = std::mem::replace(&mut self.scope, self.scopes);
                let r = self.write(enc, &a.type_code, &a.value);
                (self.env, self.instance_count, self.scope) = (env, count, scope);
                r?
            }
            (T::Any, V::Any(_)) => {}
            (T::TypeCode, V::TypeCode(t)) => t.encode(enc)?,
            (T::Principal, V::Octets(b)) => enc.write_octet_seq(b)?,
            (T::ObjRef(_) | T::Component(_) | T::Home(_), V::ObjRef(ior)) => ior.encode(enc)?,
            (T::AbstractInterface(_), V::ObjRef(ior)) => {
                enc.write_bool(true);
                ior.encode(enc)?;
            }
            (T::AbstractInterface(_), V::Valuetype(None)) => {
                enc.write_bool(false);
                enc.write_ulong(0);
            }
            (T::Struct(s) | T::Except(s), V::Struct(vs)) => {
                if s.members.len() != vs.len() {
                    return Err(MISMATCH);
                }
                self.env.push(tc.clone());
                let r = s
                    .members
                    .iter()
                    .zip(vs)
                    .try_for_each(|(m, v)| self.write(enc, &m.type_code, v));
                self.env.pop();
                r?;
            }
            (T::Union(u), V::Union(uv)) => {
                write_discriminator(enc, &u.discriminator, &uv.discriminator)?;
                match (&uv.member, u.member_index(&uv.discriminator)) {
                    (None, None) => {}
                    (Some((i, v)), Some(j)) if *i == j => {
                        self.env.push(tc.clone());
                        let r = self.write(enc, &u.members[j].type_code, v);
                        self.env.pop();
                        r?;
                    }
                    _ => {
                        return Err(EncodeError::Invalid(
                            "union member is not the one its discriminator selects",
                        ))
                    }
                }
            }
            (T::Enum(e), V::Enum(x)) => {
                if *x as usize >= e.members.len() {
                    return Err(EncodeError::Invalid("enum value out of range"));
                }
                enc.write_ulong(*x);
            }
            (T::Sequence(s), V::Octets(b)) if matches!(s.content.unalias(), T::Octet) => {
                check_bound(s.bound, b.len())?;
                enc.write_octet_seq(b)?;
            }
            (T::Sequence(s), V::Sequence(vs)) => {
                check_bound(s.bound, vs.len())?;
                enc.write_length(vs.len())?;
                match write_number_run(enc, &s.content, vs) {
                    Some(run) => run?,
                    None => vs.iter().try_for_each(|v| self.write(enc, &s.content, v))?,
                }
            }
            (T::Array(a), V::Octets(b)) if matches!(a.content.unalias(), T::Octet) => {
                if b.len() != a.length as usize {
                    return Err(MISMATCH);
                }
                enc.write_octets(b);
            }
            (T::Array(a), V::Array(vs)) => {
                if vs.len() != a.length as usize {
                    return Err(MISMATCH);
                }
                match write_number_run(enc, &a.content, vs) {
                    Some(run) => run?,
                    None => vs.iter().try_for_each(|v| self.write(enc, &a.content, v))?,
                }
            }
            (T::Alias(a), v) => self.write(enc, &a.content, v)?,
            (T::Value(_) | T::Event(_) | T::ValueBox(_), V::Valuetype(None)) => {
                self.values.write_null(enc)
            }
            (T::Value(_) | T::Event(_) | T::ValueBox(_), V::SharedValue(n)) => {
                if !self
                    .values
                    .write_indirection(enc, self.scope << 32 | *n as u64)?
                {
                    return Err(EncodeError::Invalid(
                        "shared value refers to no instance written before it in its any",
                    ));
                }
            }
            (T::Value(_) | T::Event(_) | T::ValueBox(_), V::Valuetype(Some(vi))) => {
                self.write_valuetype(enc, tc, vi)?
            }
            (T::Recursive(r), v) => {
                let target = self.env.iter().rev().find(|t| t.binds(r)).cloned().ok_or(
                    EncodeError::Invalid(
                        "recursive TypeCode has no enclosing type of its kind and id",
                    ),
                )?;
                self.write(enc, &target, v)?;
            }
            _ => return Err(MISMATCH),
        }
        Ok(())
    }

    fn write_valuetype(
        &mut self,
        enc: &mut Encoder,
        tc: &TypeCode,
        vi: &ValueInstance,
    ) -> Result<(), EncodeError> {
        let list: Vec<&str>;
        let type_info = match &vi.type_info {
            ValueTypeInfo::Implied => TypeInfoRef::Implied,
            ValueTypeInfo::Single(id) => TypeInfoRef::Single(id),
            ValueTypeInfo::Truncatable(ids) => {
                list = ids.iter().map(String::as_str).collect();
                TypeInfoRef::List(&list)
            }
        };
        let actual = vi.type_info.ids().first();
        if actual.is_some_and(|id| Some(id.as_str()) != tc.id()) {
            return Err(EncodeError::Invalid(
                "value instance's repository id is not its TypeCode's",
            ));
        }
        let chain = value_chain(tc).map_err(EncodeError::Invalid)?;
        let types = state_types(&chain);
        if types.len() != vi.state.len() {
            return Err(MISMATCH);
        }
        // A receiver can truncate only chunked state; custom state is chunked by definition.
        let chunked = matches!(vi.type_info, ValueTypeInfo::Truncatable(_))
            || matches!(tc, TypeCode::Value(v) | TypeCode::Event(v) if v.modifier == super::ValueType::VM_CUSTOM);
        let key = self.scope << 32 | self.instance_count as u64;
        self.instance_count += 1;
        let token =
            self.values
                .begin_value(enc, Some(key), vi.codebase.as_deref(), type_info, chunked)?;
        let saved = self.env.len();
        self.env.extend(chain.iter().map(|t| (*t).clone()));
        let r = types
            .into_iter()
            .zip(&vi.state)
            .try_for_each(|(t, v)| self.write(enc, t, v));
        self.env.truncate(saved);
        r?;
        self.values.end_value(enc, token)
    }
}

/// The fixed-size number kinds, named alike in [`TypeCode`] and [`Value`]: `$apply!(Kind, ..)`.
macro_rules! number_kinds {
    ($apply:ident) => {
        $apply!(Short, UShort, Long, ULong, LongLong, ULongLong, Float, Double)
    };
}

/// Sequences and arrays of fixed-size numbers travel as one aligned run, as generated code
/// (and omniORB) marshals them: where GIOP 1.1 fragments cut a message, a run flows across the
/// cut while single values are realigned, so an `any` must read and write them the same way.
/// `None` for any other element type.
fn read_number_run(
    dec: &mut Decoder<'_>,
    tc: &TypeCode,
    n: usize,
) -> Option<Result<Vec<Value>, DecodeError>> {
    fn run<'a, T: CdrDecode<'a>>(
        dec: &mut Decoder<'a>,
        n: usize,
        value: fn(T) -> Value,
    ) -> Result<Vec<Value>, DecodeError> {
        Ok(T::decode_vec(dec, n)?.into_iter().map(value).collect())
    }
    macro_rules! read {
        ($($kind:ident),*) => {
            match tc.unalias() {
                $(TypeCode::$kind => Some(run(dec, n, Value::$kind)),)*
                _ => None,
            }
        };
    }
    number_kinds!(read)
}

/// The encoding side of [`read_number_run`].
fn write_number_run(
    enc: &mut Encoder,
    tc: &TypeCode,
    values: &[Value],
) -> Option<Result<(), EncodeError>> {
    fn run<T: CdrEncode>(
        enc: &mut Encoder,
        values: &[Value],
        number: fn(&Value) -> Option<T>,
    ) -> Result<(), EncodeError> {
        let items = values
            .iter()
            .map(|v| number(v).ok_or(MISMATCH))
            .collect::<Result<Vec<T>, _>>()?;
        T::encode_slice(&items, enc)
    }
    macro_rules! write {
        ($($kind:ident),*) => {
            match tc.unalias() {
                $(TypeCode::$kind => Some(run(enc, values, |v| match v {
                    Value::$kind(x) => Some(*x),
                    _ => None,
                })),)*
                _ => None,
            }
        };
    }
    number_kinds!(write)
}
