//! TypeCodes and `any` (CORBA 3.0 §4.11; CDR encoding §15.3.5.1 and §15.3.5.2): the run-time description of an IDL type, and
//! a value carried together with its description.
//!
//! [`TypeCode`] models every `TCKind` as a Rust enum whose constructed variants share their
//! parameters through `Arc`, so cloning a TypeCode (and keeping one per value) is cheap.
//! A type that contains itself (`struct Node { sequence<Node> children; }`) is modelled as the
//! CORBA 2.3 recursive-TypeCode API does: the inner occurrence is a [`TypeCode::Recursive`]
//! reference naming the kind and repository id of an *enclosing* struct, union, exception,
//! value type or value box. On the wire such a reference is an indirection.
//!
//! [`Any`] pairs a TypeCode with a [`Value`] decoded *by* that TypeCode, generic enough to give
//! back unchanged whatever another ORB put in an `any`.
//!
//! Decoding is for hostile input: it never panics, never recurses deeper than the CDR layer's
//! depth limit, checks every count against the octets left before allocating, and bounds how
//! much work an `any` may cause per octet of input. [`fuzz_any`] is the entry point for a fuzz
//! target. This module does no I/O.

mod any;
mod typed;
mod walk;
mod wire;

#[cfg(test)]
mod tests;

pub use any::{fuzz_any, Any, UnionValue, Value, ValueInstance, ValueTypeInfo, WrongType};
pub use typed::{describe, AnyError, AnyType};
pub use wire::MAX_TYPECODE_NODES;

use crate::cdr::{CdrDecode, CdrEncode, DecodeError, Decoder, EncodeError, Encoder};
use std::fmt;
use std::sync::Arc;

/// `CORBA::TCKind`: what kind of type a TypeCode describes; the value is the wire encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u32)]
pub enum TCKind {
    Null = 0,
    Void = 1,
    Short = 2,
    Long = 3,
    UShort = 4,
    ULong = 5,
    Float = 6,
    Double = 7,
    Boolean = 8,
    Char = 9,
    Octet = 10,
    Any = 11,
    TypeCode = 12,
    Principal = 13,
    ObjRef = 14,
    Struct = 15,
    Union = 16,
    Enum = 17,
    String = 18,
    Sequence = 19,
    Array = 20,
    Alias = 21,
    Except = 22,
    LongLong = 23,
    ULongLong = 24,
    LongDouble = 25,
    WChar = 26,
    WString = 27,
    Fixed = 28,
    Value = 29,
    ValueBox = 30,
    Native = 31,
    AbstractInterface = 32,
    LocalInterface = 33,
    Component = 34,
    Home = 35,
    Event = 36,
}

impl TCKind {
    const ALL: [TCKind; 37] = [
        TCKind::Null,
        TCKind::Void,
        TCKind::Short,
        TCKind::Long,
        TCKind::UShort,
        TCKind::ULong,
        TCKind::Float,
        TCKind::Double,
        TCKind::Boolean,
        TCKind::Char,
        TCKind::Octet,
        TCKind::Any,
        TCKind::TypeCode,
        TCKind::Principal,
        TCKind::ObjRef,
        TCKind::Struct,
        TCKind::Union,
        TCKind::Enum,
        TCKind::String,
        TCKind::Sequence,
        TCKind::Array,
        TCKind::Alias,
        TCKind::Except,
        TCKind::LongLong,
        TCKind::ULongLong,
        TCKind::LongDouble,
        TCKind::WChar,
        TCKind::WString,
        TCKind::Fixed,
        TCKind::Value,
        TCKind::ValueBox,
        TCKind::Native,
        TCKind::AbstractInterface,
        TCKind::LocalInterface,
        TCKind::Component,
        TCKind::Home,
        TCKind::Event,
    ];

    /// The kind's wire value.
    pub fn value(self) -> u32 {
        self as u32
    }

    /// The kind with wire value `v`, if there is one.
    pub fn from_value(v: u32) -> Option<TCKind> {
        TCKind::ALL.get(v as usize).copied()
    }

    /// The specification's name (`tk_long`).
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 37] = [
            "tk_null",
            "tk_void",
            "tk_short",
            "tk_long",
            "tk_ushort",
            "tk_ulong",
            "tk_float",
            "tk_double",
            "tk_boolean",
            "tk_char",
            "tk_octet",
            "tk_any",
            "tk_TypeCode",
            "tk_Principal",
            "tk_objref",
            "tk_struct",
            "tk_union",
            "tk_enum",
            "tk_string",
            "tk_sequence",
            "tk_array",
            "tk_alias",
            "tk_except",
            "tk_longlong",
            "tk_ulonglong",
            "tk_longdouble",
            "tk_wchar",
            "tk_wstring",
            "tk_fixed",
            "tk_value",
            "tk_value_box",
            "tk_native",
            "tk_abstract_interface",
            "tk_local_interface",
            "tk_component",
            "tk_home",
            "tk_event",
        ];
        NAMES[self as usize]
    }

    /// Kinds a [`TypeCode::Recursive`] reference may point at: the constructed types IDL lets
    /// contain themselves (through a sequence, a union branch or a value's nullability).
    pub fn can_recurse(self) -> bool {
        matches!(
            self,
            TCKind::Struct
                | TCKind::Union
                | TCKind::Except
                | TCKind::Value
                | TCKind::ValueBox
                | TCKind::Event
        )
    }
}

impl fmt::Display for TCKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A description of an IDL type. Cheap to clone: constructed kinds share their parameters.
///
/// Equality (`==`) is [`TypeCode::equal`]: structural, names and repository ids included.
#[derive(Clone, Debug)]
pub enum TypeCode {
    Null,
    Void,
    Short,
    Long,
    UShort,
    ULong,
    Float,
    Double,
    Boolean,
    Char,
    Octet,
    Any,
    TypeCode,
    Principal,
    LongLong,
    ULongLong,
    LongDouble,
    WChar,
    /// `string<bound>`; 0 means unbounded.
    String(u32),
    /// `wstring<bound>`; 0 means unbounded.
    WString(u32),
    /// `fixed<digits, scale>`. The scale is a `short` on the wire and may in principle be
    /// negative; such a type can be described but its values cannot be carried.
    Fixed {
        digits: u16,
        scale: i16,
    },
    ObjRef(Arc<Named>),
    Struct(Arc<StructType>),
    Union(Arc<UnionType>),
    Enum(Arc<EnumType>),
    Sequence(Arc<SequenceType>),
    Array(Arc<ArrayType>),
    Alias(Arc<AliasType>),
    /// Same parameters as a struct; in an `any` only the members travel (the repository id is
    /// in the TypeCode), as omniORB does.
    Except(Arc<StructType>),
    Value(Arc<ValueType>),
    /// A boxed value type: its content is [`AliasType::content`].
    ValueBox(Arc<AliasType>),
    Native(Arc<Named>),
    AbstractInterface(Arc<Named>),
    LocalInterface(Arc<Named>),
    Component(Arc<Named>),
    Home(Arc<Named>),
    /// An event type: a value type in all but kind.
    Event(Arc<ValueType>),
    /// A reference to the innermost enclosing TypeCode of this kind and repository id.
    Recursive(Arc<RecursiveRef>),
}

/// The parameters of the interface-like kinds: object reference, native, abstract and local
/// interface, component, home.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// A struct or exception.
#[derive(Clone, Debug, PartialEq)]
pub struct StructType {
    pub id: String,
    pub name: String,
    pub members: Vec<StructMember>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StructMember {
    pub name: String,
    pub type_code: TypeCode,
}

/// A discriminated union. The default member, if any, is the one labelled
/// [`UnionLabel::Default`] (the wire's `default_index`).
#[derive(Clone, Debug, PartialEq)]
pub struct UnionType {
    pub id: String,
    pub name: String,
    /// An integer, `char`, `wchar`, `boolean` or enum type (possibly aliased).
    pub discriminator: TypeCode,
    pub members: Vec<UnionMember>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UnionMember {
    pub label: UnionLabel,
    pub name: String,
    pub type_code: TypeCode,
}

/// A union member's case label.
#[derive(Clone, Debug, PartialEq)]
pub enum UnionLabel {
    /// The `default:` case (on the wire: the zero octet, and the member's index as
    /// `default_index`).
    Default,
    /// A value of the discriminator type.
    Value(Value),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EnumType {
    pub id: String,
    pub name: String,
    pub members: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SequenceType {
    pub content: TypeCode,
    /// 0 means unbounded.
    pub bound: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ArrayType {
    pub content: TypeCode,
    pub length: u32,
}

/// A typedef, or the box of a boxed value type.
#[derive(Clone, Debug, PartialEq)]
pub struct AliasType {
    pub id: String,
    pub name: String,
    pub content: TypeCode,
}

/// A value type or event type.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueType {
    pub id: String,
    pub name: String,
    /// `ValueModifier`: [`ValueType::VM_NONE`], `VM_CUSTOM`, `VM_ABSTRACT`, `VM_TRUNCATABLE`.
    pub modifier: i16,
    /// The concrete base value type, [`TypeCode::Null`] when there is none.
    pub concrete_base: TypeCode,
    pub members: Vec<ValueMember>,
}

impl ValueType {
    pub const VM_NONE: i16 = 0;
    pub const VM_CUSTOM: i16 = 1;
    pub const VM_ABSTRACT: i16 = 2;
    pub const VM_TRUNCATABLE: i16 = 3;
}

#[derive(Clone, Debug, PartialEq)]
pub struct ValueMember {
    pub name: String,
    pub type_code: TypeCode,
    /// `Visibility`: [`ValueMember::PRIVATE`] or [`ValueMember::PUBLIC`].
    pub visibility: i16,
}

impl ValueMember {
    pub const PRIVATE: i16 = 0;
    pub const PUBLIC: i16 = 1;
}

/// The target of a [`TypeCode::Recursive`] reference: the innermost enclosing TypeCode with
/// this kind and repository id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RecursiveRef {
    pub kind: TCKind,
    pub id: String,
}

impl TypeCode {
    /// The TypeCode of a kind without parameters (`tk_long`, `tk_any`, ...); `None` for kinds
    /// that need parameters.
    pub fn from_kind(kind: TCKind) -> Option<TypeCode> {
        Some(match kind {
            TCKind::Null => TypeCode::Null,
            TCKind::Void => TypeCode::Void,
            TCKind::Short => TypeCode::Short,
            TCKind::Long => TypeCode::Long,
            TCKind::UShort => TypeCode::UShort,
            TCKind::ULong => TypeCode::ULong,
            TCKind::Float => TypeCode::Float,
            TCKind::Double => TypeCode::Double,
            TCKind::Boolean => TypeCode::Boolean,
            TCKind::Char => TypeCode::Char,
            TCKind::Octet => TypeCode::Octet,
            TCKind::Any => TypeCode::Any,
            TCKind::TypeCode => TypeCode::TypeCode,
            TCKind::Principal => TypeCode::Principal,
            TCKind::LongLong => TypeCode::LongLong,
            TCKind::ULongLong => TypeCode::ULongLong,
            TCKind::LongDouble => TypeCode::LongDouble,
            TCKind::WChar => TypeCode::WChar,
            _ => return None,
        })
    }

    // Constructors in the spirit of the ORB's `create_*_tc` operations.

    /// `string<bound>`, 0 for unbounded.
    pub fn string(bound: u32) -> TypeCode {
        TypeCode::String(bound)
    }

    /// `wstring<bound>`, 0 for unbounded.
    pub fn wstring(bound: u32) -> TypeCode {
        TypeCode::WString(bound)
    }

    pub fn fixed(digits: u16, scale: i16) -> TypeCode {
        TypeCode::Fixed { digits, scale }
    }

    /// `sequence<content, bound>`, 0 for unbounded.
    pub fn sequence(content: TypeCode, bound: u32) -> TypeCode {
        TypeCode::Sequence(Arc::new(SequenceType { content, bound }))
    }

    pub fn array(content: TypeCode, length: u32) -> TypeCode {
        TypeCode::Array(Arc::new(ArrayType { content, length }))
    }

    pub fn alias(id: impl Into<String>, name: impl Into<String>, content: TypeCode) -> TypeCode {
        TypeCode::Alias(Arc::new(AliasType {
            id: id.into(),
            name: name.into(),
            content,
        }))
    }

    pub fn value_box(
        id: impl Into<String>,
        name: impl Into<String>,
        content: TypeCode,
    ) -> TypeCode {
        TypeCode::ValueBox(Arc::new(AliasType {
            id: id.into(),
            name: name.into(),
            content,
        }))
    }

    /// A value type: `modifier` one of [`ValueType::VM_NONE`] …, `concrete_base`
    /// [`TypeCode::Null`] when there is none, members as (name, type, visibility).
    pub fn value_tc<'n>(
        id: impl Into<String>,
        name: impl Into<String>,
        modifier: i16,
        concrete_base: TypeCode,
        members: impl IntoIterator<Item = (&'n str, TypeCode, i16)>,
    ) -> TypeCode {
        TypeCode::Value(Arc::new(ValueType {
            id: id.into(),
            name: name.into(),
            modifier,
            concrete_base,
            members: members
                .into_iter()
                .map(|(name, type_code, visibility)| ValueMember {
                    name: name.to_owned(),
                    type_code,
                    visibility,
                })
                .collect(),
        }))
    }

    /// `CORBA::ValueBase`: a value of any type.
    pub fn value_base() -> TypeCode {
        TypeCode::value_tc(
            "IDL:omg.org/CORBA/ValueBase:1.0",
            "ValueBase",
            ValueType::VM_NONE,
            TypeCode::Null,
            [],
        )
    }

    pub fn abstract_interface(id: impl Into<String>, name: impl Into<String>) -> TypeCode {
        TypeCode::AbstractInterface(Arc::new(Named {
            id: id.into(),
            name: name.into(),
        }))
    }

    pub fn local_interface(id: impl Into<String>, name: impl Into<String>) -> TypeCode {
        TypeCode::LocalInterface(Arc::new(Named {
            id: id.into(),
            name: name.into(),
        }))
    }

    pub fn native(id: impl Into<String>, name: impl Into<String>) -> TypeCode {
        TypeCode::Native(Arc::new(Named {
            id: id.into(),
            name: name.into(),
        }))
    }

    pub fn objref(id: impl Into<String>, name: impl Into<String>) -> TypeCode {
        TypeCode::ObjRef(Arc::new(Named {
            id: id.into(),
            name: name.into(),
        }))
    }

    /// A struct from `(member name, member type)` pairs.
    pub fn struct_tc<N: Into<String>>(
        id: impl Into<String>,
        name: impl Into<String>,
        members: impl IntoIterator<Item = (N, TypeCode)>,
    ) -> TypeCode {
        TypeCode::Struct(Arc::new(StructType::new(id, name, members)))
    }

    /// An exception from `(member name, member type)` pairs.
    pub fn except_tc<N: Into<String>>(
        id: impl Into<String>,
        name: impl Into<String>,
        members: impl IntoIterator<Item = (N, TypeCode)>,
    ) -> TypeCode {
        TypeCode::Except(Arc::new(StructType::new(id, name, members)))
    }

    pub fn enum_tc<N: Into<String>>(
        id: impl Into<String>,
        name: impl Into<String>,
        members: impl IntoIterator<Item = N>,
    ) -> TypeCode {
        TypeCode::Enum(Arc::new(EnumType {
            id: id.into(),
            name: name.into(),
            members: members.into_iter().map(Into::into).collect(),
        }))
    }

    /// A union from `(label, member name, member type)` triples.
    pub fn union_tc<N: Into<String>>(
        id: impl Into<String>,
        name: impl Into<String>,
        discriminator: TypeCode,
        members: impl IntoIterator<Item = (UnionLabel, N, TypeCode)>,
    ) -> TypeCode {
        TypeCode::Union(Arc::new(UnionType {
            id: id.into(),
            name: name.into(),
            discriminator,
            members: members
                .into_iter()
                .map(|(label, name, type_code)| UnionMember {
                    label,
                    name: name.into(),
                    type_code,
                })
                .collect(),
        }))
    }

    /// A reference to the enclosing TypeCode of `kind` with repository id `id`
    /// (`create_recursive_tc`).
    pub fn recursive(kind: TCKind, id: impl Into<String>) -> TypeCode {
        TypeCode::Recursive(Arc::new(RecursiveRef {
            kind,
            id: id.into(),
        }))
    }

    /// The kind. A [`TypeCode::Recursive`] reference reports the kind it refers to.
    pub fn kind(&self) -> TCKind {
        use TypeCode as T;
        match self {
            T::Null => TCKind::Null,
            T::Void => TCKind::Void,
            T::Short => TCKind::Short,
            T::Long => TCKind::Long,
            T::UShort => TCKind::UShort,
            T::ULong => TCKind::ULong,
            T::Float => TCKind::Float,
            T::Double => TCKind::Double,
            T::Boolean => TCKind::Boolean,
            T::Char => TCKind::Char,
            T::Octet => TCKind::Octet,
            T::Any => TCKind::Any,
            T::TypeCode => TCKind::TypeCode,
            T::Principal => TCKind::Principal,
            T::LongLong => TCKind::LongLong,
            T::ULongLong => TCKind::ULongLong,
            T::LongDouble => TCKind::LongDouble,
            T::WChar => TCKind::WChar,
            T::String(_) => TCKind::String,
            T::WString(_) => TCKind::WString,
            T::Fixed { .. } => TCKind::Fixed,
            T::ObjRef(_) => TCKind::ObjRef,
            T::Struct(_) => TCKind::Struct,
            T::Union(_) => TCKind::Union,
            T::Enum(_) => TCKind::Enum,
            T::Sequence(_) => TCKind::Sequence,
            T::Array(_) => TCKind::Array,
            T::Alias(_) => TCKind::Alias,
            T::Except(_) => TCKind::Except,
            T::Value(_) => TCKind::Value,
            T::ValueBox(_) => TCKind::ValueBox,
            T::Native(_) => TCKind::Native,
            T::AbstractInterface(_) => TCKind::AbstractInterface,
            T::LocalInterface(_) => TCKind::LocalInterface,
            T::Component(_) => TCKind::Component,
            T::Home(_) => TCKind::Home,
            T::Event(_) => TCKind::Event,
            T::Recursive(r) => r.kind,
        }
    }

    /// True for an unresolved [`TypeCode::Recursive`] reference.
    pub fn is_recursive(&self) -> bool {
        matches!(self, TypeCode::Recursive(_))
    }

    /// The repository id, for the kinds that have one.
    pub fn id(&self) -> Option<&str> {
        use TypeCode as T;
        match self {
            T::ObjRef(n)
            | T::Native(n)
            | T::AbstractInterface(n)
            | T::LocalInterface(n)
            | T::Component(n)
            | T::Home(n) => Some(&n.id),
            T::Struct(s) | T::Except(s) => Some(&s.id),
            T::Union(u) => Some(&u.id),
            T::Enum(e) => Some(&e.id),
            T::Alias(a) | T::ValueBox(a) => Some(&a.id),
            T::Value(v) | T::Event(v) => Some(&v.id),
            T::Recursive(r) => Some(&r.id),
            _ => None,
        }
    }

    /// The simple name, for the kinds that have one (not for recursive references).
    pub fn name(&self) -> Option<&str> {
        use TypeCode as T;
        match self {
            T::ObjRef(n)
            | T::Native(n)
            | T::AbstractInterface(n)
            | T::LocalInterface(n)
            | T::Component(n)
            | T::Home(n) => Some(&n.name),
            T::Struct(s) | T::Except(s) => Some(&s.name),
            T::Union(u) => Some(&u.name),
            T::Enum(e) => Some(&e.name),
            T::Alias(a) | T::ValueBox(a) => Some(&a.name),
            T::Value(v) | T::Event(v) => Some(&v.name),
            _ => None,
        }
    }

    /// Number of members of a struct, union, enum, exception, value or event type.
    pub fn member_count(&self) -> Option<usize> {
        use TypeCode as T;
        match self {
            T::Struct(s) | T::Except(s) => Some(s.members.len()),
            T::Union(u) => Some(u.members.len()),
            T::Enum(e) => Some(e.members.len()),
            T::Value(v) | T::Event(v) => Some(v.members.len()),
            _ => None,
        }
    }

    /// The name of member `i`.
    pub fn member_name(&self, i: usize) -> Option<&str> {
        use TypeCode as T;
        match self {
            T::Struct(s) | T::Except(s) => s.members.get(i).map(|m| m.name.as_str()),
            T::Union(u) => u.members.get(i).map(|m| m.name.as_str()),
            T::Enum(e) => e.members.get(i).map(String::as_str),
            T::Value(v) | T::Event(v) => v.members.get(i).map(|m| m.name.as_str()),
            _ => None,
        }
    }

    /// The type of member `i`.
    pub fn member_type(&self, i: usize) -> Option<&TypeCode> {
        use TypeCode as T;
        match self {
            T::Struct(s) | T::Except(s) => s.members.get(i).map(|m| &m.type_code),
            T::Union(u) => u.members.get(i).map(|m| &m.type_code),
            T::Value(v) | T::Event(v) => v.members.get(i).map(|m| &m.type_code),
            _ => None,
        }
    }

    /// The element type of a sequence or array, the aliased type of an alias, the boxed type
    /// of a value box.
    pub fn content_type(&self) -> Option<&TypeCode> {
        match self {
            TypeCode::Sequence(s) => Some(&s.content),
            TypeCode::Array(a) => Some(&a.content),
            TypeCode::Alias(a) | TypeCode::ValueBox(a) => Some(&a.content),
            _ => None,
        }
    }

    /// The bound of a string, wstring or sequence (0: unbounded) or the length of an array.
    pub fn length(&self) -> Option<u32> {
        match self {
            TypeCode::String(b) | TypeCode::WString(b) => Some(*b),
            TypeCode::Sequence(s) => Some(s.bound),
            TypeCode::Array(a) => Some(a.length),
            _ => None,
        }
    }

    /// A union's discriminator type.
    pub fn discriminator_type(&self) -> Option<&TypeCode> {
        match self {
            TypeCode::Union(u) => Some(&u.discriminator),
            _ => None,
        }
    }

    /// A union's default member index (`default_index`, -1 when there is none).
    pub fn default_index(&self) -> Option<i32> {
        match self {
            TypeCode::Union(u) => Some(u.default_index().map_or(-1, |i| i as i32)),
            _ => None,
        }
    }

    /// A fixed type's `(digits, scale)`.
    pub fn fixed_digits_scale(&self) -> Option<(u16, i16)> {
        match self {
            TypeCode::Fixed { digits, scale } => Some((*digits, *scale)),
            _ => None,
        }
    }

    /// The type with any aliases stripped (CORBA's `get_compact_typecode` on the outside only).
    pub fn unalias(&self) -> &TypeCode {
        let mut tc = self;
        while let TypeCode::Alias(a) = tc {
            tc = &a.content;
        }
        tc
    }

    /// `TypeCode::equal`: the same kind with equal parameters, names and repository ids
    /// included, recursively.
    pub fn equal(&self, other: &TypeCode) -> bool {
        use TypeCode as T;
        match (self, other) {
            (T::String(a), T::String(b)) | (T::WString(a), T::WString(b)) => a == b,
            (
                T::Fixed {
                    digits: d1,
                    scale: s1,
                },
                T::Fixed {
                    digits: d2,
                    scale: s2,
                },
            ) => d1 == d2 && s1 == s2,
            (T::ObjRef(a), T::ObjRef(b))
            | (T::Native(a), T::Native(b))
            | (T::AbstractInterface(a), T::AbstractInterface(b))
            | (T::LocalInterface(a), T::LocalInterface(b))
            | (T::Component(a), T::Component(b))
            | (T::Home(a), T::Home(b)) => a == b,
            (T::Struct(a), T::Struct(b)) | (T::Except(a), T::Except(b)) => {
                Arc::ptr_eq(a, b) || a == b
            }
            (T::Union(a), T::Union(b)) => Arc::ptr_eq(a, b) || a == b,
            (T::Enum(a), T::Enum(b)) => a == b,
            (T::Sequence(a), T::Sequence(b)) => Arc::ptr_eq(a, b) || a == b,
            (T::Array(a), T::Array(b)) => Arc::ptr_eq(a, b) || a == b,
            (T::Alias(a), T::Alias(b)) | (T::ValueBox(a), T::ValueBox(b)) => {
                Arc::ptr_eq(a, b) || a == b
            }
            (T::Value(a), T::Value(b)) | (T::Event(a), T::Event(b)) => Arc::ptr_eq(a, b) || a == b,
            (T::Recursive(a), T::Recursive(b)) => a == b,
            (a, b) => a.kind() == b.kind() && TypeCode::from_kind(a.kind()).is_some(),
        }
    }

    /// `TypeCode::equivalent` (CORBA 3.0 §4.11.1): like [`TypeCode::equal`] but aliases are
    /// looked through at every level, and names and member names are ignored. "If both
    /// TypeCodes have non-empty repository ids, they are equivalent exactly when the ids are."
    pub fn equivalent(&self, other: &TypeCode) -> bool {
        use TypeCode as T;
        let (a, b) = (self.unalias(), other.unalias());
        if a.kind() != b.kind() {
            return false;
        }
        if let (Some(x), Some(y)) = (a.id(), b.id()) {
            if !x.is_empty() && !y.is_empty() {
                return x == y;
            }
        }
        let members_equiv = |x: &[StructMember], y: &[StructMember]| {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(m, n)| m.type_code.equivalent(&n.type_code))
        };
        match (a, b) {
            (T::Struct(x), T::Struct(y)) | (T::Except(x), T::Except(y)) => {
                members_equiv(&x.members, &y.members)
            }
            (T::Union(x), T::Union(y)) => {
                x.discriminator.equivalent(&y.discriminator)
                    && x.members.len() == y.members.len()
                    && x.members
                        .iter()
                        .zip(&y.members)
                        .all(|(m, n)| m.label == n.label && m.type_code.equivalent(&n.type_code))
            }
            (T::Enum(x), T::Enum(y)) => x.members.len() == y.members.len(),
            (T::Sequence(x), T::Sequence(y)) => {
                x.bound == y.bound && x.content.equivalent(&y.content)
            }
            (T::Array(x), T::Array(y)) => x.length == y.length && x.content.equivalent(&y.content),
            (T::ValueBox(x), T::ValueBox(y)) => x.content.equivalent(&y.content),
            (T::Value(x), T::Value(y)) | (T::Event(x), T::Event(y)) => {
                x.modifier == y.modifier
                    && x.concrete_base.equivalent(&y.concrete_base)
                    && x.members.len() == y.members.len()
                    && x.members.iter().zip(&y.members).all(|(m, n)| {
                        m.visibility == n.visibility && m.type_code.equivalent(&n.type_code)
                    })
            }
            // Ids were compared above; with an empty id there is nothing else to compare.
            (T::Recursive(_), _) | (_, T::Recursive(_)) => true,
            _ => a.equal(b),
        }
    }

    /// Whether this TypeCode is what a [`TypeCode::Recursive`] reference `r` refers to.
    pub(crate) fn binds(&self, r: &RecursiveRef) -> bool {
        self.kind() == r.kind && !self.is_recursive() && self.id() == Some(r.id.as_str())
    }

    /// Address of the shared parameters of a constructed TypeCode, which identifies a node in a
    /// TypeCode graph (the encoder uses it to emit indirections for repeated TypeCodes).
    pub(crate) fn node_address(&self) -> Option<usize> {
        use TypeCode as T;
        Some(match self {
            T::ObjRef(n)
            | T::Native(n)
            | T::AbstractInterface(n)
            | T::LocalInterface(n)
            | T::Component(n)
            | T::Home(n) => Arc::as_ptr(n) as usize,
            T::Struct(s) | T::Except(s) => Arc::as_ptr(s) as usize,
            T::Union(u) => Arc::as_ptr(u) as usize,
            T::Enum(e) => Arc::as_ptr(e) as usize,
            T::Sequence(s) => Arc::as_ptr(s) as usize,
            T::Array(a) => Arc::as_ptr(a) as usize,
            T::Alias(a) | T::ValueBox(a) => Arc::as_ptr(a) as usize,
            T::Value(v) | T::Event(v) => Arc::as_ptr(v) as usize,
            _ => return None,
        })
    }
}

impl Default for TypeCode {
    /// `tk_null`, as in an empty `any`: lets generated structs with TypeCode members derive
    /// `Default`.
    fn default() -> TypeCode {
        TypeCode::Null
    }
}

impl PartialEq for TypeCode {
    fn eq(&self, other: &TypeCode) -> bool {
        self.equal(other)
    }
}

impl StructType {
    pub fn new<N: Into<String>>(
        id: impl Into<String>,
        name: impl Into<String>,
        members: impl IntoIterator<Item = (N, TypeCode)>,
    ) -> StructType {
        StructType {
            id: id.into(),
            name: name.into(),
            members: members
                .into_iter()
                .map(|(name, type_code)| StructMember {
                    name: name.into(),
                    type_code,
                })
                .collect(),
        }
    }
}

impl UnionType {
    /// Index of the `default:` member.
    pub fn default_index(&self) -> Option<usize> {
        self.members
            .iter()
            .position(|m| m.label == UnionLabel::Default)
    }

    /// The member a discriminator value selects: the first whose label equals it, else the
    /// default member, else none (the union then holds no value).
    pub fn member_index(&self, discriminator: &Value) -> Option<usize> {
        let key = any::discriminator_key(discriminator)?;
        self.members
            .iter()
            .position(|m| match &m.label {
                UnionLabel::Value(v) => any::discriminator_key(v) == Some(key),
                UnionLabel::Default => false,
            })
            .or_else(|| self.default_index())
    }
}

impl CdrEncode for TypeCode {
    /// Writes the TypeCode as a top-level TypeCode: recursive references and repeated
    /// TypeCodes become indirections.
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        wire::Writer::default().write(enc, self).map(drop)
    }
}

impl<'a> CdrDecode<'a> for TypeCode {
    const MIN_WIRE_SIZE: usize = 4;

    /// Reads a top-level TypeCode, resolving indirections within it.
    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        wire::Reader::default().read_top(dec)
    }
}
