//! The syntax tree of an IDL specification, exactly as written.
//!
//! Names here are unresolved and expressions unevaluated; the [`resolve`](crate::resolve) pass
//! turns this tree into the [`model`](crate::model). Every node carries the [`Span`] of its first
//! token so that the semantic pass can point at the offending text. Pragmas stay in the tree in
//! the position they were written, because `#pragma prefix` applies from where it appears to the
//! end of the enclosing scope.

use crate::lexer::Pragma;
use crate::source::Span;

/// An identifier as written (an escaped identifier keeps its leading `_`).
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

impl Ident {
    /// The identifier without the escaping underscore: what IDL compares and what repository IDs
    /// contain.
    pub fn unescaped(&self) -> &str {
        self.name.strip_prefix('_').unwrap_or(&self.name)
    }
}

/// `a::b::c` or `::a::b`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopedName {
    pub global: bool,
    pub parts: Vec<Ident>,
    pub span: Span,
}

impl std::fmt::Display for ScopedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.global {
            f.write_str("::")?;
        }
        for (i, p) in self.parts.iter().enumerate() {
            if i > 0 {
                f.write_str("::")?;
            }
            f.write_str(&p.name)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Specification {
    pub definitions: Vec<Definition>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Definition {
    Module(Module),
    Interface(Interface),
    InterfaceForward(InterfaceForward),
    ValueType(ValueType),
    ValueBox(ValueBox),
    ValueForward(ValueForward),
    Const(Const),
    Typedef(Typedef),
    Struct(Struct),
    Union(Union),
    Enum(Enum),
    Native(Ident),
    StructForward(Ident),
    UnionForward(Ident),
    Exception(Exception),
    /// `typeid name "id";`
    TypeId {
        name: ScopedName,
        id: String,
        span: Span,
    },
    /// `typeprefix name "prefix";`
    TypePrefix {
        name: ScopedName,
        prefix: String,
        span: Span,
    },
    /// `import name;` / `import "file";` (parsed; the resolver reports it as unsupported only if
    /// something it would have provided is missing).
    Import {
        target: String,
        span: Span,
    },
    Operation(Operation),
    Attribute(Attribute),
    /// A valuetype state member: `public long x;`.
    StateMember(StateMember),
    /// A valuetype `factory` (initializer).
    Factory(Factory),
    /// `component C ... { ... }` (IDL3); the resolver reads its equivalent IDL
    /// ([`crate::ccm`]).
    Component(Component),
    /// `component C;`
    ComponentForward(Ident),
    /// A port or attribute of a component body.
    Port(Port),
    /// `home H ... manages C ... { ... }` (IDL3).
    Home(Home),
    /// A home's `finder` (its `factory` is a [`Definition::Factory`]).
    Finder(Factory),
    /// `eventtype E ...` (a valuetype that is also an event, with its consumer interface).
    EventType(ValueType),
    /// `eventtype E;` / `abstract eventtype E;`
    EventForward(ValueForward),
    Pragma(Pragma, Span),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    pub name: Ident,
    pub definitions: Vec<Definition>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterfaceKind {
    Unconstrained,
    Abstract,
    Local,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Interface {
    pub kind: InterfaceKind,
    pub name: Ident,
    pub bases: Vec<ScopedName>,
    pub body: Vec<Definition>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InterfaceForward {
    pub kind: InterfaceKind,
    pub name: Ident,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Concrete,
    Abstract,
    Custom,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValueType {
    pub kind: ValueKind,
    pub name: Ident,
    pub truncatable: bool,
    pub bases: Vec<ScopedName>,
    pub supports: Vec<ScopedName>,
    pub body: Vec<Definition>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub name: Ident,
    pub base: Option<ScopedName>,
    pub supports: Vec<ScopedName>,
    /// Ports, attributes and pragmas.
    pub body: Vec<Definition>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortKind {
    /// `provides T name;` (a facet)
    Provides,
    /// `uses [multiple] T name;` (a receptacle)
    Uses { multiple: bool },
    /// `emits E name;` (one consumer at a time)
    Emits,
    /// `publishes E name;` (any number of subscribers)
    Publishes,
    /// `consumes E name;` (an event sink)
    Consumes,
}

/// A component port: an interface type (`provides`, `uses`; possibly `Object`) or an eventtype.
#[derive(Debug, Clone, PartialEq)]
pub struct Port {
    pub kind: PortKind,
    pub ty: TypeSpec,
    pub name: Ident,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Home {
    pub name: Ident,
    pub base: Option<ScopedName>,
    pub supports: Vec<ScopedName>,
    pub manages: ScopedName,
    pub primary_key: Option<ScopedName>,
    /// Operations, attributes, types, `factory` ([`Definition::Factory`]) and `finder`
    /// ([`Definition::Finder`]) declarations.
    pub body: Vec<Definition>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValueBox {
    pub name: Ident,
    pub ty: TypeSpec,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValueForward {
    pub abstract_: bool,
    pub name: Ident,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StateMember {
    pub public: bool,
    pub ty: TypeSpec,
    pub declarators: Vec<Declarator>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Factory {
    pub name: Ident,
    pub params: Vec<Param>,
    pub raises: Vec<ScopedName>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Const {
    pub ty: TypeSpec,
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Typedef {
    pub ty: TypeSpec,
    pub declarators: Vec<Declarator>,
    pub span: Span,
}

/// A declarator: a name with optional array dimensions (`a[3][4]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Declarator {
    pub name: Ident,
    pub dims: Vec<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub ty: TypeSpec,
    pub declarators: Vec<Declarator>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    pub name: Ident,
    pub members: Vec<Member>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    pub name: Ident,
    pub members: Vec<Member>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CaseLabel {
    Value(Expr),
    Default(Span),
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnionCase {
    pub labels: Vec<CaseLabel>,
    pub ty: TypeSpec,
    pub declarator: Declarator,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Union {
    pub name: Ident,
    pub discriminator: TypeSpec,
    pub cases: Vec<UnionCase>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Enum {
    pub name: Ident,
    pub enumerators: Vec<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamDir {
    In,
    Out,
    InOut,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub dir: ParamDir,
    pub ty: TypeSpec,
    pub name: Ident,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub oneway: bool,
    /// `None` for `void`.
    pub result: Option<TypeSpec>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub raises: Vec<ScopedName>,
    /// Where the `raises` keyword was written, for oneway errors.
    pub raises_span: Option<Span>,
    pub context: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub readonly: bool,
    pub ty: TypeSpec,
    pub names: Vec<Ident>,
    /// `raises` of a readonly attribute, or `getraises`.
    pub get_raises: Vec<ScopedName>,
    pub set_raises: Vec<ScopedName>,
    pub span: Span,
}

/// Built-in types with no parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaseType {
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
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeSpecKind {
    Base(BaseType),
    String(Option<Box<Expr>>),
    WString(Option<Box<Expr>>),
    Sequence(Box<TypeSpec>, Option<Box<Expr>>),
    /// `fixed<d, s>`, or bare `fixed` (only legal as a constant type).
    Fixed(Option<(Box<Expr>, Box<Expr>)>),
    Named(ScopedName),
    /// A struct, union or enum defined in place (`struct S {..} s;`).
    Struct(Box<Struct>),
    Union(Box<Union>),
    Enum(Box<Enum>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeSpec {
    pub kind: TypeSpecKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    Xor,
    And,
    Shl,
    Shr,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Plus,
    Not,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Int(u128),
    Float(String),
    Fixed(String),
    Char(u8),
    WChar(u32),
    String(String),
    WString(String),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Unary(UnOp, Box<Expr>),
    Name(ScopedName),
    Literal(Literal),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}
