//! Value types and value boxes: a struct holding the state, its `ValueType` (writing) and
//! `ValueFactory` (reading) impls over `orb::cdr::value`, and its TypeCode.
//!
//! Values live in an arena (`orb::codegen::ValueGraph`) so that sharing and cycles survive.
//! Inside a value's state a member of value type is an `Option<ValueRef<T>>` into the same
//! graph; everywhere else (data types, parameters) a value is an `Option<ValueHandle<T>>`,
//! the value with its graph (see `types::rust_type`).

use super::names::ident;
use super::{GenError, Generator, Result};
use crate::model::{ItemId, ItemKind, Primitive, TypeRef, ValueKind};
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use std::collections::HashSet;

/// How a state member is held.
enum MemberForm {
    /// `Option<ValueRef<T>>`: a value of a concrete type or a box, `T` its path.
    Value(TokenStream),
    /// `Option<ValueRef<dyn ValueType>>`: `ValueBase` or an abstract value type (its id).
    AnyValue(Option<String>),
    /// Any other type, encoded by its CDR impls.
    Data,
}

/// Inheritance is acyclic (the front end checks); this only guards the walk.
const MAX_BASES: usize = 64;

impl Generator<'_> {
    /// The item a base names, typedefs followed.
    fn value_base(&self, mut id: ItemId) -> ItemId {
        for _ in 0..MAX_BASES {
            match self.m.get(id).map(|i| &i.kind) {
                Some(ItemKind::Typedef(t)) => match &t.ty {
                    TypeRef::Named(next) => id = *next,
                    _ => break,
                },
                _ => break,
            }
        }
        id
    }

    /// The concrete value type `id` derives its state from, if any (only the first base may
    /// be concrete).
    fn concrete_base(&self, id: ItemId) -> Option<ItemId> {
        let ItemKind::ValueType(v) = &self.m.get(id)?.kind else {
            return None;
        };
        let base = self.value_base(*v.bases.first()?);
        match &self.m.get(base)?.kind {
            ItemKind::ValueType(b) if b.kind != ValueKind::Abstract => Some(base),
            _ => None,
        }
    }

    /// Every state member of `id`, the root base's first: what the value's state holds, in
    /// wire order.
    pub(super) fn value_state(&self, id: ItemId) -> Vec<ItemId> {
        let mut chain = vec![id];
        while let Some(b) = chain.last().and_then(|&l| self.concrete_base(l)) {
            if chain.contains(&b) || chain.len() > MAX_BASES {
                break;
            }
            chain.push(b);
        }
        chain
            .iter()
            .rev()
            .filter_map(|&v| match &self.m.get(v)?.kind {
                ItemKind::ValueType(v) => Some(v.contents.clone()),
                _ => None,
            })
            .flatten()
            .filter(|&c| {
                matches!(
                    self.m.get(c).map(|i| &i.kind),
                    Some(ItemKind::StateMember(_))
                )
            })
            .collect()
    }

    /// Repository ids of every value type `id` derives from (abstract ones too).
    fn value_ancestors(&self, id: ItemId) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut todo = vec![id];
        let mut seen = HashSet::new();
        while let Some(v) = todo.pop() {
            if !seen.insert(v) || seen.len() > MAX_BASES * MAX_BASES {
                continue;
            }
            if let Some(ItemKind::ValueType(vt)) = self.m.get(v).map(|i| &i.kind) {
                for &b in &vt.bases {
                    let b = self.value_base(b);
                    if let Some(item) = self.m.get(b) {
                        if !out.contains(&item.repository_id) {
                            out.push(item.repository_id.clone());
                        }
                        todo.push(b);
                    }
                }
            }
        }
        out
    }

    /// The bases a value of type `id` may be truncated to, nearest first.
    fn truncatable_bases(&self, id: ItemId) -> Vec<String> {
        let mut out = Vec::new();
        let mut v = id;
        while out.len() < MAX_BASES {
            let Some(ItemKind::ValueType(vt)) = self.m.get(v).map(|i| &i.kind) else {
                break;
            };
            if !vt.truncatable {
                break;
            }
            let Some(b) = self.concrete_base(v) else {
                break;
            };
            out.push(
                self.item(b)
                    .map(|i| i.repository_id.clone())
                    .unwrap_or_default(),
            );
            v = b;
        }
        out
    }

    fn member_form(&self, ty: &TypeRef, from: &[String]) -> Result<MemberForm> {
        Ok(match self.unalias(ty) {
            TypeRef::Primitive(Primitive::ValueBase) => MemberForm::AnyValue(None),
            TypeRef::Named(id) => match &self.item(*id)?.kind {
                ItemKind::ValueType(v) if v.kind == ValueKind::Abstract => {
                    MemberForm::AnyValue(Some(self.item(*id)?.repository_id.clone()))
                }
                ItemKind::ValueType(_) | ItemKind::ValueBox(_) => {
                    MemberForm::Value(self.path_to(from, *id)?)
                }
                _ => MemberForm::Data,
            },
            _ => MemberForm::Data,
        })
    }

    /// A value type: the state struct and its impls; an abstract one, its repository id and
    /// TypeCode alone (it has no state and no instances of its own).
    pub(super) fn value_type(
        &self,
        id: ItemId,
        path: &[String],
        seen: &mut HashSet<ItemId>,
    ) -> Result<TokenStream> {
        let cg = quote!(::orb::codegen);
        let item = self.item(id)?;
        let ItemKind::ValueType(v) = &item.kind else {
            return Err(GenError::new("not a value type"));
        };
        let n = self.names(id)?;
        let name = ident(&n.ident);
        let repo = item.repository_id.as_str();
        let tc = self.constructed_tc(id, path, &mut Vec::new())?;
        let nested_ids: Vec<ItemId> = v
            .contents
            .iter()
            .copied()
            .filter(|c| is_nested_type(self.m.get(*c).map(|i| &i.kind)))
            .collect();
        let (nested, operations) = match &n.value_operations {
            Some(ops) => self.value_operations(id, path, ops, &nested_ids, seen)?,
            None => (
                self.nested_types(id, &nested_ids, path, seen)?,
                TokenStream::new(),
            ),
        };
        let init = match &n.value_init {
            Some(init) => self.value_init(id, path, init)?,
            None => TokenStream::new(),
        };
        let common = self.value_common(id, tc)?;
        if v.kind == ValueKind::Abstract {
            let doc = format!(
                " IDL `abstract valuetype {}`: no state of its own; where it is the formal \
                 type, any value stands (`Option<ValueHandle<dyn ValueType>>`), checked to be \
                 of a type derived from it.",
                item.scoped()
            );
            return Ok(quote! {
                #[doc = #doc]
                #[derive(Debug, Clone, Copy, PartialEq, Eq)]
                pub struct #name;

                #common
                #operations
                #nested
            });
        }

        let state = self.value_state(id);
        let mut fields = Vec::new();
        let mut writes = Vec::new();
        let mut reads = Vec::new();
        let mut reachable = Vec::new();
        let mut all_default = true;
        for (sid, f) in state.iter().zip(&n.fields) {
            let s_item = self.item(*sid)?;
            let ItemKind::StateMember(sm) = &s_item.kind else {
                continue;
            };
            let f = ident(f);
            let idl = s_item.name.as_str();
            let doc = format!(
                " `{} {}`",
                if sm.public { "public" } else { "private" },
                idl
            );
            match self.member_form(&sm.ty, path)? {
                MemberForm::Value(t) => {
                    fields.push(quote!(#[doc = #doc] pub #f: Option<#cg::ValueRef<#t>>,));
                    writes.push(quote!(out.write_value(self.#f)?;));
                    reads.push(quote!(#f: #cg::ResultExt::field(input.read_value::<#t>(), #idl)?,));
                    reachable.push(quote!(f.include::<#t>();));
                }
                MemberForm::AnyValue(formal) => {
                    fields.push(
                        quote!(#[doc = #doc] pub #f: Option<#cg::ValueRef<dyn #cg::ValueType>>,),
                    );
                    writes.push(quote!(out.write_value(self.#f)?;));
                    let formal = match formal {
                        Some(id) => quote!(Some(#id)),
                        None => quote!(None),
                    };
                    reads.push(
                        quote!(#f: #cg::ResultExt::field(input.read_value_base(#formal), #idl)?,),
                    );
                }
                MemberForm::Data => {
                    all_default &= self.has_default(&sm.ty);
                    let t = self.rust_type(&sm.ty, path)?;
                    fields.push(quote!(#[doc = #doc] pub #f: #t,));
                    let e = self.encode_expr(&sm.ty, quote!(&self.#f), 0)?;
                    writes.push(quote!({
                        let enc = out.encoder();
                        #e?;
                    }));
                    let d = self.decode_expr(&sm.ty, path)?;
                    reads.push(quote!(#f: {
                        let dec = input.decoder();
                        #cg::ResultExt::field(#d, #idl)?
                    },));
                }
            }
        }
        let derive = if all_default {
            quote!(#[derive(Debug, Clone, PartialEq, Default)])
        } else {
            quote!(#[derive(Debug, Clone, PartialEq)])
        };
        let truncatable = self.truncatable_bases(id);
        let ancestors = self.value_ancestors(id);
        let custom = v.kind == ValueKind::Custom;
        let (out_arg, in_arg) = if state.is_empty() && !custom {
            (quote!(_out), quote!(_input))
        } else {
            (quote!(out), quote!(input))
        };
        // A custom value's state is whatever the application writes: it registers how
        // (`register_custom_marshaling`), and without that the value is refused.
        let (write_body, read_body) = if custom {
            (
                quote!(#cg::write_custom(self, out)),
                quote!(#cg::read_custom::<Self>(input)),
            )
        } else {
            (quote!(#(#writes)* Ok(())), quote!(Ok(#name { #(#reads)* })))
        };
        let doc = format!(
            " IDL `{}valuetype {}`: its state, root base's members first. Values live in a \
             `ValueGraph`; a member of value type is a `ValueRef` into it.",
            if custom { "custom " } else { "" },
            item.scoped()
        );
        Ok(quote! {
            #[doc = #doc]
            #derive
            pub struct #name {
                #(#fields)*
            }

            #common

            impl #cg::ValueType for #name {
                fn repository_id(&self) -> &str {
                    #repo
                }
                fn truncatable_bases(&self) -> &[&'static str] {
                    &[#(#truncatable),*]
                }
                fn base_ids(&self) -> &[&'static str] {
                    &[#(#ancestors),*]
                }
                fn is_custom(&self) -> bool {
                    #custom
                }
                fn write_state(&self, #out_arg: &mut #cg::ValueOutput<'_>) -> Result<(), #cg::EncodeError> {
                    #write_body
                }
                fn as_any(&self) -> &dyn #cg::StdAny {
                    self
                }
                fn as_any_mut(&mut self) -> &mut dyn #cg::StdAny {
                    self
                }
            }

            impl #cg::ValueFactory for #name {
                const REPOSITORY_ID: &'static str = #repo;

                fn read_state(#in_arg: &mut #cg::ValueInput<'_, '_>) -> Result<Self, #cg::DecodeError> {
                    #read_body
                }

                fn register_reachable(f: &mut #cg::ValueFactories) {
                    f.register::<Self>();
                    #(#reachable)*
                }
            }

            #operations
            #init
            #nested
        })
    }

    /// The trait of a value type's operations and attributes, and its module: the error enums
    /// of operations that raise, and its nested types.
    fn value_operations(
        &self,
        id: ItemId,
        path: &[String],
        ops: &str,
        nested_ids: &[ItemId],
        seen: &mut HashSet<ItemId>,
    ) -> Result<(TokenStream, TokenStream)> {
        let item = self.item(id)?;
        let n = self.names(id)?;
        let module = n
            .module
            .as_deref()
            .ok_or_else(|| GenError::new("value type with operations but no module"))?;
        let mut mod_path = path.to_vec();
        mod_path.push(module.to_owned());
        let mut errors = Vec::new();
        for (member, acc) in self.own_members(id)? {
            if self.member_unsupported(member, acc).is_none() {
                if let Some(e) = self.error_enum(id, member, acc, &mod_path)? {
                    errors.push(e);
                }
            }
        }
        let inner = self.emit_scope(nested_ids, &mod_path, seen)?;
        let module = ident(module);
        let mod_doc = format!(" Items of IDL valuetype `{}`.", item.scoped());
        let nested = quote! {
            #[doc = #mod_doc]
            // Whoever includes the file picks the enclosing module's name, which may be this one.
            #[allow(clippy::module_inception)]
            pub mod #module {
                #(#errors)*
                #(#inner)*
            }
        };
        let doc = format!(
            " Operations and attributes of IDL valuetype `{}`: local to the value, never \
             requested remotely. The application implements them for the value's struct (or \
             a type of its own holding one).",
            item.scoped()
        );
        // A base's operations are this type's too, and so are those of the interfaces it
        // supports (whose traits it then implements: a value of a type that supports a
        // concrete interface can be activated as that interface's servant).
        let mut supers = Vec::new();
        if let ItemKind::ValueType(v) = &item.kind {
            for &b in &v.bases {
                let b = self.value_base(b);
                let bn = self.names(b)?;
                if let Some(base_ops) = &bn.value_operations {
                    supers.push(super::relative(path, &bn.scope, base_ops));
                }
            }
            for &i in &v.supports {
                supers.push(self.path_to(path, self.value_base(i))?);
            }
        }
        let operations = self.member_trait(id, path, ident(ops), supers, doc)?;
        Ok((nested, operations))
    }

    /// The trait of a value type's initializers (`factory`): how the application makes values
    /// of it from arguments. Values read from messages need none (their state is read).
    fn value_init(&self, id: ItemId, path: &[String], init: &str) -> Result<TokenStream> {
        let cg = quote!(::orb::codegen);
        let item = self.item(id)?;
        let ItemKind::ValueType(v) = &item.kind else {
            return Err(GenError::new("not a value type"));
        };
        let value = ident(&self.names(id)?.ident);
        let mut methods = Vec::new();
        let mut method_names = super::names::Scope::default();
        for &c in &v.contents {
            let f_item = self.item(c)?;
            let ItemKind::Factory(f) = &f_item.kind else {
                continue;
            };
            let method = ident(&method_names.claim(super::names::snake(&f_item.name)));
            let mut param_names = super::names::Scope::default();
            let mut params = Vec::new();
            for p in &f.params {
                let pname = ident(&param_names.claim(super::names::snake(&p.name)));
                let t = self.in_param_type(&p.ty, path)?;
                params.push(quote!(#pname: #t));
            }
            let raises: Vec<String> = f
                .raises
                .iter()
                .filter_map(|r| self.m.get(*r).map(|i| i.scoped()))
                .collect();
            let doc = if raises.is_empty() {
                format!(" IDL `factory {}`.", f_item.name)
            } else {
                format!(
                    " IDL `factory {}` (raises {}: report one as the `SystemException` of your \
                     choice, or return it through your own type).",
                    f_item.name,
                    raises.join(", ")
                )
            };
            methods.push(quote! {
                #[doc = #doc]
                fn #method(&self #(, #params)*) -> Result<#value, #cg::SystemException>;
            });
        }
        let doc = format!(
            " Initializers of IDL valuetype `{}`: what the application provides to make its \
             values.",
            item.scoped()
        );
        let name = ident(init);
        Ok(quote! {
            #[doc = #doc]
            pub trait #name: Send + Sync {
                #(#methods)*
            }
        })
    }

    /// A value box: a tuple struct around the boxed type.
    pub(super) fn value_box(&self, id: ItemId, path: &[String]) -> Result<TokenStream> {
        let cg = quote!(::orb::codegen);
        let item = self.item(id)?;
        let ItemKind::ValueBox(b) = &item.kind else {
            return Err(GenError::new("not a value box"));
        };
        let name = ident(&self.names(id)?.ident);
        let repo = item.repository_id.as_str();
        let t = self.rust_type(&b.ty, path)?;
        let e = self.encode_expr(&b.ty, quote!(&self.0), 0)?;
        let d = self.decode_expr(&b.ty, path)?;
        let tc = self.constructed_tc(id, path, &mut Vec::new())?;
        let derive = if self.has_default(&b.ty) {
            quote!(#[derive(Debug, Clone, PartialEq, Default)])
        } else {
            quote!(#[derive(Debug, Clone, PartialEq)])
        };
        let doc = format!(" IDL `valuetype {}` (a value box).", item.scoped());
        let common = self.value_common(id, tc)?;
        Ok(quote! {
            #[doc = #doc]
            #derive
            pub struct #name(pub #t);

            #common

            impl #cg::ValueType for #name {
                fn repository_id(&self) -> &str {
                    #repo
                }
                fn write_state(&self, out: &mut #cg::ValueOutput<'_>) -> Result<(), #cg::EncodeError> {
                    let enc = out.encoder();
                    #e
                }
                fn as_any(&self) -> &dyn #cg::StdAny {
                    self
                }
                fn as_any_mut(&mut self) -> &mut dyn #cg::StdAny {
                    self
                }
            }

            impl #cg::ValueFactory for #name {
                const REPOSITORY_ID: &'static str = #repo;

                fn read_state(input: &mut #cg::ValueInput<'_, '_>) -> Result<Self, #cg::DecodeError> {
                    let dec = input.decoder();
                    Ok(#name(#cg::ResultExt::field(#d, "box")?))
                }
            }
        })
    }

    /// `REPOSITORY_ID` and `type_code()` of a value type or box, and how it goes into an `any`.
    fn value_common(&self, id: ItemId, tc: TokenStream) -> Result<TokenStream> {
        let cg = quote!(::orb::codegen);
        let name = ident(&self.names(id)?.ident);
        let consts = self.type_consts(id, tc)?;
        Ok(quote! {
            #consts

            /// Into and out of an `any`: `Any::insert(&Some(handle))`.
            impl #cg::ValueTypeCode for #name {
                fn value_type_code() -> #cg::TypeCode {
                    #name::type_code()
                }
            }
        })
    }

    /// The TypeCode of a value type or box (inside `constructed_tc`, which keeps `stack`).
    pub(super) fn value_tc_body(
        &self,
        id: ItemId,
        from: &[String],
        stack: &mut Vec<ItemId>,
    ) -> Result<TokenStream> {
        let tc = quote!(::orb::codegen::TypeCode);
        let item = self.item(id)?;
        let repo = item.repository_id.as_str();
        let name = item.name.as_str();
        Ok(match &item.kind {
            ItemKind::ValueBox(b) => {
                let content = self.tc_expr(&b.ty, from, stack)?;
                quote!(#tc::value_box(#repo, #name, #content))
            }
            ItemKind::ValueType(v) => {
                let modifier = match (v.kind, v.truncatable) {
                    (ValueKind::Custom, _) => 1i16,
                    (ValueKind::Abstract, _) => 2,
                    (_, true) => 3,
                    _ => 0,
                };
                let modifier = Literal::i16_unsuffixed(modifier);
                let base = match self.concrete_base(id) {
                    Some(b) => self.tc_expr(&TypeRef::Named(b), from, stack)?,
                    None => quote!(#tc::Null),
                };
                let mut members = Vec::new();
                for c in &v.contents {
                    let c_item = self.item(*c)?;
                    if let ItemKind::StateMember(sm) = &c_item.kind {
                        let t = self.tc_expr(&sm.ty, from, stack)?;
                        let mname = c_item.name.as_str();
                        let vis = Literal::i16_unsuffixed(i16::from(sm.public));
                        members.push(quote!((#mname, #t, #vis)));
                    }
                }
                quote!(#tc::value_tc(#repo, #name, #modifier, #base, [#(#members),*]))
            }
            _ => {
                return Err(GenError::new(format!(
                    "'{}' is not a value type",
                    item.scoped()
                )))
            }
        })
    }
}

impl Generator<'_> {
    /// `native N`: an opaque value of the application's choosing, never marshalled.
    pub(super) fn native(&self, id: ItemId) -> Result<TokenStream> {
        let item = self.item(id)?;
        let name = ident(&self.names(id)?.ident);
        let doc = format!(
            " IDL `native {}`: what it stands for is the application's (put any value in, \
             take it out with `downcast_ref`); it never travels in a message.",
            item.scoped()
        );
        Ok(quote! {
            #[doc = #doc]
            pub type #name = ::orb::codegen::Native;
        })
    }
}

/// Whether an item inside a value type is a type or constant of its scope (rather than a
/// state member, operation, attribute or initializer).
pub(super) fn is_nested_type(kind: Option<&ItemKind>) -> bool {
    !matches!(
        kind,
        None | Some(
            ItemKind::StateMember(_)
                | ItemKind::Operation(_)
                | ItemKind::Attribute(_)
                | ItemKind::Factory(_)
        )
    )
}
