//! IDL types as Rust: the owned type, the borrowed form of an `in` parameter, CDR encode and
//! decode expressions, the least wire size, default-ability and TypeCodes.
//!
//! Encoding goes through the `CdrEncode`/`CdrDecode` impls of `orb` wherever a type's Rust
//! form says everything about its wire form. Where it does not (a bound, or `fixed`'s digits
//! and scale, possibly deep inside sequences and arrays) the expression is built structurally
//! from `orb::codegen`'s `*_with` helpers, one closure per level.

use super::names::ident;
use super::{GenError, Generator, Result};
use crate::model::{ConstValue, ItemId, ItemKind, Primitive, TypeRef};
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use std::collections::HashSet;

/// How an `in` parameter is passed to a servant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pass {
    /// By value: numbers, `bool`, `char`, `WChar`, `LongDouble`, `Fixed`, enums.
    Value,
    /// `&str`: strings and wide strings.
    Str,
    /// `&[T]`: sequences.
    Slice,
    /// `&T`: everything else.
    Ref,
}

/// Array lengths above this have no `Default` in std.
const MAX_DEFAULT_ARRAY: u32 = 32;

impl Generator<'_> {
    /// Follows typedefs.
    pub(super) fn unalias<'t>(&'t self, ty: &'t TypeRef) -> &'t TypeRef {
        self.m.unalias(ty)
    }

    /// The owned Rust type of `ty`, as seen from module `from`.
    pub(super) fn rust_type(&self, ty: &TypeRef, from: &[String]) -> Result<TokenStream> {
        Ok(match ty {
            TypeRef::Primitive(p) => primitive_type(*p)?,
            TypeRef::String(_) => quote!(String),
            TypeRef::WString(_) => quote!(::orb::codegen::WString),
            TypeRef::Fixed { .. } => quote!(::orb::codegen::Fixed),
            TypeRef::Sequence(t, _) => {
                let t = self.rust_type(t, from)?;
                quote!(Vec<#t>)
            }
            TypeRef::Array(t, dims) => {
                let mut out = self.rust_type(t, from)?;
                for d in dims.iter().rev() {
                    let d = Literal::usize_unsuffixed(*d as usize);
                    out = quote!([#out; #d]);
                }
                out
            }
            TypeRef::Named(id) => match &self.item(*id)?.kind {
                // A concrete interface's typed reference; an interface only ever declared
                // forward has none, so its references are plain `CORBA::Object`s.
                // A local object is a Rust value implementing the interface's trait.
                ItemKind::Interface(i) if i.kind == crate::model::InterfaceKind::Local => {
                    let p = self.path_to(from, *id)?;
                    quote!(::orb::codegen::LocalRef<dyn #p>)
                }
                // An object reference or a value, whichever the sender had.
                ItemKind::Interface(i) if i.kind == crate::model::InterfaceKind::Abstract => {
                    quote!(::orb::codegen::AbstractRef)
                }
                ItemKind::Interface(_) => {
                    let n = self.names(*id)?;
                    match &n.reference {
                        Some(r) => super::relative(from, &n.scope, r),
                        None => quote!(::orb::codegen::ObjectRef),
                    }
                }
                // A value with its graph; null is `None`. An abstract value type's values are
                // of the types derived from it: any value.
                ItemKind::ValueType(v) if v.kind == crate::model::ValueKind::Abstract => {
                    quote!(Option<::orb::codegen::ValueHandle<dyn ::orb::codegen::ValueType>>)
                }
                ItemKind::ValueType(_) | ItemKind::ValueBox(_) => {
                    let p = self.path_to(from, *id)?;
                    quote!(Option<::orb::codegen::ValueHandle<#p>>)
                }
                _ => self.path_to(from, *id)?,
            },
        })
    }

    /// How an `in` parameter of type `ty` is passed.
    pub(super) fn pass(&self, ty: &TypeRef) -> Pass {
        match self.unalias(ty) {
            TypeRef::Primitive(p) => match p {
                Primitive::Any | Primitive::Object | Primitive::TypeCode | Primitive::ValueBase => {
                    Pass::Ref
                }
                Primitive::Principal => Pass::Slice,
                _ => Pass::Value,
            },
            TypeRef::String(_) | TypeRef::WString(_) => Pass::Str,
            TypeRef::Sequence(..) => Pass::Slice,
            TypeRef::Fixed { .. } => Pass::Value,
            TypeRef::Named(id) => match self.m.get(*id).map(|i| &i.kind) {
                Some(ItemKind::Enum(_)) => Pass::Value,
                _ => Pass::Ref,
            },
            TypeRef::Array(..) => Pass::Ref,
        }
    }

    /// The Rust type of an `in` parameter (`&str`, `&[T]`, `&T` or `T`).
    pub(super) fn in_param_type(&self, ty: &TypeRef, from: &[String]) -> Result<TokenStream> {
        Ok(match self.pass(ty) {
            Pass::Value => self.rust_type(ty, from)?,
            Pass::Str => quote!(&str),
            Pass::Slice => match self.unalias(ty) {
                TypeRef::Sequence(t, _) => {
                    let t = self.rust_type(t, from)?;
                    quote!(&[#t])
                }
                _ => quote!(&[u8]),
            },
            Pass::Ref => {
                let t = self.rust_type(ty, from)?;
                quote!(&#t)
            }
        })
    }

    /// True if CDR needs more than the Rust type says: a bound or a `fixed`, at any depth
    /// short of a named constructed type (which encodes itself).
    pub(super) fn special(&self, ty: &TypeRef) -> bool {
        match self.unalias(ty) {
            TypeRef::String(Some(_)) | TypeRef::WString(Some(_)) | TypeRef::Fixed { .. } => true,
            TypeRef::Sequence(t, b) => b.is_some() || self.special(t),
            TypeRef::Array(t, _) => self.special(t),
            _ => false,
        }
    }

    /// An expression of type `Result<(), EncodeError>` writing `v` (an expression of type
    /// `&T`) to the `Encoder` named `enc`.
    pub(super) fn encode_expr(
        &self,
        ty: &TypeRef,
        v: TokenStream,
        depth: usize,
    ) -> Result<TokenStream> {
        let cg = quote!(::orb::codegen);
        if !self.special(ty) {
            return Ok(quote!(#cg::CdrEncode::encode(#v, enc)));
        }
        Ok(match self.unalias(ty) {
            TypeRef::String(Some(b)) => {
                let b = Literal::u32_unsuffixed(*b);
                quote!(#cg::encode_bounded_string(enc, #v, #b))
            }
            TypeRef::WString(Some(b)) => {
                let b = Literal::u32_unsuffixed(*b);
                quote!(#cg::encode_bounded_wstring(enc, #v, #b))
            }
            TypeRef::Fixed { digits, scale } => {
                let (d, s) = (
                    Literal::u16_unsuffixed(*digits),
                    Literal::u16_unsuffixed(*scale),
                );
                quote!(enc.write_fixed(#v, #d, #s))
            }
            TypeRef::Sequence(t, b) => {
                let b = Literal::u32_unsuffixed(b.unwrap_or(0));
                if self.special(t) {
                    let x = ident(&format!("x{depth}"));
                    let inner = self.encode_expr(t, quote!(#x), depth + 1)?;
                    quote!(#cg::encode_seq_with(enc, #v, #b, |#x, enc| #inner))
                } else {
                    quote!(#cg::encode_bounded_seq(enc, #v, #b))
                }
            }
            TypeRef::Array(t, dims) => self.encode_array(t, dims, v, depth)?,
            _ => quote!(#cg::CdrEncode::encode(#v, enc)),
        })
    }

    fn encode_array(
        &self,
        t: &TypeRef,
        dims: &[u32],
        v: TokenStream,
        depth: usize,
    ) -> Result<TokenStream> {
        let x = ident(&format!("x{depth}"));
        let inner = match dims {
            [] | [_] => self.encode_expr(t, quote!(#x), depth + 1)?,
            [_, rest @ ..] => self.encode_array(t, rest, quote!(#x), depth + 1)?,
        };
        Ok(quote!(::orb::codegen::encode_array_with(enc, #v, |#x, enc| #inner)))
    }

    /// An expression of type `Result<T, DecodeError>` reading a `ty` from the `Decoder` named
    /// `dec`, as seen from module `from`.
    pub(super) fn decode_expr(&self, ty: &TypeRef, from: &[String]) -> Result<TokenStream> {
        let cg = quote!(::orb::codegen);
        if !self.special(ty) {
            let t = self.rust_type(ty, from)?;
            return Ok(quote!(<#t as #cg::CdrDecode>::decode(dec)));
        }
        Ok(match self.unalias(ty) {
            TypeRef::String(Some(b)) => {
                let b = Literal::u32_unsuffixed(*b);
                quote!(#cg::decode_bounded_string(dec, #b))
            }
            TypeRef::WString(Some(b)) => {
                let b = Literal::u32_unsuffixed(*b);
                quote!(#cg::read_bounded_wstring(dec, #b))
            }
            TypeRef::Fixed { digits, scale } => {
                let (d, s) = (
                    Literal::u16_unsuffixed(*digits),
                    Literal::u16_unsuffixed(*scale),
                );
                quote!(dec.read_fixed(#d, #s))
            }
            TypeRef::Sequence(t, b) => {
                let b = Literal::u32_unsuffixed(b.unwrap_or(0));
                if self.special(t) {
                    let min = Literal::usize_unsuffixed(self.min_size(t));
                    let inner = self.decode_expr(t, from)?;
                    quote!(#cg::decode_seq_with(dec, #b, #min, |dec| #inner))
                } else {
                    quote!(#cg::decode_bounded_seq(dec, #b))
                }
            }
            TypeRef::Array(t, dims) => self.decode_array(t, dims, from)?,
            other => {
                let t = self.rust_type(other, from)?;
                quote!(<#t as #cg::CdrDecode>::decode(dec))
            }
        })
    }

    fn decode_array(&self, t: &TypeRef, dims: &[u32], from: &[String]) -> Result<TokenStream> {
        let (inner, min) = match dims {
            [] | [_] => (self.decode_expr(t, from)?, self.min_size(t)),
            [_, rest @ ..] => (
                self.decode_array(t, rest, from)?,
                self.min_size(&TypeRef::Array(Box::new(t.clone()), rest.to_vec())),
            ),
        };
        let min = Literal::usize_unsuffixed(min);
        Ok(quote!(::orb::codegen::decode_array_with(dec, #min, |dec| #inner)))
    }

    /// The fewest octets a value can take (alignment aside): a lower bound, so that a sequence
    /// length the input cannot hold is refused before anything is allocated.
    pub(super) fn min_size(&self, ty: &TypeRef) -> usize {
        self.min_size_depth(ty, 0)
    }

    fn min_size_depth(&self, ty: &TypeRef, depth: usize) -> usize {
        // Deep enough only through pathological models; 0 is always a valid lower bound.
        if depth > 64 {
            return 0;
        }
        match ty {
            TypeRef::Primitive(p) => match p {
                Primitive::Short | Primitive::UShort | Primitive::WChar => 2,
                Primitive::Long | Primitive::ULong | Primitive::Float => 4,
                Primitive::LongLong | Primitive::ULongLong | Primitive::Double => 8,
                Primitive::LongDouble => 16,
                Primitive::Char | Primitive::Boolean | Primitive::Octet => 1,
                Primitive::Any | Primitive::TypeCode | Primitive::Principal => 4,
                // type_id (length and NUL) and the profile count.
                Primitive::Object => 9,
                Primitive::ValueBase => 4,
            },
            TypeRef::String(_) => 5,
            TypeRef::WString(_) | TypeRef::Sequence(..) => 4,
            TypeRef::Fixed { digits, .. } => (*digits as usize + 2) / 2,
            TypeRef::Array(t, dims) => dims
                .iter()
                .fold(self.min_size_depth(t, depth + 1), |acc, &d| {
                    acc.saturating_mul(d as usize)
                }),
            TypeRef::Named(id) => match self.m.get(*id).map(|i| &i.kind) {
                Some(ItemKind::Typedef(t)) => self.min_size_depth(&t.ty, depth + 1),
                Some(ItemKind::Struct(s)) => s.members.iter().fold(0usize, |acc, m| {
                    acc.saturating_add(self.min_size_depth(&m.ty, depth + 1))
                }),
                Some(ItemKind::Exception(e)) => e.members.iter().fold(5usize, |acc, m| {
                    acc.saturating_add(self.min_size_depth(&m.ty, depth + 1))
                }),
                Some(ItemKind::Union(u)) => self.min_size_depth(&u.discriminator, depth + 1),
                Some(ItemKind::Enum(_)) => 4,
                Some(ItemKind::Interface(_)) => 9,
                // A null value's tag.
                Some(ItemKind::ValueType(_) | ItemKind::ValueBox(_)) => 4,
                _ => 0,
            },
        }
    }

    /// Whether `#[derive(Default)]` works for a type holding a `ty`.
    pub(super) fn has_default(&self, ty: &TypeRef) -> bool {
        self.has_default_depth(ty, 0)
    }

    fn has_default_depth(&self, ty: &TypeRef, depth: usize) -> bool {
        if depth > 64 {
            return false;
        }
        match ty {
            TypeRef::Primitive(_) | TypeRef::String(_) | TypeRef::WString(_) => true,
            // A Vec is Default whatever it holds, which is also what ends recursion here.
            TypeRef::Sequence(..) | TypeRef::Fixed { .. } => true,
            TypeRef::Array(t, dims) => {
                dims.iter().all(|&d| d <= MAX_DEFAULT_ARRAY) && self.has_default_depth(t, depth + 1)
            }
            TypeRef::Named(id) => match self.m.get(*id).map(|i| &i.kind) {
                Some(ItemKind::Typedef(t)) => self.has_default_depth(&t.ty, depth + 1),
                Some(ItemKind::Struct(s)) => s
                    .members
                    .iter()
                    .all(|m| self.has_default_depth(&m.ty, depth + 1)),
                Some(ItemKind::Enum(_)) | Some(ItemKind::Interface(_)) => true,
                // `None`, a null value; nil; empty.
                Some(ItemKind::ValueType(_) | ItemKind::ValueBox(_) | ItemKind::Native) => true,
                _ => false,
            },
        }
    }

    // ---- TypeCodes ------------------------------------------------------------------------

    /// An expression building `ty`'s TypeCode, from module `from`, inside the TypeCodes of the
    /// constructed types on `stack` (innermost last): a reference back to one of them is a
    /// recursive TypeCode.
    pub(super) fn tc_expr(
        &self,
        ty: &TypeRef,
        from: &[String],
        stack: &mut Vec<ItemId>,
    ) -> Result<TokenStream> {
        let tc = quote!(::orb::codegen::TypeCode);
        Ok(match ty {
            TypeRef::Primitive(p) => match p {
                Primitive::Short => quote!(#tc::Short),
                Primitive::Long => quote!(#tc::Long),
                Primitive::LongLong => quote!(#tc::LongLong),
                Primitive::UShort => quote!(#tc::UShort),
                Primitive::ULong => quote!(#tc::ULong),
                Primitive::ULongLong => quote!(#tc::ULongLong),
                Primitive::Float => quote!(#tc::Float),
                Primitive::Double => quote!(#tc::Double),
                Primitive::LongDouble => quote!(#tc::LongDouble),
                Primitive::Char => quote!(#tc::Char),
                Primitive::WChar => quote!(#tc::WChar),
                Primitive::Boolean => quote!(#tc::Boolean),
                Primitive::Octet => quote!(#tc::Octet),
                Primitive::Any => quote!(#tc::Any),
                Primitive::TypeCode => quote!(#tc::TypeCode),
                Primitive::Principal => quote!(#tc::Principal),
                Primitive::Object => {
                    quote!(#tc::objref(::orb::codegen::OBJECT_REPOSITORY_ID, "Object"))
                }
                Primitive::ValueBase => quote!(#tc::value_base()),
            },
            TypeRef::String(b) => {
                let b = Literal::u32_unsuffixed(b.unwrap_or(0));
                quote!(#tc::String(#b))
            }
            TypeRef::WString(b) => {
                let b = Literal::u32_unsuffixed(b.unwrap_or(0));
                quote!(#tc::WString(#b))
            }
            TypeRef::Fixed { digits, scale } => {
                let scale = i16::try_from(*scale)
                    .map_err(|_| GenError::new(format!("fixed scale {scale} is out of range")))?;
                let (d, s) = (
                    Literal::u16_unsuffixed(*digits),
                    Literal::i16_unsuffixed(scale),
                );
                quote!(#tc::fixed(#d, #s))
            }
            TypeRef::Sequence(t, b) => {
                let inner = self.tc_expr(t, from, stack)?;
                let b = Literal::u32_unsuffixed(b.unwrap_or(0));
                quote!(#tc::sequence(#inner, #b))
            }
            TypeRef::Array(t, dims) => {
                let mut out = self.tc_expr(t, from, stack)?;
                for d in dims.iter().rev() {
                    let d = Literal::u32_unsuffixed(*d);
                    out = quote!(#tc::array(#out, #d));
                }
                out
            }
            TypeRef::Named(id) => self.named_tc(*id, from, stack)?,
        })
    }

    fn named_tc(
        &self,
        id: ItemId,
        from: &[String],
        stack: &mut Vec<ItemId>,
    ) -> Result<TokenStream> {
        let tc = quote!(::orb::codegen::TypeCode);
        let item = self.item(id)?;
        let repo = item.repository_id.as_str();
        let name = item.name.as_str();
        if stack.contains(&id) {
            let kind = match &item.kind {
                ItemKind::Struct(_) => quote!(Struct),
                ItemKind::Union(_) => quote!(Union),
                ItemKind::ValueType(_) => quote!(Value),
                ItemKind::ValueBox(_) => quote!(ValueBox),
                ItemKind::Exception(_) => quote!(Except),
                _ => {
                    return Err(GenError::new(format!(
                        "'{}' contains itself",
                        item.scoped()
                    )))
                }
            };
            return Ok(quote!(#tc::recursive(::orb::codegen::TCKind::#kind, #repo)));
        }
        Ok(match &item.kind {
            ItemKind::Interface(i) => match i.kind {
                crate::model::InterfaceKind::Unconstrained => quote!(#tc::objref(#repo, #name)),
                crate::model::InterfaceKind::Abstract => {
                    quote!(#tc::abstract_interface(#repo, #name))
                }
                crate::model::InterfaceKind::Local => quote!(#tc::local_interface(#repo, #name)),
            },
            ItemKind::Native => quote!(#tc::native(#repo, #name)),
            ItemKind::Enum(_) => {
                let p = self.path_to(from, id)?;
                quote!(#p::type_code())
            }
            ItemKind::Struct(_) | ItemKind::Union(_) | ItemKind::Exception(_) => {
                if self.reaches_any(id, stack) {
                    self.constructed_tc(id, from, stack)?
                } else {
                    let p = self.path_to(from, id)?;
                    quote!(#p::type_code())
                }
            }
            ItemKind::ValueType(_) | ItemKind::ValueBox(_) => {
                if self.reaches_any(id, stack) {
                    self.value_tc(id, from, stack)?
                } else {
                    let p = self.path_to(from, id)?;
                    quote!(#p::type_code())
                }
            }
            ItemKind::Typedef(t) => {
                if self.type_reaches_any(&t.ty, stack) {
                    let inner = self.tc_expr(&t.ty, from, stack)?;
                    quote!(#tc::alias(#repo, #name, #inner))
                } else {
                    let n = self.names(id)?;
                    let f = n
                        .tc_fn
                        .as_deref()
                        .ok_or_else(|| GenError::new("typedef without a TypeCode function"))?;
                    super::relative(from, &n.scope, f)
                        .into_iter()
                        .chain(quote!(()))
                        .collect()
                }
            }
            other => {
                return Err(GenError::new(format!(
                    "{} '{}' has no TypeCode mapping yet",
                    other.describe(),
                    item.scoped()
                )))
            }
        })
    }

    /// The TypeCode of a struct, union or exception, built in place.
    pub(super) fn constructed_tc(
        &self,
        id: ItemId,
        from: &[String],
        stack: &mut Vec<ItemId>,
    ) -> Result<TokenStream> {
        let tc = quote!(::orb::codegen::TypeCode);
        let item = self.item(id)?;
        let repo = item.repository_id.as_str();
        let name = item.name.as_str();
        stack.push(id);
        let result = (|| {
            Ok(match &item.kind {
                ItemKind::Struct(s) => {
                    let members =
                        self.member_tcs(s.members.iter().map(|m| (&m.name, &m.ty)), from, stack)?;
                    quote!(#tc::struct_tc(#repo, #name, #members))
                }
                ItemKind::Exception(e) => {
                    let members =
                        self.member_tcs(e.members.iter().map(|m| (&m.name, &m.ty)), from, stack)?;
                    quote!(#tc::except_tc(#repo, #name, #members))
                }
                ItemKind::Union(u) => {
                    let disc = self.tc_expr(&u.discriminator, from, stack)?;
                    let mut members = Vec::new();
                    for c in &u.cases {
                        let t = self.tc_expr(&c.ty, from, stack)?;
                        for l in &c.labels {
                            let label = match l {
                                crate::model::CaseLabel::Default => {
                                    quote!(::orb::codegen::UnionLabel::Default)
                                }
                                crate::model::CaseLabel::Value(v) => {
                                    let v = self.label_value(&u.discriminator, v)?;
                                    quote!(::orb::codegen::UnionLabel::Value(#v))
                                }
                            };
                            let cname = c.name.as_str();
                            members.push(quote!((#label, #cname, #t)));
                        }
                    }
                    quote!(#tc::union_tc(#repo, #name, #disc, [#(#members),*]))
                }
                _ => {
                    return Err(GenError::new(format!(
                        "'{}' is not a constructed type",
                        item.scoped()
                    )))
                }
            })
        })();
        stack.pop();
        result
    }

    fn member_tcs<'a>(
        &self,
        members: impl Iterator<Item = (&'a String, &'a TypeRef)>,
        from: &[String],
        stack: &mut Vec<ItemId>,
    ) -> Result<TokenStream> {
        let mut out = Vec::new();
        for (name, ty) in members {
            let t = self.tc_expr(ty, from, stack)?;
            let name = name.as_str();
            out.push(quote!((#name, #t)));
        }
        Ok(if out.is_empty() {
            quote!(Vec::<(&str, ::orb::codegen::TypeCode)>::new())
        } else {
            quote!([#(#out),*])
        })
    }

    /// A union label as an `orb::codegen::Value` of the discriminator's type.
    fn label_value(&self, disc: &TypeRef, v: &ConstValue) -> Result<TokenStream> {
        let val = quote!(::orb::codegen::Value);
        let bad = || {
            GenError::new(format!(
                "union label {v:?} does not fit discriminator {disc:?}"
            ))
        };
        Ok(match (self.unalias(disc), v) {
            (TypeRef::Primitive(p), ConstValue::Integer(i)) => {
                let (variant, lit) = int_literal(*p, *i).ok_or_else(bad)?;
                quote!(#val::#variant(#lit))
            }
            (TypeRef::Primitive(Primitive::Char), ConstValue::Char(c)) => {
                let c = *c as char;
                quote!(#val::Char(#c))
            }
            (TypeRef::Primitive(Primitive::WChar), ConstValue::WChar(c)) => {
                let c = char::from_u32(*c).ok_or_else(bad)?;
                quote!(#val::WChar(#c))
            }
            (TypeRef::Primitive(Primitive::Boolean), ConstValue::Boolean(b)) => {
                quote!(#val::Boolean(#b))
            }
            (TypeRef::Named(_), ConstValue::Enum { index, .. }) => {
                let index = Literal::u32_unsuffixed(*index);
                quote!(#val::Enum(#index))
            }
            _ => return Err(bad()),
        })
    }

    /// Whether the type graph from item `id` reaches any item on `stack`.
    fn reaches_any(&self, id: ItemId, stack: &[ItemId]) -> bool {
        if stack.is_empty() {
            return false;
        }
        self.with_reach(id, |r| stack.iter().any(|s| r.contains(s)))
    }

    fn type_reaches_any(&self, ty: &TypeRef, stack: &[ItemId]) -> bool {
        let mut deps = Vec::new();
        type_deps(ty, &mut deps);
        deps.into_iter()
            .any(|d| stack.contains(&d) || self.reaches_any(d, stack))
    }

    fn with_reach<T>(&self, id: ItemId, f: impl FnOnce(&HashSet<ItemId>) -> T) -> T {
        if let Some(r) = self.reach.borrow().get(&id) {
            return f(r);
        }
        let mut seen = HashSet::new();
        let mut todo = self.item_deps(id);
        while let Some(d) = todo.pop() {
            if seen.insert(d) {
                todo.extend(self.item_deps(d));
            }
        }
        let out = f(&seen);
        self.reach.borrow_mut().insert(id, seen);
        out
    }

    fn item_deps(&self, id: ItemId) -> Vec<ItemId> {
        let mut deps = Vec::new();
        match self.m.get(id).map(|i| &i.kind) {
            Some(ItemKind::Struct(s)) => s.members.iter().for_each(|m| type_deps(&m.ty, &mut deps)),
            Some(ItemKind::Exception(e)) => {
                e.members.iter().for_each(|m| type_deps(&m.ty, &mut deps))
            }
            Some(ItemKind::Union(u)) => {
                type_deps(&u.discriminator, &mut deps);
                u.cases.iter().for_each(|c| type_deps(&c.ty, &mut deps));
            }
            Some(ItemKind::Typedef(t)) => type_deps(&t.ty, &mut deps),
            Some(ItemKind::ValueBox(b)) => type_deps(&b.ty, &mut deps),
            Some(ItemKind::ValueType(v)) => {
                deps.extend(v.bases.iter().copied());
                for c in &v.contents {
                    if let Some(ItemKind::StateMember(sm)) = self.m.get(*c).map(|i| &i.kind) {
                        type_deps(&sm.ty, &mut deps);
                    }
                }
            }
            _ => {}
        }
        deps
    }
}

fn type_deps(ty: &TypeRef, out: &mut Vec<ItemId>) {
    match ty {
        TypeRef::Named(id) => out.push(*id),
        TypeRef::Sequence(t, _) | TypeRef::Array(t, _) => type_deps(t, out),
        _ => {}
    }
}

fn primitive_type(p: Primitive) -> Result<TokenStream> {
    Ok(match p {
        Primitive::Short => quote!(i16),
        Primitive::Long => quote!(i32),
        Primitive::LongLong => quote!(i64),
        Primitive::UShort => quote!(u16),
        Primitive::ULong => quote!(u32),
        Primitive::ULongLong => quote!(u64),
        Primitive::Float => quote!(f32),
        Primitive::Double => quote!(f64),
        Primitive::LongDouble => quote!(::orb::codegen::LongDouble),
        Primitive::Char => quote!(char),
        Primitive::WChar => quote!(::orb::codegen::WChar),
        Primitive::Boolean => quote!(bool),
        Primitive::Octet => quote!(u8),
        Primitive::Any => quote!(::orb::codegen::Any),
        Primitive::Object => quote!(::orb::codegen::ObjectRef),
        Primitive::TypeCode => quote!(::orb::codegen::TypeCode),
        Primitive::Principal => quote!(Vec<u8>),
        Primitive::ValueBase => {
            quote!(Option<::orb::codegen::ValueHandle<dyn ::orb::codegen::ValueType>>)
        }
    })
}

/// An integer of primitive type `p` as a `Value` variant name and a typed literal; `None` if
/// `p` is not an integer type or `v` does not fit it.
pub(super) fn int_literal(p: Primitive, v: i128) -> Option<(proc_macro2::Ident, TokenStream)> {
    let (variant, fits) = match p {
        Primitive::Short => ("Short", i16::try_from(v).is_ok()),
        Primitive::Long => ("Long", i32::try_from(v).is_ok()),
        Primitive::LongLong => ("LongLong", i64::try_from(v).is_ok()),
        Primitive::UShort => ("UShort", u16::try_from(v).is_ok()),
        Primitive::ULong => ("ULong", u32::try_from(v).is_ok()),
        Primitive::ULongLong => ("ULongLong", u64::try_from(v).is_ok()),
        Primitive::Octet => ("Octet", u8::try_from(v).is_ok()),
        _ => return None,
    };
    fits.then(|| (ident(variant), int_tokens(v)))
}

/// An unsuffixed integer literal, negated with a `-` token when negative (so `i64::MIN`
/// spells as rustc accepts it).
pub(super) fn int_tokens(v: i128) -> TokenStream {
    let mag = Literal::u128_unsuffixed(v.unsigned_abs());
    if v < 0 {
        quote!(-#mag)
    } else {
        quote!(#mag)
    }
}
