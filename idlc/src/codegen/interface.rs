//! Interfaces: the servant trait, each operation's error enum, the upcall functions that
//! decode arguments, call the servant and encode results, the skeleton whose `dispatch`
//! finds the operation by the selected [`Demux`] strategy, the `Tie` that makes an
//! implementation a servant; and on the client side the stub functions that encode a
//! request and decode its reply, and the typed reference (`EchoRef`) that implements the
//! servant trait by calling them, or the implementation itself when it is collocated.
//!
//! Stubs and upcalls encode and decode with the same expressions (`types`), so the two sides
//! agree on the wire form by construction.

use super::names::ident;
use super::types::Pass;
use super::{comment, phf, relative, Acc, Demux, GenError, Generator, Result};
use crate::model::{InterfaceKind, ItemId, ItemKind, ParamDir, TypeRef};
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use std::collections::HashSet;

/// One parameter of a servant method.
struct Param<'m> {
    name: proc_macro2::Ident,
    idl: &'m str,
    dir: ParamDir,
    ty: &'m TypeRef,
}

/// What a servant method looks like, as seen from one module.
struct Sig<'m> {
    method: proc_macro2::Ident,
    params: Vec<Param<'m>>,
    result: Option<&'m TypeRef>,
    /// The `Ok` type: `()`, one value, or a tuple (return value first, then `out`s).
    ok: TokenStream,
    err: TokenStream,
    /// The error enum's path and its variants (exception path, variant name), if any.
    raises: Option<(TokenStream, Vec<(TokenStream, proc_macro2::Ident)>)>,
    doc: String,
}

/// The lints generated traits and impls are exempt from: their signatures and names come
/// from the IDL, not from Rust conventions.
fn idl_named_allow() -> TokenStream {
    quote! {
        #[allow(
            clippy::too_many_arguments,
            clippy::type_complexity,
            clippy::result_large_err,
            clippy::wrong_self_convention,
            clippy::new_ret_no_self
        )]
    }
}

/// Which stubs a typed reference's methods call.
#[derive(Clone, Copy)]
enum Calls {
    /// The trait methods of `IRef`: `stub_*`.
    Blocking,
    /// The `async fn`s of `i::AsyncRef`: `async_stub_*`.
    Async,
}

/// What an entry of the dispatch table does.
enum Target {
    Upcall(TokenStream),
    IsA,
    NonExistent,
    NoImplement,
}

impl<'m> Generator<'m> {
    pub(super) fn interface(
        &self,
        id: ItemId,
        path: &[String],
        seen: &mut HashSet<ItemId>,
    ) -> Result<TokenStream> {
        let item = self.item(id)?;
        let ItemKind::Interface(iface) = &item.kind else {
            return Err(GenError::new("not an interface"));
        };
        if !iface.defined {
            return Ok(comment(&format!(
                "IDL interface {} is only forward-declared: references to it are ::orb::codegen::ObjectRef.",
                item.scoped()
            )));
        }
        let n = self.names(id)?;
        let module_name = n
            .module
            .clone()
            .ok_or_else(|| GenError::new("interface without a module"))?;
        let module = ident(&module_name);
        let mut mod_path = path.to_vec();
        mod_path.push(module_name);
        let nested_ids: Vec<ItemId> = iface
            .contents
            .iter()
            .copied()
            .filter(|c| {
                !matches!(
                    self.m.get(*c).map(|i| &i.kind),
                    Some(ItemKind::Operation(_) | ItemKind::Attribute(_))
                )
            })
            .collect();
        let nested = self.emit_scope(&nested_ids, &mod_path, seen)?;
        let repo = item.repository_id.as_str();
        let mod_doc = format!(" Items of IDL interface `{}` (`{repo}`).", item.scoped());
        let cg = quote!(::orb::codegen);

        if iface.kind == InterfaceKind::Local {
            // A local object is a Rust value implementing the trait, referred to by
            // `LocalRef<dyn Trait>`; it has no stubs, skeleton or typed reference.
            let local_trait = self.servant_trait(id, path)?;
            let mut errors = Vec::new();
            for (member, acc) in self.own_members(id)? {
                if self.member_unsupported(member, acc).is_none() {
                    if let Some(e) = self.error_enum(id, member, acc, &mod_path)? {
                        errors.push(e);
                    }
                }
            }
            return Ok(quote! {
                #local_trait

                #[doc = #mod_doc]
                // Whoever includes the file picks the enclosing module's name, which may be this one.
                #[allow(clippy::module_inception)]
                pub mod #module {
                    /// The repository id.
                    pub const REPOSITORY_ID: &str = #repo;
                    #(#errors)*
                    #(#nested)*
                }
            });
        }

        let ancestors = self.ancestors(id)?;
        let base_ids: Vec<&str> = ancestors
            .iter()
            .map(|&b| self.item(b).map(|i| i.repository_id.as_str()))
            .collect::<Result<_>>()?;
        let servant_trait = self.servant_trait(id, path)?;
        let mut errors = Vec::new();
        let mut upcalls = Vec::new();
        let mut stubs = Vec::new();
        for (member, acc) in self.own_members(id)? {
            if self.member_unsupported(member, acc).is_some() {
                continue;
            }
            if let Some(e) = self.error_enum(id, member, acc, &mod_path)? {
                errors.push(e);
            }
            upcalls.push(self.upcall(id, member, acc, &mod_path)?);
            // Abstract interfaces get stubs too: typed references of the concrete interfaces
            // that inherit them call them.
            stubs.push(self.stub(id, member, acc, &mod_path)?);
        }
        let (skeleton, tie, typed_ref, async_ref) = if iface.kind == InterfaceKind::Unconstrained {
            (
                self.skeleton(id, &mod_path)?,
                self.tie(id, &mod_path)?,
                self.typed_ref(id, path)?,
                self.async_ref(id, &mod_path)?,
            )
        } else {
            Default::default()
        };
        let name = item.name.as_str();
        let tc = if iface.kind == InterfaceKind::Abstract {
            quote!(#cg::TypeCode::abstract_interface(#repo, #name))
        } else {
            quote!(#cg::TypeCode::objref(#repo, #name))
        };
        Ok(quote! {
            #servant_trait

            #typed_ref

            #[doc = #mod_doc]
            // Whoever includes the file picks the enclosing module's name, which may be this one.
            #[allow(clippy::module_inception)]
            pub mod #module {
                /// The interface's repository id.
                pub const REPOSITORY_ID: &str = #repo;

                /// The repository ids of every interface it inherits from, directly or not.
                pub const BASE_IDS: &[&str] = &[#(#base_ids),*];

                /// The TypeCode of a reference to the interface.
                pub fn type_code() -> #cg::TypeCode {
                    static TC: #cg::LazyLock<#cg::TypeCode> = #cg::LazyLock::new(|| #tc);
                    TC.clone()
                }

                /// `_is_a`: true for the interface, its bases and `CORBA::Object`.
                pub fn is_a(id: &str) -> bool {
                    id == REPOSITORY_ID || BASE_IDS.contains(&id) || id == #cg::OBJECT_REPOSITORY_ID
                }

                #(#errors)*
                #(#upcalls)*
                #(#stubs)*
                #skeleton
                #tie
                #async_ref
                #(#nested)*
            }
        })
    }

    /// Every interface `id` inherits from, directly or not, depth first, each once.
    fn ancestors(&self, id: ItemId) -> Result<Vec<ItemId>> {
        let mut out = Vec::new();
        let mut todo = vec![id];
        while let Some(i) = todo.pop() {
            let ItemKind::Interface(iface) = &self.item(i)?.kind else {
                return Err(GenError::new(format!(
                    "'{}' inherits from something that is not an interface",
                    self.item(id)?.scoped()
                )));
            };
            for &b in iface.bases.iter().rev() {
                if b != id && !out.contains(&b) {
                    out.push(b);
                    todo.push(b);
                }
            }
        }
        Ok(out)
    }

    /// The operations and attribute accessors an interface declares itself, in order.
    pub(super) fn own_members(&self, id: ItemId) -> Result<Vec<(ItemId, Acc)>> {
        let contents = self
            .member_contents(id)
            .ok_or_else(|| GenError::new("not an interface or value type"))?;
        let mut out = Vec::new();
        for &m in contents {
            match &self.item(m)?.kind {
                ItemKind::Operation(_) => out.push((m, Acc::Op)),
                ItemKind::Attribute(a) => {
                    out.push((m, Acc::Get));
                    if !a.readonly {
                        out.push((m, Acc::Set));
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// Why a member cannot be mapped, if it cannot (a type or exception that is not).
    pub(super) fn member_unsupported(&self, member: ItemId, acc: Acc) -> Option<String> {
        let item = self.m.get(member)?;
        let (types, raises): (Vec<&TypeRef>, &[ItemId]) = match (&item.kind, acc) {
            (ItemKind::Operation(op), _) => (
                op.result
                    .iter()
                    .chain(op.params.iter().map(|p| &p.ty))
                    .collect(),
                &op.raises,
            ),
            (ItemKind::Attribute(a), Acc::Set) => (vec![&a.ty], &a.set_raises),
            (ItemKind::Attribute(a), _) => (vec![&a.ty], &a.get_raises),
            _ => return Some("not an operation or attribute".into()),
        };
        types
            .into_iter()
            .find_map(|t| self.type_unsupported(t))
            .or_else(|| {
                raises.iter().find_map(|e| {
                    self.unsupported
                        .get(e)
                        .map(|r| format!("it raises an exception that is not mapped: {r}"))
                })
            })
    }

    /// The servant trait: one method per operation and attribute accessor; inherited
    /// interfaces are supertraits.
    fn servant_trait(&self, id: ItemId, path: &[String]) -> Result<TokenStream> {
        let item = self.item(id)?;
        let ItemKind::Interface(iface) = &item.kind else {
            return Err(GenError::new("not an interface"));
        };
        let name = ident(&self.names(id)?.ident);
        let mut supers = Vec::new();
        for &b in &iface.bases {
            supers.push(self.path_to(path, b)?);
        }
        let doc = format!(
            " Servant trait of IDL interface `{}` (`{}`): what an implementation provides.",
            item.scoped(),
            item.repository_id
        );
        self.member_trait(id, path, name, supers, doc)
    }

    /// A trait of the operations and attributes `id` (an interface or value type) declares.
    pub(super) fn member_trait(
        &self,
        id: ItemId,
        path: &[String],
        name: proc_macro2::Ident,
        supers: Vec<TokenStream>,
        doc: String,
    ) -> Result<TokenStream> {
        let mut methods = Vec::new();
        for (member, acc) in self.own_members(id)? {
            if let Some(reason) = self.member_unsupported(member, acc) {
                let m = self.item(member)?;
                methods.push(comment(&format!(
                    "IDL {} {} is not mapped (requests for it get NO_IMPLEMENT): {reason}.",
                    m.kind.describe(),
                    m.name
                )));
                continue;
            }
            let sig = self.signature(id, member, acc, path)?;
            let method = &sig.method;
            let params = self.method_params(&sig, path)?;
            let (ok, err, doc) = (&sig.ok, &sig.err, &sig.doc);
            methods.push(quote! {
                #[doc = #doc]
                fn #method(&self #(, #params)*) -> Result<#ok, #err>;
            });
        }
        let idl_named = idl_named_allow();
        Ok(quote! {
            #[doc = #doc]
            #idl_named
            pub trait #name: #(#supers +)* Send + Sync {
                #(#methods)*
            }
        })
    }

    /// A method's parameters as `name: type` (`in` borrowed or by value, `inout` as `&mut`;
    /// `out` values are returned, not passed), for the trait, the stubs and the typed
    /// reference alike.
    fn method_params(&self, sig: &Sig<'_>, from: &[String]) -> Result<Vec<TokenStream>> {
        sig.params
            .iter()
            .filter(|p| p.dir != ParamDir::Out)
            .map(|p| {
                let pname = &p.name;
                let t = match p.dir {
                    ParamDir::In => self.in_param_type(p.ty, from),
                    _ => self.rust_type(p.ty, from).map(|t| quote!(&mut #t)),
                };
                t.map(|t| quote!(#pname: #t))
            })
            .collect()
    }

    /// The operation name a request for a member carries: the operation's, or an
    /// attribute's `_get_x` / `_set_x`.
    fn wire_name(&self, member: ItemId, acc: Acc) -> Result<String> {
        let item = self.item(member)?;
        Ok(match acc {
            Acc::Op => item.name.clone(),
            Acc::Get => format!("_get_{}", item.name),
            Acc::Set => format!("_set_{}", item.name),
        })
    }

    /// An expression of type `Result<(), EncodeError>` writing `in` parameter `p` as passed
    /// to a stub (`&str`, `&[T]`, `&T` or by value) to the `Encoder` named `enc`: the form the
    /// upcall's `decode_expr` reads.
    fn encode_in_arg(&self, p: &Param<'_>) -> Result<TokenStream> {
        let name = &p.name;
        let cg = quote!(::orb::codegen);
        match (self.pass(p.ty), self.unalias(p.ty)) {
            (Pass::Value, _) => self.encode_expr(p.ty, quote!(&#name), 0),
            // A wide string parameter is a `&str`, not the `WString` the encode helpers take.
            (Pass::Str, TypeRef::WString(None)) => Ok(quote!(enc.write_wstring(#name))),
            (Pass::Str, TypeRef::WString(Some(b))) => {
                let b = Literal::u32_unsuffixed(*b);
                Ok(quote! {
                    #cg::check_string_bound(#name, #b).and_then(|()| enc.write_wstring(#name))
                })
            }
            _ => self.encode_expr(p.ty, quote!(#name), 0),
        }
    }

    /// The stub of one member: encodes the `in` and `inout` arguments into a request, sends
    /// it through the object reference `target`, and decodes the reply into the return value,
    /// `out` values and `inout` write-backs, or the declared user exception. What it encodes
    /// and decodes mirrors [`Generator::upcall`] exactly.
    fn stub(&self, decl: ItemId, member: ItemId, acc: Acc, from: &[String]) -> Result<TokenStream> {
        let names = self
            .ifaces
            .get(&decl)
            .ok_or_else(|| GenError::new("interface without names"))?;
        let fname = ident(
            names
                .stubs
                .get(&(member, acc))
                .ok_or_else(|| GenError::new("no stub name"))?,
        );
        let async_fname = ident(
            names
                .async_stubs
                .get(&(member, acc))
                .ok_or_else(|| GenError::new("no async stub name"))?,
        );
        let sig = self.signature(decl, member, acc, from)?;
        let cg = quote!(::orb::codegen);
        let wire = self.wire_name(member, acc)?;
        let params = self.method_params(&sig, from)?;
        let (ok, err) = (&sig.ok, &sig.err);

        let mut encodes = Vec::new();
        for p in &sig.params {
            let pname = &p.name;
            match p.dir {
                ParamDir::Out => {}
                ParamDir::In => {
                    let e = self.encode_in_arg(p)?;
                    encodes.push(quote!(#e?;));
                }
                ParamDir::InOut => {
                    let e = self.encode_expr(p.ty, quote!(&*#pname), 0)?;
                    encodes.push(quote!(#e?;));
                }
            }
        }
        let args = if encodes.is_empty() {
            quote!(&|_| Ok(()))
        } else {
            quote!(&|enc| {
                #(#encodes)*
                Ok(())
            })
        };
        let doc = format!(" Stub of `{}`: the request through `target`.", sig.method);
        let async_doc = format!(
            " Async stub of `{}`: the request through `target`, its reply awaited.",
            sig.method
        );
        let allow = quote! {
            // Signatures come from the IDL, not from Rust conventions.
            #[allow(clippy::too_many_arguments, clippy::type_complexity, clippy::result_large_err)]
        };
        let oneway = matches!(&self.item(member)?.kind, ItemKind::Operation(op) if op.oneway);
        if oneway {
            // The front end rejects `oneway` with results or `raises`, so the error type is
            // `SystemException` and there is nothing to decode. Sending one never waits for
            // the server, so the async stub sends it as the blocking one does.
            return Ok(quote! {
                #[doc = #doc]
                #[doc(hidden)]
                #allow
                pub fn #fname(target: &#cg::ObjectRef #(, #params)*) -> Result<#ok, #err> {
                    target.invoke_oneway(#wire, #args)
                }

                #[doc = #async_doc]
                #[doc(hidden)]
                #allow
                pub async fn #async_fname(target: &#cg::ObjectRef #(, #params)*) -> Result<#ok, #err> {
                    target.invoke_oneway(#wire, #args)
                }
            });
        }

        // The reply: the return value, then `out` and `inout` values in declaration order.
        let mut decodes = Vec::new();
        let mut binds = Vec::new();
        if let Some(r) = sig.result {
            let t = self.rust_type(r, from)?;
            let d = self.decode_expr(r, from)?;
            decodes.push(quote!(let ret: #t = #cg::reply_decode(#d)?;));
            binds.push(quote!(ret));
        }
        for p in &sig.params {
            let pname = &p.name;
            let d = self.decode_expr(p.ty, from)?;
            match p.dir {
                ParamDir::In => {}
                ParamDir::Out => {
                    let t = self.rust_type(p.ty, from)?;
                    decodes.push(quote!(let #pname: #t = #cg::reply_decode(#d)?;));
                    binds.push(quote!(#pname));
                }
                ParamDir::InOut => decodes.push(quote!(*#pname = #cg::reply_decode(#d)?;)),
            }
        }
        let value = match binds.len() {
            0 => quote!(()),
            1 => binds.remove(0),
            _ => quote!((#(#binds),*)),
        };
        let normal = if decodes.is_empty() {
            quote!(#cg::ReplyOutcome::Normal(_) => Ok(#value),)
        } else {
            quote! {
                #cg::ReplyOutcome::Normal(mut dec) => {
                    let dec = &mut dec;
                    #(#decodes)*
                    Ok(#value)
                }
            }
        };
        let exception = match &sig.raises {
            None => quote! {
                #cg::ReplyOutcome::UserException { .. } => Err(#cg::unknown_user_exception()),
            },
            Some((_, variants)) => {
                let arms = variants.iter().map(|(p, _)| {
                    quote! {
                        #p::REPOSITORY_ID => Err(#cg::reply_decode(
                            <#p as #cg::CdrDecode>::decode(&mut body),
                        )?.into()),
                    }
                });
                quote! {
                    #cg::ReplyOutcome::UserException { id, mut body } => match &*id {
                        #(#arms)*
                        _ => Err(#cg::unknown_user_exception().into()),
                    },
                }
            }
        };
        let outcome = quote! {
            match reply.outcome()? {
                #normal
                #exception
            }
        };
        Ok(quote! {
            #[doc = #doc]
            #[doc(hidden)]
            #allow
            pub fn #fname(target: &#cg::ObjectRef #(, #params)*) -> Result<#ok, #err> {
                let reply = target.invoke(#wire, #args)?;
                #outcome
            }

            #[doc = #async_doc]
            #[doc(hidden)]
            #allow
            pub async fn #async_fname(target: &#cg::ObjectRef #(, #params)*) -> Result<#ok, #err> {
                let reply = target.invoke_async(#wire, #args).await?;
                #outcome
            }
        })
    }

    /// `Tie<T>`, the servant of an implementation `T` of a concrete interface, and
    /// `servant(imp)`. Its `upcast` offers the implementation as the trait object of the
    /// interface and of each ancestor, which is how a collocated typed reference reaches it.
    fn tie(&self, id: ItemId, mod_path: &[String]) -> Result<TokenStream> {
        let cg = quote!(::orb::codegen);
        let trait_path = self.path_to(mod_path, id)?;
        let mut arms = Vec::new();
        for b in self.ancestors(id)? {
            let repo = self.item(b)?.repository_id.as_str();
            let bp = self.path_to(mod_path, b)?;
            arms.push(quote!(#repo => Some(Box::new(self.0.clone() as #cg::Arc<dyn #bp>)),));
        }
        let name = &self.names(id)?.ident;
        let tie_doc = format!(
            " The servant of an implementation `T` of [`{name}`](super::{name}): dispatches \
             requests to it, and offers it to collocated typed references."
        );
        let servant_doc =
            " `imp` as a servant, ready for the POA: `Tie::new(imp)` as a `ServantRef`.";
        Ok(quote! {
            #[doc = #tie_doc]
            pub struct Tie<T>(#cg::Arc<T>);

            impl<T> Tie<T> {
                /// Wraps an implementation.
                pub fn new(imp: T) -> Self {
                    Tie(#cg::Arc::new(imp))
                }

                /// Wraps an implementation that is shared already.
                pub fn from_arc(imp: #cg::Arc<T>) -> Self {
                    Tie(imp)
                }

                /// The implementation.
                pub fn get(&self) -> &#cg::Arc<T> {
                    &self.0
                }
            }

            impl<T: #trait_path + 'static> #cg::Servant for Tie<T> {
                fn repository_id(&self) -> &'static str {
                    REPOSITORY_ID
                }

                fn is_a(&self, id: &str) -> bool {
                    is_a(id)
                }

                fn dispatch(
                    &self,
                    operation: &str,
                    args: &mut #cg::Decoder<'_>,
                    reply: &mut #cg::Encoder,
                ) -> Result<#cg::DispatchStatus, #cg::SystemException> {
                    dispatch(&*self.0, operation, args, reply)
                }

                fn upcast(&self, id: &str) -> Option<Box<dyn #cg::StdAny + Send + Sync>> {
                    match id {
                        REPOSITORY_ID => Some(Box::new(self.0.clone() as #cg::Arc<dyn #trait_path>)),
                        #(#arms)*
                        _ => None,
                    }
                }

                fn as_any(&self) -> &dyn #cg::StdAny {
                    self
                }
            }

            #[doc = #servant_doc]
            pub fn servant<T: #trait_path + 'static>(imp: T) -> #cg::ServantRef {
                #cg::Arc::new(Tie::new(imp))
            }
        })
    }

    /// The typed reference of a concrete interface (`EchoRef`), emitted beside its trait:
    /// `narrow`, the reference's own operations, its CDR form (an IOR), and the servant
    /// trait of the interface and of every ancestor, implemented by the stubs.
    fn typed_ref(&self, id: ItemId, path: &[String]) -> Result<TokenStream> {
        let cg = quote!(::orb::codegen);
        let n = self.names(id)?;
        let rname = n
            .reference
            .as_deref()
            .ok_or_else(|| GenError::new("concrete interface without a typed reference"))?;
        let name = ident(rname);
        let tr = ident(&n.ident);
        let module = ident(
            n.module
                .as_deref()
                .ok_or_else(|| GenError::new("interface without a module"))?,
        );
        let item = self.item(id)?;
        let doc = format!(
            " A reference to an object implementing IDL interface `{}` (`{}`): calls through \
             it are requests (or, to a collocated object, direct calls). Also the \
             implementation of [`{}`] that forwards to the object.",
            item.scoped(),
            item.repository_id,
            n.ident
        );
        let to_async_doc =
            format!(" The same reference with `async fn` operations ([`{module}::AsyncRef`]).");
        let mut impls = vec![self.ref_trait_impl(id, id, path)?];
        for b in self.ancestors(id)? {
            impls.push(self.ref_trait_impl(id, b, path)?);
        }
        Ok(quote! {
            #[doc = #doc]
            #[derive(Clone, Default)]
            pub struct #name {
                obj: #cg::ObjectRef,
                /// The implementation, when the object is collocated and the ORB lets calls
                /// bypass marshaling.
                direct: Option<#cg::Arc<dyn #tr>>,
            }

            impl #name {
                /// The reference as this interface, if it is one: `None` when `obj` is nil or
                /// its object does not implement the interface (which may take a remote
                /// `_is_a`).
                pub fn narrow(obj: &#cg::ObjectRef) -> Result<Option<Self>, #cg::SystemException> {
                    Ok(if #cg::narrow_check(obj, #module::REPOSITORY_ID)? {
                        Some(Self::unchecked_narrow(obj.clone()))
                    } else {
                        None
                    })
                }

                /// The reference as this interface, unchecked: calls on an object that does
                /// not implement it fail as the object sees fit (usually `BAD_OPERATION`).
                pub fn unchecked_narrow(obj: #cg::ObjectRef) -> Self {
                    let direct = #cg::collocated::<dyn #tr>(&obj, #module::REPOSITORY_ID);
                    Self { obj, direct }
                }

                /// The nil reference.
                pub fn nil() -> Self {
                    Self::default()
                }

                pub fn is_nil(&self) -> bool {
                    self.obj.is_nil()
                }

                /// The untyped reference.
                pub fn object(&self) -> &#cg::ObjectRef {
                    &self.obj
                }

                pub fn into_object(self) -> #cg::ObjectRef {
                    self.obj
                }

                /// The same reference with its own call timeout (`ObjectRef::with_timeout`;
                /// zero waits for ever). Collocated calls do not go through the transport,
                /// and so have none.
                pub fn with_timeout(&self, timeout: ::std::time::Duration) -> Self {
                    Self::unchecked_narrow(self.obj.with_timeout(timeout))
                }

                /// Whether calls skip marshaling and go straight to the implementation, which
                /// is in this process (the ORB's collocation strategy is `Direct` or
                /// `ThruPoa`, and its servant implements the interface).
                pub fn is_collocated(&self) -> bool {
                    self.direct.is_some()
                }

                #[doc = #to_async_doc]
                pub fn to_async(&self) -> #module::AsyncRef {
                    // Field by field: an IDL operation may be called `clone` or `into`.
                    #module::AsyncRef {
                        obj: ::std::clone::Clone::clone(&self.obj),
                        direct: ::std::clone::Clone::clone(&self.direct),
                    }
                }

                /// `_non_existent`: true when the object is known to be gone.
                pub fn non_existent(&self) -> Result<bool, #cg::SystemException> {
                    self.obj.non_existent()
                }

                /// `_is_a`: whether the object implements the interface `id`.
                pub fn is_a(&self, id: &str) -> Result<bool, #cg::SystemException> {
                    self.obj.is_a(id)
                }
            }

            impl ::std::fmt::Debug for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.debug_tuple(#rname).field(&self.obj).finish()
                }
            }

            impl PartialEq for #name {
                fn eq(&self, other: &Self) -> bool {
                    self.obj == other.obj
                }
            }

            impl #cg::CdrEncode for #name {
                fn encode(&self, enc: &mut #cg::Encoder) -> Result<(), #cg::EncodeError> {
                    #cg::CdrEncode::encode(&self.obj, enc)
                }
            }

            impl<'a> #cg::CdrDecode<'a> for #name {
                const MIN_WIRE_SIZE: usize = <#cg::ObjectRef as #cg::CdrDecode<'a>>::MIN_WIRE_SIZE;

                fn decode(dec: &mut #cg::Decoder<'a>) -> Result<Self, #cg::DecodeError> {
                    <#cg::ObjectRef as #cg::CdrDecode<'a>>::decode(dec).map(Self::unchecked_narrow)
                }
            }

            impl From<#name> for #cg::ObjectRef {
                fn from(r: #name) -> #cg::ObjectRef {
                    r.obj
                }
            }

            /// Into and out of an `any` as a reference to this interface (to take out a
            /// reference to another interface, get an `ObjectRef` and narrow it).
            impl #cg::AnyType for #name {
                fn type_code() -> #cg::TypeCode {
                    #module::type_code()
                }

                fn from_value(
                    tc: &#cg::TypeCode,
                    value: &#cg::Value,
                ) -> Result<Self, #cg::AnyError> {
                    <#cg::ObjectRef as #cg::AnyType>::from_value(tc, value).map(Self::unchecked_narrow)
                }
            }

            #(#impls)*
        })
    }

    /// `AsyncRef`, in the interface's module: the typed reference's asynchronous twin, with
    /// an `async fn` per operation and attribute accessor of the interface and its
    /// ancestors. Remote calls go through the async stubs; a collocated implementation is
    /// called directly, as the typed reference does (it returns at once).
    fn async_ref(&self, id: ItemId, mod_path: &[String]) -> Result<TokenStream> {
        let cg = quote!(::orb::codegen);
        let n = self.names(id)?;
        let rname = n
            .reference
            .as_deref()
            .ok_or_else(|| GenError::new("concrete interface without a typed reference"))?;
        let reference = relative(mod_path, &n.scope, rname);
        let own = self.path_to(mod_path, id)?;
        let mut methods = Vec::new();
        for decl in std::iter::once(id).chain(self.ancestors(id)?) {
            methods.extend(self.forwarding_methods(id, decl, mod_path, Calls::Async)?);
        }
        let doc = format!(
            " The asynchronous twin of [`{rname}`](super::{rname}) (from `{rname}::to_async` or \
             `From`): each operation is an `async fn` whose reply is awaited without blocking \
             a thread, on any executor. Sending blocks only while the connection's socket is \
             full (or, the first time, while connecting)."
        );
        let idl_named = idl_named_allow();
        Ok(quote! {
            #[doc = #doc]
            #[derive(Clone, Default)]
            pub struct AsyncRef {
                pub(super) obj: #cg::ObjectRef,
                pub(super) direct: Option<#cg::Arc<dyn #own>>,
            }

            impl From<#reference> for AsyncRef {
                fn from(r: #reference) -> AsyncRef {
                    AsyncRef { obj: r.obj, direct: r.direct }
                }
            }

            impl From<AsyncRef> for #reference {
                fn from(r: AsyncRef) -> #reference {
                    #reference { obj: r.obj, direct: r.direct }
                }
            }

            impl ::std::fmt::Debug for AsyncRef {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.debug_tuple("AsyncRef").field(&self.obj).finish()
                }
            }

            #idl_named
            impl AsyncRef {
                #(#methods)*
            }
        })
    }

    /// The methods of `id`'s typed reference (or its `AsyncRef`) for the members of `decl`
    /// (`id` itself or an ancestor): each calls the collocated implementation when there is
    /// one (after the POA's checks under `ThruPoa`), else `decl`'s stub — the blocking one as
    /// trait methods, the async one as `pub async fn`s. `from` is where they are emitted.
    fn forwarding_methods(
        &self,
        id: ItemId,
        decl: ItemId,
        from: &[String],
        calls: Calls,
    ) -> Result<Vec<TokenStream>> {
        let own = self.path_to(from, id)?;
        let decl_trait = self.path_to(from, decl)?;
        let decl_mod = self.module_path(decl)?;
        let names = self
            .ifaces
            .get(&decl)
            .ok_or_else(|| GenError::new("interface without names"))?;
        let stubs = match calls {
            Calls::Blocking => &names.stubs,
            Calls::Async => &names.async_stubs,
        };
        let mut methods = Vec::new();
        for (member, acc) in self.own_members(decl)? {
            if self.member_unsupported(member, acc).is_some() {
                continue;
            }
            let sig = self.signature(decl, member, acc, from)?;
            let params = self.method_params(&sig, from)?;
            let args: Vec<&proc_macro2::Ident> = sig
                .params
                .iter()
                .filter(|p| p.dir != ParamDir::Out)
                .map(|p| &p.name)
                .collect();
            let stub = relative(
                from,
                &decl_mod,
                stubs
                    .get(&(member, acc))
                    .ok_or_else(|| GenError::new("no stub name"))?,
            );
            let (method, ok, err, doc) = (&sig.method, &sig.ok, &sig.err, &sig.doc);
            let direct = quote! {
                if let Some(direct) = &self.direct {
                    if self.obj.check_collocated()? {
                        return <dyn #own as #decl_trait>::#method(&**direct #(, #args)*);
                    }
                }
            };
            methods.push(match calls {
                Calls::Blocking => quote! {
                    fn #method(&self #(, #params)*) -> Result<#ok, #err> {
                        #direct
                        #stub(&self.obj #(, #args)*)
                    }
                },
                Calls::Async => quote! {
                    #[doc = #doc]
                    pub async fn #method(&self #(, #params)*) -> Result<#ok, #err> {
                        #direct
                        #stub(&self.obj #(, #args)*).await
                    }
                },
            });
        }
        Ok(methods)
    }

    /// `impl Decl for IRef`: the servant trait of `decl` (the interface `id` itself or an
    /// ancestor) implemented on `id`'s typed reference. Each method calls the collocated
    /// implementation when there is one (after the POA's checks under `ThruPoa`), else
    /// `decl`'s stub.
    fn ref_trait_impl(&self, id: ItemId, decl: ItemId, path: &[String]) -> Result<TokenStream> {
        let n = self.names(id)?;
        let name = ident(
            n.reference
                .as_deref()
                .ok_or_else(|| GenError::new("concrete interface without a typed reference"))?,
        );
        let decl_trait = self.path_to(path, decl)?;
        let methods = self.forwarding_methods(id, decl, path, Calls::Blocking)?;
        let idl_named = idl_named_allow();
        Ok(quote! {
            #idl_named
            impl #decl_trait for #name {
                #(#methods)*
            }
        })
    }

    /// The signature of member `member` (accessor `acc`) of interface `decl`, from `from`.
    fn signature(
        &self,
        decl: ItemId,
        member: ItemId,
        acc: Acc,
        from: &[String],
    ) -> Result<Sig<'m>> {
        let names = self
            .ifaces
            .get(&decl)
            .ok_or_else(|| GenError::new("interface without names"))?;
        let item = self.item(member)?;
        let method = ident(
            names
                .methods
                .get(&(member, acc))
                .ok_or_else(|| GenError::new(format!("no method name for {}", item.scoped())))?,
        );
        let mut params = Vec::new();
        let (result, raises, doc): (Option<&TypeRef>, &[ItemId], String) = match (&item.kind, acc) {
            (ItemKind::Operation(op), _) => {
                let pnames = names
                    .params
                    .get(&member)
                    .ok_or_else(|| GenError::new("no parameter names"))?;
                for (p, pn) in op.params.iter().zip(pnames) {
                    params.push(Param {
                        name: ident(pn),
                        idl: p.name.as_str(),
                        dir: p.dir,
                        ty: &p.ty,
                    });
                }
                let oneway = if op.oneway { "oneway " } else { "" };
                (
                    op.result.as_ref(),
                    &op.raises,
                    format!(" IDL {oneway}operation `{}`.", item.name),
                )
            }
            (ItemKind::Attribute(a), Acc::Get) => (
                Some(&a.ty),
                &a.get_raises,
                format!(" Reads IDL attribute `{}`.", item.name),
            ),
            (ItemKind::Attribute(a), _) => {
                params.push(Param {
                    name: ident("value"),
                    idl: "value",
                    dir: ParamDir::In,
                    ty: &a.ty,
                });
                (
                    None,
                    &a.set_raises,
                    format!(" Writes IDL attribute `{}`.", item.name),
                )
            }
            _ => return Err(GenError::new("not an operation or attribute")),
        };
        let mut oks = Vec::new();
        if let Some(r) = result {
            oks.push(self.rust_type(r, from)?);
        }
        for p in params.iter().filter(|p| p.dir == ParamDir::Out) {
            oks.push(self.rust_type(p.ty, from)?);
        }
        let ok = match oks.len() {
            0 => quote!(()),
            1 => oks.remove(0),
            _ => quote!((#(#oks),*)),
        };
        let cg = quote!(::orb::codegen);
        let (err, raises) = match names.errors.get(&(member, acc)) {
            None => (quote!(#cg::SystemException), None),
            Some(e) => {
                let p = relative(from, &self.module_path(decl)?, e);
                let variants = names
                    .error_variants
                    .get(&(member, acc))
                    .ok_or_else(|| GenError::new("no error variants"))?;
                let mut vs = Vec::new();
                for (&ex, v) in dedup(raises).iter().zip(variants) {
                    vs.push((self.path_to(from, ex)?, ident(v)));
                }
                (p.clone(), Some((p, vs)))
            }
        };
        Ok(Sig {
            method,
            params,
            result,
            ok,
            err,
            raises,
            doc,
        })
    }

    /// The error enum of a member that raises user exceptions.
    pub(super) fn error_enum(
        &self,
        decl: ItemId,
        member: ItemId,
        acc: Acc,
        from: &[String],
    ) -> Result<Option<TokenStream>> {
        let names = self
            .ifaces
            .get(&decl)
            .ok_or_else(|| GenError::new("interface without names"))?;
        let Some(ename) = names.errors.get(&(member, acc)) else {
            return Ok(None);
        };
        let sig = self.signature(decl, member, acc, from)?;
        let Some((_, variants)) = &sig.raises else {
            return Ok(None);
        };
        let name = ident(ename);
        let cg = quote!(::orb::codegen);
        let doc = format!(
            " What `{}::{}` fails with: the user exceptions it raises, or a system exception.",
            self.names(decl)?.ident,
            sig.method
        );
        let decls = variants.iter().map(|(p, v)| quote!(#v(#p),));
        let froms = variants.iter().map(|(p, v)| {
            quote! {
                impl From<#p> for #name {
                    fn from(e: #p) -> Self {
                        Self::#v(e)
                    }
                }
            }
        });
        let shows = variants
            .iter()
            .map(|(_, v)| quote!(Self::#v(e) => ::std::fmt::Display::fmt(e, f),));
        Ok(Some(quote! {
            #[doc = #doc]
            #[derive(Debug, Clone, PartialEq)]
            #[allow(clippy::large_enum_variant)]
            pub enum #name {
                #(#decls)*
                System(#cg::SystemException),
            }

            #(#froms)*

            impl From<#cg::SystemException> for #name {
                fn from(e: #cg::SystemException) -> Self {
                    Self::System(e)
                }
            }

            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    match self {
                        #(#shows)*
                        Self::System(e) => ::std::fmt::Display::fmt(e, f),
                    }
                }
            }

            impl ::std::error::Error for #name {}
        }))
    }

    /// The upcall of one member: decode the `in`/`inout` arguments, call the servant, encode
    /// the return value and `out`/`inout` values, or the user exception.
    fn upcall(
        &self,
        decl: ItemId,
        member: ItemId,
        acc: Acc,
        from: &[String],
    ) -> Result<TokenStream> {
        let names = self
            .ifaces
            .get(&decl)
            .ok_or_else(|| GenError::new("interface without names"))?;
        let fname = ident(
            names
                .upcalls
                .get(&(member, acc))
                .ok_or_else(|| GenError::new("no upcall name"))?,
        );
        let sig = self.signature(decl, member, acc, from)?;
        let trait_path = self.path_to(from, decl)?;
        let cg = quote!(::orb::codegen);
        let method = &sig.method;

        let mut decls = Vec::new();
        let mut args = Vec::new();
        for p in &sig.params {
            let pname = &p.name;
            match p.dir {
                ParamDir::Out => continue,
                ParamDir::In => {
                    let t = self.rust_type(p.ty, from)?;
                    let d = self.decode_expr(p.ty, from)?;
                    let idl = p.idl;
                    decls.push(quote!(let #pname: #t = #cg::ResultExt::field(#d, #idl)?;));
                    args.push(match self.pass(p.ty) {
                        super::types::Pass::Value => quote!(#pname),
                        _ => quote!(&#pname),
                    });
                }
                ParamDir::InOut => {
                    let t = self.rust_type(p.ty, from)?;
                    let d = self.decode_expr(p.ty, from)?;
                    let idl = p.idl;
                    decls.push(quote!(let mut #pname: #t = #cg::ResultExt::field(#d, #idl)?;));
                    args.push(quote!(&mut #pname));
                }
            }
        }
        // What the Ok value destructures into, and what the reply carries, in wire order.
        let mut binds = Vec::new();
        let mut encodes = Vec::new();
        if let Some(r) = sig.result {
            binds.push(quote!(ret));
            let e = self.encode_expr(r, quote!(&ret), 0)?;
            encodes.push(quote!(#cg::reply_ok(#e)?;));
        }
        for p in &sig.params {
            let pname = &p.name;
            if p.dir == ParamDir::Out {
                binds.push(quote!(#pname));
            }
            if p.dir != ParamDir::In {
                let e = self.encode_expr(p.ty, quote!(&#pname), 0)?;
                encodes.push(quote!(#cg::reply_ok(#e)?;));
            }
        }
        let binds_empty = binds.is_empty() && encodes.is_empty();
        let pattern = match binds.len() {
            0 => quote!(()),
            1 => binds.remove(0),
            _ => quote!((#(#binds),*)),
        };
        // The servant's type parameter is `_S`: upcalls live in the interface's module beside
        // its nested types, and a mapped type name never starts with `_`, so an IDL type `S`
        // (alfa's typedef2.idl) cannot be shadowed by it.
        let call = quote!(<_S as #trait_path>::#method(servant #(, #args)*));
        let body = match &sig.raises {
            None if binds_empty => quote! {
                #call?;
                Ok(#cg::DispatchStatus::NoException)
            },
            None => quote! {
                let #pattern = #call?;
                #(#encodes)*
                Ok(#cg::DispatchStatus::NoException)
            },
            Some((epath, variants)) => {
                let arms = variants.iter().map(
                    |(_, v)| quote!(Err(#epath::#v(e)) => #cg::reply_user_exception(enc, &e),),
                );
                quote! {
                    match #call {
                        Ok(#pattern) => {
                            #(#encodes)*
                            Ok(#cg::DispatchStatus::NoException)
                        }
                        #(#arms)*
                        Err(#epath::System(e)) => Err(e),
                    }
                }
            }
        };
        let dec_name = if decls.is_empty() {
            ident("_dec")
        } else {
            ident("dec")
        };
        let enc_name = if encodes.is_empty() && sig.raises.is_none() {
            ident("_enc")
        } else {
            ident("enc")
        };
        let doc = format!(
            " Upcall of `{}`; the skeletons of derived interfaces share it.",
            sig.method
        );
        Ok(quote! {
            #[doc = #doc]
            #[doc(hidden)]
            pub fn #fname<_S: #trait_path + ?Sized>(
                servant: &_S,
                #dec_name: &mut #cg::Decoder<'_>,
                #enc_name: &mut #cg::Encoder,
            ) -> Result<#cg::DispatchStatus, #cg::SystemException> {
                #(#decls)*
                #body
            }
        })
    }

    /// `OPERATIONS`, `operation_index` and `dispatch` of a concrete interface.
    fn skeleton(&self, id: ItemId, mod_path: &[String]) -> Result<TokenStream> {
        let cg = quote!(::orb::codegen);
        let mut entries: Vec<(String, Target)> = Vec::new();
        let chain: Vec<ItemId> = std::iter::once(id).chain(self.ancestors(id)?).collect();
        for decl in chain {
            let names = self
                .ifaces
                .get(&decl)
                .ok_or_else(|| GenError::new("interface without names"))?;
            let decl_mod = self.module_path(decl)?;
            for (member, acc) in self.own_members(decl)? {
                let wire = self.wire_name(member, acc)?;
                let target = if self.member_unsupported(member, acc).is_some() {
                    Target::NoImplement
                } else {
                    let f = names
                        .upcalls
                        .get(&(member, acc))
                        .ok_or_else(|| GenError::new("no upcall name"))?;
                    Target::Upcall(relative(mod_path, &decl_mod, f))
                };
                entries.push((wire, target));
            }
        }
        entries.push(("_is_a".into(), Target::IsA));
        entries.push(("_non_existent".into(), Target::NonExistent));
        // omniORB's GIOP 1.0 spelling, still sent by old clients.
        entries.push(("_not_existent".into(), Target::NonExistent));

        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        let mut distinct = HashSet::new();
        if let Some(dup) = keys.iter().find(|k| !distinct.insert(**k)) {
            return Err(GenError::new(format!(
                "interface '{}' has two operations called '{dup}'",
                self.item(id)?.scoped()
            )));
        }
        let (order, lookup) = self.demux(&keys)?;
        let ops: Vec<&str> = order.iter().map(|&i| keys[i]).collect();
        let count = Literal::usize_unsuffixed(ops.len());
        let mut uses_servant = false;
        let arms: Vec<TokenStream> = order
            .iter()
            .enumerate()
            .map(|(slot, &i)| {
                let slot = Literal::usize_unsuffixed(slot);
                let body = match &entries[i].1 {
                    Target::Upcall(p) => {
                        uses_servant = true;
                        quote!(#p(servant, args, reply))
                    }
                    Target::IsA => quote!(#cg::reply_is_a(args, reply, is_a)),
                    Target::NonExistent => quote!(#cg::reply_non_existent(reply)),
                    Target::NoImplement => quote!(Err(#cg::SystemException::no_implement())),
                };
                quote!(Some(#slot) => #body,)
            })
            .collect();
        let unused = (!uses_servant).then(|| quote!(let _ = servant;));
        let trait_path = self.path_to(mod_path, id)?;
        let strategy = format!(
            " Operation lookup: {} (chosen when the code was generated).",
            self.opts.demux
        );
        Ok(quote! {
            /// Every operation name the skeleton answers, in `operation_index` order: the
            /// interface's and its bases' operations, `_get_`/`_set_` attribute accessors,
            /// `_is_a` and `_non_existent`.
            pub const OPERATIONS: [&str; #count] = [#(#ops),*];

            /// The index in [`OPERATIONS`] of an operation name, if the interface has it.
            #[doc = #strategy]
            pub fn operation_index(operation: &str) -> Option<usize> {
                #lookup
            }

            /// The skeleton: decodes a request's arguments from `args`, calls the servant and
            /// encodes its results or user exception into `reply`. An unknown operation is
            /// `BAD_OPERATION`, arguments that do not decode `MARSHAL`, both completed NO.
            pub fn dispatch<S: #trait_path + ?Sized>(
                servant: &S,
                operation: &str,
                args: &mut #cg::Decoder<'_>,
                reply: &mut #cg::Encoder,
            ) -> Result<#cg::DispatchStatus, #cg::SystemException> {
                #unused
                match operation_index(operation) {
                    #(#arms)*
                    _ => Err(#cg::SystemException::bad_operation()),
                }
            }
        })
    }

    /// The order of `keys` in `OPERATIONS` and the body of `operation_index`.
    fn demux(&self, keys: &[&str]) -> Result<(Vec<usize>, TokenStream)> {
        let cg = quote!(::orb::codegen);
        let n = Literal::usize_unsuffixed(keys.len());
        Ok(match self.opts.demux {
            Demux::Perfect => {
                let p = phf::generate(keys).ok_or_else(|| {
                    GenError::new("no perfect hash found for the operation names")
                })?;
                let seed = Literal::u64_unsuffixed(p.seed);
                let b = Literal::usize_unsuffixed(p.displacements.len());
                let ds = p.displacements.iter().map(|&(d1, d2)| {
                    let (d1, d2) = (Literal::u32_unsuffixed(d1), Literal::u32_unsuffixed(d2));
                    quote!((#d1, #d2))
                });
                let body = quote! {
                    const SEED: u64 = #seed;
                    const DISPLACEMENTS: [(u32, u32); #b] = [#(#ds),*];
                    let slot = #cg::phf_slot(#cg::phf_hash(operation.as_bytes(), SEED), &DISPLACEMENTS, #n);
                    match OPERATIONS.get(slot) {
                        Some(&name) if name == operation => Some(slot),
                        _ => None,
                    }
                };
                (p.order, body)
            }
            Demux::Linear => (
                (0..keys.len()).collect(),
                quote!(OPERATIONS.iter().position(|&name| name == operation)),
            ),
            Demux::Binary => {
                let mut order: Vec<usize> = (0..keys.len()).collect();
                order.sort_by(|&a, &b| keys[a].cmp(keys[b]));
                (order, quote!(OPERATIONS.binary_search(&operation).ok()))
            }
            Demux::Dynamic => (
                (0..keys.len()).collect(),
                quote! {
                    static MAP: #cg::LazyLock<#cg::HashMap<&'static str, usize>> = #cg::LazyLock::new(|| {
                        OPERATIONS.iter().enumerate().map(|(i, &name)| (name, i)).collect()
                    });
                    MAP.get(operation).copied()
                },
            ),
        })
    }
}

/// `ids` without repeats, first occurrence kept.
pub(super) fn dedup(ids: &[ItemId]) -> Vec<ItemId> {
    let mut seen = HashSet::new();
    ids.iter().copied().filter(|i| seen.insert(*i)).collect()
}
