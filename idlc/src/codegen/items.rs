//! Data types: constants, typedefs, structs, exceptions, unions and enums, each with its CDR
//! impls and its TypeCode.

use super::names::ident;
use super::types::{int_literal, int_tokens};
use super::{GenError, Generator, Result};
use crate::model::{CaseLabel, ConstValue, ItemId, ItemKind, Member, Primitive, TypeRef, Union};
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use std::collections::HashSet;

impl Generator<'_> {
    /// `pub const NAME: T = value;`
    pub(super) fn constant(&self, id: ItemId, path: &[String]) -> Result<TokenStream> {
        let item = self.item(id)?;
        let ItemKind::Const(c) = &item.kind else {
            return Err(GenError::new("not a constant"));
        };
        let name = ident(&self.names(id)?.ident);
        let (ty, value) = self
            .const_value(&c.ty, &c.value, path)
            .map_err(|e| GenError::new(format!("constant {}: {}", item.scoped(), e.message)))?;
        let doc = format!(" IDL `const {}`.", item.scoped());
        let float = matches!(
            self.unalias(&c.ty),
            TypeRef::Primitive(Primitive::Float | Primitive::Double | Primitive::LongDouble)
        );
        // The IDL author's digits are kept as written; clippy would have them rounded or
        // replaced by std's constants.
        let allow =
            float.then(|| quote!(#[allow(clippy::approx_constant, clippy::excessive_precision)]));
        Ok(quote! {
            #[doc = #doc]
            #allow
            pub const #name: #ty = #value;
        })
    }

    fn const_value(
        &self,
        ty: &TypeRef,
        v: &ConstValue,
        from: &[String],
    ) -> Result<(TokenStream, TokenStream)> {
        let bad = || GenError::new(format!("value {v:?} does not match type {ty:?}"));
        let cg = quote!(::orb::codegen);
        Ok(match (self.unalias(ty), v) {
            (TypeRef::Primitive(p), ConstValue::Integer(i)) if int_literal(*p, *i).is_some() => {
                let t = self.rust_type(&TypeRef::Primitive(*p), from)?;
                (t, int_tokens(*i))
            }
            (TypeRef::Primitive(Primitive::Float), ConstValue::Float(f)) => {
                (quote!(f32), float_tokens(*f as f32 as f64, true))
            }
            (TypeRef::Primitive(Primitive::Float), ConstValue::Integer(i)) => {
                (quote!(f32), float_tokens(*i as f32 as f64, true))
            }
            // `long double` constants are given as f64: a binary128 value cannot be built in a
            // const context, and IDL's constant arithmetic is f64 anyway.
            (
                TypeRef::Primitive(Primitive::Double | Primitive::LongDouble),
                ConstValue::Float(f),
            ) => (quote!(f64), float_tokens(*f, false)),
            (
                TypeRef::Primitive(Primitive::Double | Primitive::LongDouble),
                ConstValue::Integer(i),
            ) => (quote!(f64), float_tokens(*i as f64, false)),
            (TypeRef::Primitive(Primitive::Char), ConstValue::Char(c)) => {
                let c = *c as char;
                (quote!(char), quote!(#c))
            }
            (TypeRef::Primitive(Primitive::WChar), ConstValue::WChar(c)) => {
                let c = char::from_u32(*c).ok_or_else(bad)?;
                (quote!(#cg::WChar), quote!(#cg::WChar(#c)))
            }
            (TypeRef::Primitive(Primitive::Boolean), ConstValue::Boolean(b)) => {
                (quote!(bool), quote!(#b))
            }
            (TypeRef::String(_), ConstValue::String(s))
            | (TypeRef::WString(_), ConstValue::WString(s)) => (quote!(&str), quote!(#s)),
            (TypeRef::Fixed { .. }, ConstValue::Fixed { text, scale, .. }) => {
                let value = parse_fixed(text, *scale).ok_or_else(bad)?;
                let value = int_tokens(value);
                let scale = Literal::u16_unsuffixed(*scale);
                (quote!(#cg::Fixed), quote!(#cg::Fixed::new(#value, #scale)))
            }
            (TypeRef::Named(eid), ConstValue::Enum { ty: vty, index }) if eid == vty => {
                let n = self.names(*eid)?;
                let variant = n.variants.get(*index as usize).ok_or_else(bad)?;
                let p = self.path_to(from, *eid)?;
                let variant = ident(variant);
                (p.clone(), quote!(#p::#variant))
            }
            _ => return Err(bad()),
        })
    }

    /// `pub type Name = T;` and its TypeCode function.
    pub(super) fn typedef(&self, id: ItemId, path: &[String]) -> Result<TokenStream> {
        let item = self.item(id)?;
        let ItemKind::Typedef(t) = &item.kind else {
            return Err(GenError::new("not a typedef"));
        };
        let n = self.names(id)?;
        let name = ident(&n.ident);
        let ty = self.rust_type(&t.ty, path)?;
        let tc_fn = ident(
            n.tc_fn
                .as_deref()
                .ok_or_else(|| GenError::new("typedef without a TypeCode function"))?,
        );
        let tc = self.tc_expr(&t.ty, path, &mut Vec::new())?;
        let repo = item.repository_id.as_str();
        let idl = item.name.as_str();
        let doc = format!(" IDL `typedef {}`.", item.scoped());
        let tc_doc = format!(" The TypeCode of `{}` (`{repo}`).", item.scoped());
        let lazy = lazy_type_code(quote!(::orb::codegen::TypeCode::alias(#repo, #idl, #tc)));
        Ok(quote! {
            #[doc = #doc]
            pub type #name = #ty;

            #[doc = #tc_doc]
            pub fn #tc_fn() -> ::orb::codegen::TypeCode {
                #lazy
            }
        })
    }

    /// A struct with owned fields, its CDR impls and its TypeCode.
    pub(super) fn structure(
        &self,
        id: ItemId,
        path: &[String],
        seen: &mut HashSet<ItemId>,
    ) -> Result<TokenStream> {
        let item = self.item(id)?;
        let ItemKind::Struct(s) = &item.kind else {
            return Err(GenError::new("not a struct"));
        };
        let n = self.names(id)?;
        let name = ident(&n.ident);
        let doc = format!(" IDL `struct {}`.", item.scoped());
        let derive = self.data_derives(&s.members);
        let fields = self.fields(&s.members, &n.fields, path)?;
        let enc = self.encode_members(&s.members, &n.fields)?;
        let dec = self.decode_members(&s.members, &n.fields, path)?;
        let min = Literal::usize_unsuffixed(
            s.members
                .iter()
                .fold(0usize, |a, m| a.saturating_add(self.min_size(&m.ty))),
        );
        let tc = self.constructed_tc(id, path, &mut Vec::new())?;
        let common = self.type_common(id, tc)?;
        let nested = self.nested_types(id, &s.nested, path, seen)?;
        let (enc_arg, dec_arg) = arg_names(s.members.is_empty());
        Ok(quote! {
            #[doc = #doc]
            #derive
            pub struct #name {
                #(#fields)*
            }

            #common

            impl ::orb::codegen::CdrEncode for #name {
                fn encode(&self, #enc_arg: &mut ::orb::codegen::Encoder) -> Result<(), ::orb::codegen::EncodeError> {
                    #(#enc)*
                    Ok(())
                }
            }

            impl<'a> ::orb::codegen::CdrDecode<'a> for #name {
                const MIN_WIRE_SIZE: usize = #min;

                fn decode(#dec_arg: &mut ::orb::codegen::Decoder<'a>) -> Result<Self, ::orb::codegen::DecodeError> {
                    Ok(#name {
                        #(#dec)*
                    })
                }
            }

            #nested
        })
    }

    /// An exception: a struct that is also a `UserException`, whose CDR form starts with its
    /// repository id (the body of a `USER_EXCEPTION` reply).
    pub(super) fn exception(
        &self,
        id: ItemId,
        path: &[String],
        seen: &mut HashSet<ItemId>,
    ) -> Result<TokenStream> {
        let item = self.item(id)?;
        let ItemKind::Exception(e) = &item.kind else {
            return Err(GenError::new("not an exception"));
        };
        let n = self.names(id)?;
        let name = ident(&n.ident);
        let doc = format!(" IDL `exception {}`.", item.scoped());
        let derive = self.data_derives(&e.members);
        let fields = self.fields(&e.members, &n.fields, path)?;
        let enc = self.encode_members(&e.members, &n.fields)?;
        let dec = self.decode_members(&e.members, &n.fields, path)?;
        let min = Literal::usize_unsuffixed(
            e.members
                .iter()
                .fold(5usize, |a, m| a.saturating_add(self.min_size(&m.ty))),
        );
        let tc = self.constructed_tc(id, path, &mut Vec::new())?;
        let common = self.type_common(id, tc)?;
        let nested = self.nested_types(id, &e.nested, path, seen)?;
        let cg = quote!(::orb::codegen);
        // The members are what a reader of `NotFound` needs (why, and how much of the name
        // was left): `user exception IDL:...NotFound:1.0 { why: MissingNode, ... }`, under
        // their IDL names.
        let shown = e
            .members
            .iter()
            .map(|m| format!("{}: {{:?}}", m.name))
            .collect::<Vec<_>>();
        let format = if shown.is_empty() {
            "user exception {}".to_owned()
        } else {
            format!("user exception {{}} {{{{ {} }}}}", shown.join(", "))
        };
        let values = n.fields.iter().map(|f| {
            let f = ident(f);
            quote!(self.#f)
        });
        Ok(quote! {
            #[doc = #doc]
            #derive
            pub struct #name {
                #(#fields)*
            }

            #common

            impl #cg::UserException for #name {
                fn repository_id(&self) -> &'static str {
                    Self::REPOSITORY_ID
                }
            }

            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    write!(f, #format, Self::REPOSITORY_ID #(, #values)*)
                }
            }

            impl ::std::error::Error for #name {}

            impl #cg::CdrEncode for #name {
                fn encode(&self, enc: &mut #cg::Encoder) -> Result<(), #cg::EncodeError> {
                    enc.write_string(Self::REPOSITORY_ID)?;
                    #(#enc)*
                    Ok(())
                }
            }

            impl<'a> #cg::CdrDecode<'a> for #name {
                const MIN_WIRE_SIZE: usize = #min;

                fn decode(dec: &mut #cg::Decoder<'a>) -> Result<Self, #cg::DecodeError> {
                    #cg::expect_repository_id(dec, Self::REPOSITORY_ID)?;
                    Ok(#name {
                        #(#dec)*
                    })
                }
            }

            #nested
        })
    }

    /// A C-like enum, `#[repr(u32)]` as on the wire.
    pub(super) fn enumeration(&self, id: ItemId, path: &[String]) -> Result<TokenStream> {
        let item = self.item(id)?;
        let ItemKind::Enum(e) = &item.kind else {
            return Err(GenError::new("not an enum"));
        };
        let n = self.names(id)?;
        let name = ident(&n.ident);
        let doc = format!(" IDL `enum {}`.", item.scoped());
        let mut variants = Vec::new();
        let mut arms = Vec::new();
        for (i, (v, idl)) in n.variants.iter().zip(&e.enumerators).enumerate() {
            let v = ident(v);
            let i = u32::try_from(i).map_err(|_| GenError::new("too many enumerators"))?;
            let d = (i == 0).then(|| quote!(#[default]));
            let i = Literal::u32_unsuffixed(i);
            let vdoc = format!(" `{idl}`");
            variants.push(quote!(#[doc = #vdoc] #d #v = #i,));
            arms.push(quote!(#i => Some(Self::#v),));
        }
        let names: Vec<&str> = e.enumerators.iter().map(String::as_str).collect();
        let repo = item.repository_id.as_str();
        let idl = item.name.as_str();
        let tc = quote!(::orb::codegen::TypeCode::enum_tc(#repo, #idl, [#(#names),*]));
        let common = self.type_common(id, tc)?;
        let _ = path;
        let cg = quote!(::orb::codegen);
        Ok(quote! {
            #[doc = #doc]
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
            #[repr(u32)]
            pub enum #name {
                #(#variants)*
            }

            #common

            impl #name {
                /// The enumerator with this wire value.
                pub fn from_u32(v: u32) -> Option<Self> {
                    match v {
                        #(#arms)*
                        _ => None,
                    }
                }
            }

            impl #cg::CdrEncode for #name {
                fn encode(&self, enc: &mut #cg::Encoder) -> Result<(), #cg::EncodeError> {
                    enc.write_ulong(*self as u32);
                    Ok(())
                }
            }

            impl<'a> #cg::CdrDecode<'a> for #name {
                const MIN_WIRE_SIZE: usize = 4;

                fn decode(dec: &mut #cg::Decoder<'a>) -> Result<Self, #cg::DecodeError> {
                    let at = dec.offset();
                    let v = dec.read_ulong()?;
                    Self::from_u32(v).ok_or_else(|| #cg::DecodeError::new(#cg::DecodeErrorKind::InvalidEnum(v), at))
                }
            }
        })
    }

    /// A discriminated union as a Rust enum: a variant per case; cases with several labels
    /// or the default label carry the discriminator, so every value round-trips; an
    /// `Unselected` variant when no label or default covers some discriminator values.
    pub(super) fn union(
        &self,
        id: ItemId,
        path: &[String],
        seen: &mut HashSet<ItemId>,
    ) -> Result<TokenStream> {
        let item = self.item(id)?;
        let ItemKind::Union(u) = &item.kind else {
            return Err(GenError::new("not a union"));
        };
        let n = self.names(id)?;
        let name = ident(&n.ident);
        let doc = format!(" IDL `union {}`.", item.scoped());
        let cg = quote!(::orb::codegen);
        let disc_ty = self.rust_type(&u.discriminator, path)?;
        let covered = self.labels_cover_all(u);
        let has_default = u
            .cases
            .iter()
            .any(|c| c.labels.contains(&CaseLabel::Default));
        let unselected = (!covered && !has_default)
            .then(|| ident(n.unselected.as_deref().unwrap_or("Unselected")));

        // Every explicit label, by case, for the checks of the carrying variants.
        let mut case_labels: Vec<Vec<TokenStream>> = Vec::new();
        for c in &u.cases {
            let mut ls = Vec::new();
            for l in &c.labels {
                if let CaseLabel::Value(v) = l {
                    ls.push(self.label_pattern(&u.discriminator, v, path)?);
                }
            }
            case_labels.push(ls);
        }
        let all_labels: Vec<&TokenStream> = case_labels.iter().flatten().collect();

        let mut variants = Vec::new();
        let mut enc_arms = Vec::new();
        let mut dec_arms = Vec::new();
        let mut default_arm = None;
        for (ci, (c, vname)) in u.cases.iter().zip(&n.variants).enumerate() {
            let v = ident(vname);
            let t = self.rust_type(&c.ty, path)?;
            let vdoc = format!(" Case `{}`.", c.name);
            let cname = c.name.as_str();
            let enc_v = self.encode_expr(&c.ty, quote!(v), 0)?;
            let dec_v = self.decode_expr(&c.ty, path)?;
            let is_default = c.labels.contains(&CaseLabel::Default);
            let labels = &case_labels[ci];
            if labels.len() == 1 && !is_default {
                let label = &labels[0];
                let value = self.label_expr(&u.discriminator, c.labels.first(), path)?;
                variants.push(quote!(#[doc = #vdoc] #v(#t),));
                enc_arms.push(quote! {
                    #name::#v(v) => {
                        let d: #disc_ty = #value;
                        #cg::CdrEncode::encode(&d, enc)?;
                        #enc_v
                    }
                });
                dec_arms.push(quote! {
                    #label => #name::#v(#cg::ResultExt::field(#dec_v, #cname)?),
                });
            } else {
                variants.push(quote!(#[doc = #vdoc] #v(#disc_ty, #t),));
                // The carried discriminator must select this case, or the wire would say
                // another member follows.
                let others: Vec<&TokenStream> = case_labels
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != ci)
                    .flat_map(|(_, ls)| ls)
                    .collect();
                let check = if is_default {
                    if others.is_empty() {
                        quote!()
                    } else {
                        quote! {
                            if matches!(d, #(#others)|*) {
                                return Err(#cg::EncodeError::Invalid("union discriminator selects another member than the default"));
                            }
                        }
                    }
                } else {
                    quote! {
                        if !matches!(d, #(#labels)|*) {
                            return Err(#cg::EncodeError::Invalid("union discriminator does not select this member"));
                        }
                    }
                };
                enc_arms.push(quote! {
                    #name::#v(d, v) => {
                        #check
                        #cg::CdrEncode::encode(d, enc)?;
                        #enc_v
                    }
                });
                let arm = quote!(#name::#v(d, #cg::ResultExt::field(#dec_v, #cname)?));
                if is_default {
                    if !labels.is_empty() {
                        dec_arms.push(quote!(#(#labels)|* => #arm,));
                    }
                    default_arm = Some(arm);
                } else {
                    dec_arms.push(quote!(#(#labels)|* => #arm,));
                }
            }
        }
        if let Some(un) = &unselected {
            variants.push(quote! {
                /// No case selected: the discriminator matches no label and there is no default.
                #un(#disc_ty),
            });
            let check = if all_labels.is_empty() {
                quote!()
            } else {
                quote! {
                    if matches!(d, #(#all_labels)|*) {
                        return Err(#cg::EncodeError::Invalid("union discriminator selects a member, but none is given"));
                    }
                }
            };
            enc_arms.push(quote! {
                #name::#un(d) => {
                    #check
                    #cg::CdrEncode::encode(d, enc)
                }
            });
            default_arm = Some(quote!(#name::#un(d)));
        }
        let fallback = match (&default_arm, covered) {
            (Some(arm), false) => quote!(_ => #arm,),
            _ => quote!(),
        };
        let disc_dec = self.decode_expr(&u.discriminator, path)?;
        let tc = self.constructed_tc(id, path, &mut Vec::new())?;
        let common = self.type_common(id, tc)?;
        let nested = self.nested_types(id, &u.nested, path, seen)?;
        Ok(quote! {
            #[doc = #doc]
            #[derive(Debug, Clone, PartialEq)]
            #[allow(clippy::large_enum_variant)]
            pub enum #name {
                #(#variants)*
            }

            #common

            // Labels are listed as the IDL gives them, not folded into ranges or conditions.
            #[allow(clippy::manual_range_patterns, clippy::redundant_pattern_matching)]
            impl #cg::CdrEncode for #name {
                fn encode(&self, enc: &mut #cg::Encoder) -> Result<(), #cg::EncodeError> {
                    match self {
                        #(#enc_arms)*
                    }
                }
            }

            #[allow(clippy::manual_range_patterns, clippy::redundant_pattern_matching)]
            impl<'a> #cg::CdrDecode<'a> for #name {
                const MIN_WIRE_SIZE: usize = <#disc_ty as #cg::CdrDecode<'a>>::MIN_WIRE_SIZE;

                fn decode(dec: &mut #cg::Decoder<'a>) -> Result<Self, #cg::DecodeError> {
                    let d: #disc_ty = #cg::ResultExt::field(#disc_dec, "discriminator")?;
                    Ok(match d {
                        #(#dec_arms)*
                        #fallback
                    })
                }
            }

            #nested
        })
    }

    /// Whether the explicit labels name every value of the discriminator type.
    fn labels_cover_all(&self, u: &Union) -> bool {
        let count = u
            .cases
            .iter()
            .flat_map(|c| &c.labels)
            .filter(|l| matches!(l, CaseLabel::Value(_)))
            .count();
        let domain = match self.unalias(&u.discriminator) {
            TypeRef::Primitive(Primitive::Boolean) => 2,
            TypeRef::Primitive(Primitive::Char | Primitive::Octet) => 256,
            TypeRef::Primitive(Primitive::Short | Primitive::UShort) => 65536,
            TypeRef::Named(id) => match self.m.get(*id).map(|i| &i.kind) {
                Some(ItemKind::Enum(e)) => e.enumerators.len(),
                _ => usize::MAX,
            },
            _ => usize::MAX,
        };
        // Labels are distinct (the front end checks), so enough of them cover the domain.
        count >= domain
    }

    /// A union label as a pattern on the discriminator's Rust type.
    fn label_pattern(
        &self,
        disc: &TypeRef,
        v: &ConstValue,
        from: &[String],
    ) -> Result<TokenStream> {
        let bad = || {
            GenError::new(format!(
                "union label {v:?} does not fit discriminator {disc:?}"
            ))
        };
        Ok(match (self.unalias(disc), v) {
            (TypeRef::Primitive(p), ConstValue::Integer(i)) => {
                int_literal(*p, *i).ok_or_else(bad)?.1
            }
            (TypeRef::Primitive(Primitive::Char), ConstValue::Char(c)) => {
                let c = *c as char;
                quote!(#c)
            }
            (TypeRef::Primitive(Primitive::WChar), ConstValue::WChar(c)) => {
                let c = char::from_u32(*c).ok_or_else(bad)?;
                quote!(::orb::codegen::WChar(#c))
            }
            (TypeRef::Primitive(Primitive::Boolean), ConstValue::Boolean(b)) => quote!(#b),
            (TypeRef::Named(eid), ConstValue::Enum { ty, index }) if eid == ty => {
                let n = self.names(*eid)?;
                let variant = ident(n.variants.get(*index as usize).ok_or_else(bad)?);
                let p = self.path_to(from, *eid)?;
                quote!(#p::#variant)
            }
            _ => return Err(bad()),
        })
    }

    /// A union label as a value expression (patterns above are also valid expressions).
    fn label_expr(
        &self,
        disc: &TypeRef,
        label: Option<&CaseLabel>,
        from: &[String],
    ) -> Result<TokenStream> {
        match label {
            Some(CaseLabel::Value(v)) => self.label_pattern(disc, v, from),
            _ => Err(GenError::new("union case without a label")),
        }
    }

    fn data_derives(&self, members: &[Member]) -> TokenStream {
        if members.iter().all(|m| self.has_default(&m.ty)) {
            quote!(#[derive(Debug, Clone, PartialEq, Default)])
        } else {
            quote!(#[derive(Debug, Clone, PartialEq)])
        }
    }

    fn fields(
        &self,
        members: &[Member],
        names: &[String],
        path: &[String],
    ) -> Result<Vec<TokenStream>> {
        members
            .iter()
            .zip(names)
            .map(|(m, f)| {
                let f = ident(f);
                let t = self.rust_type(&m.ty, path)?;
                let doc = format!(" `{}`", m.name);
                Ok(quote!(#[doc = #doc] pub #f: #t,))
            })
            .collect()
    }

    fn encode_members(&self, members: &[Member], names: &[String]) -> Result<Vec<TokenStream>> {
        members
            .iter()
            .zip(names)
            .map(|(m, f)| {
                let f = ident(f);
                let e = self.encode_expr(&m.ty, quote!(&self.#f), 0)?;
                Ok(quote!(#e?;))
            })
            .collect()
    }

    fn decode_members(
        &self,
        members: &[Member],
        names: &[String],
        path: &[String],
    ) -> Result<Vec<TokenStream>> {
        members
            .iter()
            .zip(names)
            .map(|(m, f)| {
                let f = ident(f);
                let d = self.decode_expr(&m.ty, path)?;
                let idl = m.name.as_str();
                Ok(quote!(#f: ::orb::codegen::ResultExt::field(#d, #idl)?,))
            })
            .collect()
    }

    /// `REPOSITORY_ID` and `type_code()` of a named type, and its `AnyType` impl.
    fn type_common(&self, id: ItemId, tc: TokenStream) -> Result<TokenStream> {
        let name = ident(&self.names(id)?.ident);
        let consts = self.type_consts(id, tc)?;
        Ok(quote! {
            #consts

            /// Into and out of an `any`: `Any::insert(&v)`, `any.get::<T>()`.
            impl ::orb::codegen::AnyType for #name {
                fn type_code() -> ::orb::codegen::TypeCode {
                    #name::type_code()
                }
            }
        })
    }
}

impl Generator<'_> {
    /// `REPOSITORY_ID` and `type_code()` of a named type.
    pub(super) fn type_consts(&self, id: ItemId, tc: TokenStream) -> Result<TokenStream> {
        let item = self.item(id)?;
        let name = ident(&self.names(id)?.ident);
        let repo = item.repository_id.as_str();
        let lazy = lazy_type_code(tc);
        Ok(quote! {
            impl #name {
                /// The repository id.
                pub const REPOSITORY_ID: &'static str = #repo;

                /// The TypeCode, built once.
                pub fn type_code() -> ::orb::codegen::TypeCode {
                    #lazy
                }
            }
        })
    }
}

/// A function body returning a TypeCode built on first use.
fn lazy_type_code(tc: TokenStream) -> TokenStream {
    quote! {
        static TC: ::orb::codegen::LazyLock<::orb::codegen::TypeCode> =
            ::orb::codegen::LazyLock::new(|| #tc);
        TC.clone()
    }
}

/// Encoder and decoder argument names, underscored when a type has nothing to read or write.
fn arg_names(empty: bool) -> (proc_macro2::Ident, proc_macro2::Ident) {
    if empty {
        (ident("_enc"), ident("_dec"))
    } else {
        (ident("enc"), ident("dec"))
    }
}

fn float_tokens(f: f64, single: bool) -> TokenStream {
    let t = if single { quote!(f32) } else { quote!(f64) };
    if f.is_nan() {
        quote!(#t::NAN)
    } else if f == f64::INFINITY {
        quote!(#t::INFINITY)
    } else if f == f64::NEG_INFINITY {
        quote!(#t::NEG_INFINITY)
    } else if single {
        let l = Literal::f32_unsuffixed(f as f32);
        if f < 0.0 {
            let l = Literal::f32_unsuffixed(-f as f32);
            quote!(-#l)
        } else {
            quote!(#l)
        }
    } else if f < 0.0 || (f == 0.0 && f.is_sign_negative()) {
        let l = Literal::f64_unsuffixed(-f);
        quote!(-#l)
    } else {
        let l = Literal::f64_unsuffixed(f);
        quote!(#l)
    }
}

/// `"-12.50"` at scale 2 → `-1250`.
fn parse_fixed(text: &str, scale: u16) -> Option<i128> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let body = body.trim_end_matches(['d', 'D']);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let scale = scale as usize;
    let mut digits = String::from(int);
    if frac.len() >= scale {
        digits.push_str(&frac[..scale]);
    } else {
        digits.push_str(frac);
        digits.extend(std::iter::repeat_n('0', scale - frac.len()));
    }
    let digits = digits.trim_start_matches('0');
    let v: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::parse_fixed;

    #[test]
    fn fixed_text() {
        assert_eq!(parse_fixed("-12.50", 2), Some(-1250));
        assert_eq!(parse_fixed("3", 2), Some(300));
        assert_eq!(parse_fixed("0.125", 3), Some(125));
        assert_eq!(parse_fixed("1.5", 0), Some(1));
        assert_eq!(parse_fixed("x", 0), None);
    }
}
