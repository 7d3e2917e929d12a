//! IDL3 components, homes and eventtypes as their equivalent IDL.
//!
//! The CORBA Component Model defines each IDL3 declaration by the plain IDL it stands for
//! (CCM 4.0, "Equivalent IDL"); clients and servants see only that IDL, so idlc turns each
//! declaration into it here, as syntax, and the resolver and the code generator read the result
//! like any other interface or valuetype. The rules, for a component `C`, a home `H`, an
//! eventtype `E` and a port named `p`:
//!
//! - `component C : B supports I, J {...}` → `interface C : B, I, J` (`::Components::CCMObject`
//!   instead of `B` when there is no base component) holding the component's attributes and, per
//!   port: `provides T p` → `T provide_p()`; `uses T p` → `connect_p`, `disconnect_p`,
//!   `get_connection_p`; `uses multiple T p` → `struct pConnection`, `pConnections`,
//!   `Cookie connect_p(in T)`, `T disconnect_p(in Cookie)`, `get_connections_p()`;
//!   `emits E p` → `connect_p(in EConsumer)`, `disconnect_p()`; `publishes E p` →
//!   `subscribe_p`, `unsubscribe_p`; `consumes E p` → `EConsumer get_consumer_p()`.
//! - `eventtype E : B {...}` → `valuetype E : B` (`::Components::EventBase` without a base) and
//!   `interface EConsumer : BConsumer { void push_E(in E the_E); }`
//!   (`::Components::EventConsumerBase` without a base).
//! - `home H : G supports I manages C primarykey K {...}` → `interface HExplicit : GExplicit, I`
//!   (`::Components::CCMHome` without a base) with the home's body, each `factory` returning `C`
//!   and raising `CreateFailure`, each `finder` returning `C` and raising `FinderFailure`;
//!   `interface HImplicit` with `create`, `find_by_primary_key`, `remove` and `get_primary_key`
//!   (keyed), or `: ::Components::KeylessCCMHome` with `create()` (keyless); and
//!   `interface H : HExplicit, HImplicit {}`.
//!
//! Before expanding, the resolver checks what syntax cannot: an event port names an eventtype, a
//! home manages an interface (a component) and its primary key is a valuetype derived from
//! `Components::PrimaryKeyBase`.
//!
//! The `Components` module they refer to ships with idlc (`idl/Components.idl`) and is added by
//! [`with_components_module`] when a specification needs it and does not define it.

use std::path::PathBuf;

use crate::ast::*;
use crate::lexer::Pragma;
use crate::source::{SourceMap, Span};
use crate::{parser, preprocess, Diagnostic, Diagnostics};

/// The `Components` module the equivalent IDL refers to.
pub const COMPONENTS_IDL: &str = include_str!("../idl/Components.idl");

/// The name the built-in `Components.idl` is known by in messages and item locations (it ends in
/// `Components.idl`, so `--extern Components.idl=PATH` matches it). It is no file on disk, so it
/// is not among the files a build script reruns on.
pub const COMPONENTS_IDL_PATH: &str = "<idlc>/Components.idl";

// ---- building syntax ----

fn ident(name: String, span: Span) -> Ident {
    Ident { name, span }
}

/// `::Components::<name>`.
fn components(name: &str, span: Span) -> ScopedName {
    ScopedName {
        global: true,
        parts: vec![ident("Components".into(), span), ident(name.into(), span)],
        span,
    }
}

fn named(n: ScopedName) -> TypeSpec {
    let span = n.span;
    TypeSpec {
        kind: TypeSpecKind::Named(n),
        span,
    }
}

fn local_name(n: &Ident) -> ScopedName {
    ScopedName {
        global: false,
        parts: vec![n.clone()],
        span: n.span,
    }
}

/// `a::b::E` → `a::b::E<suffix>`: a name declared beside the one given.
fn suffixed(n: &ScopedName, suffix: &str) -> ScopedName {
    let mut out = n.clone();
    if let Some(last) = out.parts.last_mut() {
        last.name = format!("{}{suffix}", last.unescaped());
    }
    out
}

/// The type an eventtype port's `<E>Consumer` interface has.
fn consumer_of(port: &Port) -> TypeSpec {
    match &port.ty.kind {
        TypeSpecKind::Named(n) => named(suffixed(n, "Consumer")),
        // The parser gives event ports a name only; keep the type so the resolver reports it.
        _ => port.ty.clone(),
    }
}

fn param(name: &str, ty: TypeSpec, span: Span) -> Param {
    Param {
        dir: ParamDir::In,
        ty,
        name: ident(name.into(), span),
        span,
    }
}

fn operation(
    name: String,
    result: Option<TypeSpec>,
    params: Vec<Param>,
    raises: Vec<ScopedName>,
    span: Span,
) -> Definition {
    Definition::Operation(Operation {
        oneway: false,
        result,
        name: ident(name, span),
        params,
        raises,
        raises_span: None,
        context: Vec::new(),
        span,
    })
}

fn interface(
    name: String,
    bases: Vec<ScopedName>,
    body: Vec<Definition>,
    span: Span,
) -> Definition {
    Definition::Interface(Interface {
        kind: InterfaceKind::Unconstrained,
        name: ident(name, span),
        bases,
        body,
        span,
    })
}

// ---- the equivalence rules ----

/// `component C;` → `interface C;`.
pub fn component_forward(name: &Ident) -> Vec<Definition> {
    vec![Definition::InterfaceForward(InterfaceForward {
        kind: InterfaceKind::Unconstrained,
        name: name.clone(),
        span: name.span,
    })]
}

/// A component's equivalent interface.
pub fn component(c: &Component) -> Vec<Definition> {
    let mut bases = vec![c
        .base
        .clone()
        .unwrap_or_else(|| components("CCMObject", c.span))];
    bases.extend(c.supports.iter().cloned());
    let mut body = Vec::new();
    for d in &c.body {
        match d {
            Definition::Port(p) => port(p, &mut body),
            other => body.push(other.clone()),
        }
    }
    vec![interface(c.name.name.clone(), bases, body, c.span)]
}

/// The operations (and types) one port stands for.
fn port(p: &Port, out: &mut Vec<Definition>) {
    let n = p.name.unescaped();
    let s = p.span;
    let raises = |names: &[&str]| names.iter().map(|x| components(x, s)).collect::<Vec<_>>();
    let cookie = || named(components("Cookie", s));
    match p.kind {
        PortKind::Provides => out.push(operation(
            format!("provide_{n}"),
            Some(p.ty.clone()),
            vec![],
            vec![],
            s,
        )),
        PortKind::Uses { multiple: false } => {
            out.push(operation(
                format!("connect_{n}"),
                None,
                vec![param("conxn", p.ty.clone(), s)],
                raises(&["AlreadyConnected", "InvalidConnection"]),
                s,
            ));
            out.push(operation(
                format!("disconnect_{n}"),
                Some(p.ty.clone()),
                vec![],
                raises(&["NoConnection"]),
                s,
            ));
            out.push(operation(
                format!("get_connection_{n}"),
                Some(p.ty.clone()),
                vec![],
                vec![],
                s,
            ));
        }
        PortKind::Uses { multiple: true } => {
            let connection = ident(format!("{n}Connection"), s);
            let connections = ident(format!("{n}Connections"), s);
            let member = |name: &str, ty: TypeSpec| Member {
                ty,
                declarators: vec![Declarator {
                    name: ident(name.into(), s),
                    dims: vec![],
                }],
                span: s,
            };
            out.push(Definition::Struct(Struct {
                name: connection.clone(),
                members: vec![member("objref", p.ty.clone()), member("ck", cookie())],
                span: s,
            }));
            out.push(Definition::Typedef(Typedef {
                ty: TypeSpec {
                    kind: TypeSpecKind::Sequence(Box::new(named(local_name(&connection))), None),
                    span: s,
                },
                declarators: vec![Declarator {
                    name: connections.clone(),
                    dims: vec![],
                }],
                span: s,
            }));
            out.push(operation(
                format!("connect_{n}"),
                Some(cookie()),
                vec![param("connection", p.ty.clone(), s)],
                raises(&["ExceededConnectionLimit", "InvalidConnection"]),
                s,
            ));
            out.push(operation(
                format!("disconnect_{n}"),
                Some(p.ty.clone()),
                vec![param("ck", cookie(), s)],
                raises(&["InvalidConnection"]),
                s,
            ));
            out.push(operation(
                format!("get_connections_{n}"),
                Some(named(local_name(&connections))),
                vec![],
                vec![],
                s,
            ));
        }
        PortKind::Emits => {
            out.push(operation(
                format!("connect_{n}"),
                None,
                vec![param("consumer", consumer_of(p), s)],
                raises(&["AlreadyConnected"]),
                s,
            ));
            out.push(operation(
                format!("disconnect_{n}"),
                Some(consumer_of(p)),
                vec![],
                raises(&["NoConnection"]),
                s,
            ));
        }
        PortKind::Publishes => {
            out.push(operation(
                format!("subscribe_{n}"),
                Some(cookie()),
                vec![param("consumer", consumer_of(p), s)],
                raises(&["ExceededConnectionLimit"]),
                s,
            ));
            out.push(operation(
                format!("unsubscribe_{n}"),
                Some(consumer_of(p)),
                vec![param("ck", cookie(), s)],
                raises(&["InvalidConnection"]),
                s,
            ));
        }
        PortKind::Consumes => out.push(operation(
            format!("get_consumer_{n}"),
            Some(consumer_of(p)),
            vec![],
            vec![],
            s,
        )),
    }
}

/// An eventtype's valuetype and its consumer interface.
pub fn event_type(v: &ValueType) -> Vec<Definition> {
    let s = v.span;
    let e = v.name.unescaped();
    let mut value = v.clone();
    if value.bases.is_empty() {
        value.bases.push(components("EventBase", s));
    }
    let consumer_bases = if v.bases.is_empty() {
        vec![components("EventConsumerBase", s)]
    } else {
        v.bases.iter().map(|b| suffixed(b, "Consumer")).collect()
    };
    let push = operation(
        format!("push_{e}"),
        None,
        vec![param(&format!("the_{e}"), named(local_name(&v.name)), s)],
        vec![],
        s,
    );
    vec![
        Definition::ValueType(value),
        interface(format!("{e}Consumer"), consumer_bases, vec![push], s),
    ]
}

/// `eventtype E;` → `valuetype E;` and `interface EConsumer;`.
pub fn event_forward(f: &ValueForward) -> Vec<Definition> {
    vec![
        Definition::ValueForward(f.clone()),
        Definition::InterfaceForward(InterfaceForward {
            kind: InterfaceKind::Unconstrained,
            name: ident(format!("{}Consumer", f.name.unescaped()), f.span),
            span: f.span,
        }),
    ]
}

/// A home's `<H>Explicit`, `<H>Implicit` and `<H>` interfaces.
pub fn home(h: &Home) -> Vec<Definition> {
    let s = h.span;
    let name = h.name.unescaped();
    let component = || named(h.manages.clone());
    let with_first = |first: &str, rest: &[ScopedName]| {
        let mut v = vec![components(first, s)];
        v.extend(rest.iter().cloned());
        v
    };

    let mut explicit_bases = vec![match &h.base {
        Some(b) => suffixed(b, "Explicit"),
        None => components("CCMHome", s),
    }];
    explicit_bases.extend(h.supports.iter().cloned());
    let mut explicit = Vec::new();
    for d in &h.body {
        match d {
            Definition::Factory(f) => explicit.push(operation(
                f.name.name.clone(),
                Some(component()),
                f.params.clone(),
                with_first("CreateFailure", &f.raises),
                f.span,
            )),
            Definition::Finder(f) => explicit.push(operation(
                f.name.name.clone(),
                Some(component()),
                f.params.clone(),
                with_first("FinderFailure", &f.raises),
                f.span,
            )),
            other => explicit.push(other.clone()),
        }
    }

    let implicit = match &h.primary_key {
        Some(key) => {
            let key_ty = || named(key.clone());
            let raises = |names: &[&str]| names.iter().map(|x| components(x, s)).collect();
            interface(
                format!("{name}Implicit"),
                vec![],
                vec![
                    operation(
                        "create".into(),
                        Some(component()),
                        vec![param("key", key_ty(), s)],
                        raises(&["CreateFailure", "DuplicateKeyValue", "InvalidKey"]),
                        s,
                    ),
                    operation(
                        "find_by_primary_key".into(),
                        Some(component()),
                        vec![param("key", key_ty(), s)],
                        raises(&["FinderFailure", "UnknownKeyValue", "InvalidKey"]),
                        s,
                    ),
                    operation(
                        "remove".into(),
                        None,
                        vec![param("key", key_ty(), s)],
                        raises(&["RemoveFailure", "UnknownKeyValue", "InvalidKey"]),
                        s,
                    ),
                    operation(
                        "get_primary_key".into(),
                        Some(key_ty()),
                        vec![param("comp", component(), s)],
                        vec![],
                        s,
                    ),
                ],
                s,
            )
        }
        None => interface(
            format!("{name}Implicit"),
            vec![components("KeylessCCMHome", s)],
            vec![operation(
                "create".into(),
                Some(component()),
                vec![],
                vec![components("CreateFailure", s)],
                s,
            )],
            s,
        ),
    };

    let own = |suffix: &str| ScopedName {
        global: false,
        parts: vec![ident(format!("{name}{suffix}"), s)],
        span: s,
    };
    vec![
        interface(format!("{name}Explicit"), explicit_bases, explicit, s),
        implicit,
        interface(
            h.name.name.clone(),
            vec![own("Explicit"), own("Implicit")],
            vec![],
            s,
        ),
    ]
}

// ---- the Components module ----

/// Whether `defs` declare a component, home or eventtype anywhere.
pub fn uses_ccm(defs: &[Definition]) -> bool {
    defs.iter().any(|d| match d {
        Definition::Component(_)
        | Definition::ComponentForward(_)
        | Definition::Home(_)
        | Definition::EventType(_)
        | Definition::EventForward(_) => true,
        Definition::Module(m) => uses_ccm(&m.definitions),
        _ => false,
    })
}

/// Whether `defs` (a specification's top level, includes inlined) define
/// `::Components::CCMObject`, as an application's own CCM IDL does.
pub fn defines_components(defs: &[Definition]) -> bool {
    defs.iter().any(|d| match d {
        Definition::Module(m) if m.name.unescaped() == "Components" => {
            m.definitions.iter().any(|d| match d {
                Definition::Interface(i) => i.name.unescaped() == "CCMObject",
                Definition::InterfaceForward(i) => i.name.unescaped() == "CCMObject",
                _ => false,
            })
        }
        _ => false,
    })
}

/// Puts the built-in `Components` module ([`COMPONENTS_IDL`]) in front of `spec`, as if it were
/// `#include`d first, when `spec` declares a component, home or eventtype and does not define
/// the module itself.
pub fn with_components_module(
    mut spec: Specification,
    sm: &mut SourceMap,
) -> Result<Specification, Diagnostics> {
    if !uses_ccm(&spec.definitions) || defines_components(&spec.definitions) {
        return Ok(spec);
    }
    let id = sm.add(
        PathBuf::from(COMPONENTS_IDL_PATH),
        COMPONENTS_IDL.to_owned(),
    );
    let tokens = preprocess::preprocess(sm, id, &preprocess::Options::default())
        .map_err(Diagnostics::from)?;
    let builtin = parser::parse(&tokens)
        .map_err(|e| Diagnostics::from(Diagnostic::at(sm, e.span, e.render())))?;
    // Scoped like an included file, so that its `#pragma prefix` ends with it.
    let at = Span::new(id, 1, 1);
    let mut defs = vec![Definition::Pragma(Pragma::EnterFile(id), at)];
    defs.extend(builtin.definitions);
    defs.push(Definition::Pragma(Pragma::LeaveFile, at));
    defs.append(&mut spec.definitions);
    spec.definitions = defs;
    Ok(spec)
}
