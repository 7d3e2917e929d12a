//! The resolved semantic model: what a code generator reads.
//!
//! Unlike the AST, every name here is resolved: a type reference is either a built-in type or an
//! [`ItemId`] naming a definition in [`Model::items`]; forward declarations and their definitions
//! are one item; reopened modules are one item; constants carry their evaluated value; every
//! item carries its fully scoped name and its repository ID (after `#pragma prefix`, `version`,
//! `ID`, `typeid` and `typeprefix`). Generators can also build a `Model` by hand for tests.

use std::path::PathBuf;

use crate::diagnostics::Location;

/// Index of an item in [`Model::items`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemId(pub usize);

#[derive(Debug, Clone, Default)]
pub struct Model {
    pub items: Vec<Item>,
    /// Top-level items, in declaration order.
    pub roots: Vec<ItemId>,
    /// Every file read (the main file and every `#include`d file), for `rerun-if-changed`.
    pub files: Vec<PathBuf>,
    /// What the front end accepted but warns about, in source order.
    pub warnings: Vec<crate::Diagnostic>,
}

impl Model {
    pub fn item(&self, id: ItemId) -> &Item {
        &self.items[id.0]
    }

    pub fn get(&self, id: ItemId) -> Option<&Item> {
        self.items.get(id.0)
    }

    /// Looks an item up by its fully scoped name, e.g. `"M::I"` or `"::M::I"`.
    pub fn lookup(&self, scoped: &str) -> Option<ItemId> {
        let scoped = scoped.strip_prefix("::").unwrap_or(scoped);
        let parts: Vec<&str> = scoped.split("::").collect();
        self.items
            .iter()
            .position(|it| {
                it.scoped_name
                    .iter()
                    .map(String::as_str)
                    .eq(parts.iter().copied())
            })
            .map(ItemId)
    }

    /// Follows typedefs until a non-alias type.
    pub fn unalias<'a>(&'a self, mut ty: &'a TypeRef) -> &'a TypeRef {
        // Bounded by the number of items: typedef chains cannot be cyclic (declaration before use).
        for _ in 0..=self.items.len() {
            match ty {
                TypeRef::Named(id) => match self.get(*id).map(|i| &i.kind) {
                    Some(ItemKind::Typedef(t)) => ty = &t.ty,
                    _ => return ty,
                },
                _ => return ty,
            }
        }
        ty
    }
}

#[derive(Debug, Clone)]
pub struct Item {
    /// The identifier, without an escaping `_`.
    pub name: String,
    /// Identifiers from the outermost module down to this item.
    pub scoped_name: Vec<String>,
    pub repository_id: String,
    pub location: Location,
    pub parent: Option<ItemId>,
    pub kind: ItemKind,
}

impl Item {
    /// `A::B::C`.
    pub fn scoped(&self) -> String {
        self.scoped_name.join("::")
    }
}

#[derive(Debug, Clone)]
pub enum ItemKind {
    Module(Module),
    Interface(Interface),
    Operation(Operation),
    Attribute(Attribute),
    Const(Const),
    Typedef(Typedef),
    Struct(Struct),
    Union(Union),
    Enum(Enum),
    Exception(Exception),
    Native,
    ValueType(ValueType),
    ValueBox(ValueBox),
    StateMember(StateMember),
    Factory(Factory),
}

impl ItemKind {
    /// What this kind of item is called in messages.
    pub fn describe(&self) -> &'static str {
        match self {
            ItemKind::Module(_) => "module",
            ItemKind::Interface(_) => "interface",
            ItemKind::Operation(_) => "operation",
            ItemKind::Attribute(_) => "attribute",
            ItemKind::Const(_) => "constant",
            ItemKind::Typedef(_) => "typedef",
            ItemKind::Struct(_) => "struct",
            ItemKind::Union(_) => "union",
            ItemKind::Enum(_) => "enum",
            ItemKind::Exception(_) => "exception",
            ItemKind::Native => "native type",
            ItemKind::ValueType(_) => "valuetype",
            ItemKind::ValueBox(_) => "value box",
            ItemKind::StateMember(_) => "state member",
            ItemKind::Factory(_) => "factory",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Module {
    /// Contents of every opening of the module, in order.
    pub contents: Vec<ItemId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterfaceKind {
    Unconstrained,
    Abstract,
    Local,
}

#[derive(Debug, Clone)]
pub struct Interface {
    pub kind: InterfaceKind,
    /// False while only forward-declared (a reference to it is still a valid object reference).
    pub defined: bool,
    pub bases: Vec<ItemId>,
    /// Types, constants, exceptions, operations and attributes, in declaration order.
    pub contents: Vec<ItemId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamDir {
    In,
    Out,
    InOut,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub dir: ParamDir,
    pub ty: TypeRef,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub oneway: bool,
    /// `None` for `void`.
    pub result: Option<TypeRef>,
    pub params: Vec<Param>,
    pub raises: Vec<ItemId>,
    pub context: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub readonly: bool,
    pub ty: TypeRef,
    pub get_raises: Vec<ItemId>,
    pub set_raises: Vec<ItemId>,
}

#[derive(Debug, Clone)]
pub struct Const {
    pub ty: TypeRef,
    pub value: ConstValue,
}

#[derive(Debug, Clone)]
pub struct Typedef {
    /// The aliased type; arrays are [`TypeRef::Array`].
    pub ty: TypeRef,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub ty: TypeRef,
    pub location: Location,
}

#[derive(Debug, Clone)]
pub struct Struct {
    pub defined: bool,
    pub members: Vec<Member>,
    /// Types defined inside the struct body.
    pub nested: Vec<ItemId>,
}

#[derive(Debug, Clone)]
pub struct Exception {
    pub members: Vec<Member>,
    pub nested: Vec<ItemId>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CaseLabel {
    Default,
    Value(ConstValue),
}

#[derive(Debug, Clone)]
pub struct UnionCase {
    pub labels: Vec<CaseLabel>,
    pub name: String,
    pub ty: TypeRef,
    pub location: Location,
}

#[derive(Debug, Clone)]
pub struct Union {
    pub defined: bool,
    pub discriminator: TypeRef,
    pub cases: Vec<UnionCase>,
    pub nested: Vec<ItemId>,
}

#[derive(Debug, Clone)]
pub struct Enum {
    pub enumerators: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Concrete,
    Abstract,
    Custom,
}

#[derive(Debug, Clone)]
pub struct ValueType {
    pub kind: ValueKind,
    pub defined: bool,
    pub truncatable: bool,
    pub bases: Vec<ItemId>,
    pub supports: Vec<ItemId>,
    /// Types, constants, exceptions, operations, attributes, state members and factories.
    pub contents: Vec<ItemId>,
}

#[derive(Debug, Clone)]
pub struct ValueBox {
    pub ty: TypeRef,
}

#[derive(Debug, Clone)]
pub struct StateMember {
    pub public: bool,
    pub ty: TypeRef,
}

#[derive(Debug, Clone)]
pub struct Factory {
    pub params: Vec<Param>,
    pub raises: Vec<ItemId>,
}

/// Built-in types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Primitive {
    Short,
    Long,
    LongLong,
    UShort,
    ULong,
    ULongLong,
    Float,
    Double,
    LongDouble,
    Char,
    WChar,
    Boolean,
    Octet,
    Any,
    Object,
    ValueBase,
    /// `CORBA::TypeCode`, built in as omniidl and the CORBA spec (§3.19) allow.
    TypeCode,
    /// `CORBA::Principal` (deprecated, still found in old IDL).
    Principal,
}

/// A resolved type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeRef {
    Primitive(Primitive),
    String(Option<u32>),
    WString(Option<u32>),
    Sequence(Box<TypeRef>, Option<u32>),
    Fixed {
        digits: u16,
        scale: u16,
    },
    /// Array dimensions, outermost first.
    Array(Box<TypeRef>, Vec<u32>),
    /// A user-defined type: typedef, struct, union, enum, native, interface, valuetype, value box.
    Named(ItemId),
}

/// The value of a constant or union label.
#[derive(Debug, Clone, PartialEq)]
pub enum ConstValue {
    /// Any integer type (including octet); the value fits the constant's type.
    Integer(i128),
    Float(f64),
    /// A fixed-point value as canonical decimal text, e.g. `"-12.50"`, with its digits and scale.
    Fixed {
        text: String,
        digits: u16,
        scale: u16,
    },
    Char(u8),
    WChar(u32),
    String(String),
    WString(String),
    Boolean(bool),
    /// An enumerator: the enum and the enumerator's position.
    Enum {
        ty: ItemId,
        index: u32,
    },
}
