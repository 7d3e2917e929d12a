//! The semantic pass: AST to [`Model`].
//!
//! It walks the specification once, in declaration order, entering names into scopes as it goes,
//! so "use before declaration" falls out naturally. Scopes follow CORBA 3.0 §3.15 (and omniidl,
//! whose verdicts the corpus records, where the spec is silent):
//!
//! - names are looked up in the current scope, then inherited interface/valuetype scopes, then
//!   enclosing scopes; a name found through two different bases is ambiguous;
//! - names that differ only in case collide, both in declarations and in look-ups;
//! - an unqualified name used in a scope is "introduced" into it (§3.15.3) and may not then be
//!   redeclared there; inside interfaces and valuetypes the introduction reaches the enclosing
//!   scopes up to the interface;
//! - a scope may not declare its own name; operations and attributes may not be redefined in a
//!   derived interface, nor inherited under one name from two bases.
//!
//! Repository IDs follow omniidl's reading of §10.7.5 (the prefix grows by one scope name per
//! scope entered, is replaced by `#pragma prefix`, and restarts empty in each `#include`d file),
//! with `#pragma version`, `#pragma ID`, `typeid` and `typeprefix` applied on top.
//!
//! Every problem found is reported; the pass never stops at the first error, and never panics.

use std::collections::{HashMap, HashSet};

use crate::ast::{self, Definition, Ident, ScopedName, TypeSpec, TypeSpecKind};
use crate::ccm;
use crate::consteval::{self, Env, EvalError, Target as CTarget, Val};
use crate::diagnostics::{Diagnostic, Location};
use crate::lexer::{Pragma, PragmaName};
use crate::model::*;
use crate::parser::KEYWORDS;
use crate::source::{SourceMap, Span};

/// Resolves a parsed specification. `sm` must hold every file the tokens came from.
pub fn resolve(spec: &ast::Specification, sm: &SourceMap) -> Result<Model, Vec<Diagnostic>> {
    let mut r = Resolver::new(sm);
    let mut later = HashMap::new();
    collect_declared(&spec.definitions, &mut later);
    r.all_decls = later;
    r.sinks.push(Vec::new());
    r.definitions(&spec.definitions);
    r.roots = r.sinks.pop().unwrap_or_default();
    r.finish();
    if r.errors.is_empty() {
        Ok(Model {
            items: r.items,
            roots: r.roots,
            files: sm.paths(),
            warnings: r.warnings,
        })
    } else {
        Err(r.errors)
    }
}

type ScopeId = usize;
const GLOBAL: ScopeId = 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScopeKind {
    Global,
    Module,
    Interface,
    Value,
    Struct,
    Union,
    Exception,
    Operation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Item(ItemId),
    Enumerator(ItemId, u32),
    Builtin(Primitive),
    /// The built-in `CORBA` module before any IDL reopens it.
    BuiltinModule(ScopeId),
    /// Members and parameters: names without a model item.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    Module,
    Decl,
    Callable,
    Inherited,
    Instance,
    Use,
    Parent,
}

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    kind: EntryKind,
    target: Target,
    span: Option<Span>,
    what: &'static str,
}

#[derive(Debug)]
struct Scope {
    parent: Option<ScopeId>,
    /// Whether uses propagate outwards from here (inside interfaces and valuetypes).
    nested_use: bool,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
    bases: Vec<ScopeId>,
    item: Option<ItemId>,
}

struct Repo {
    /// Where the item was (last) declared, for notes.
    span: Span,
    prefix: String,
    version: (u16, u16),
    explicit: Option<(String, Span)>,
    version_set: Option<Span>,
}

#[derive(Debug, Clone, Copy, Default)]
struct TypeCtx {
    in_sequence: bool,
    bare_fixed: bool,
}

struct Resolver<'a> {
    sm: &'a SourceMap,
    items: Vec<Item>,
    repo: Vec<Repo>,
    roots: Vec<ItemId>,
    scopes: Vec<Scope>,
    item_scope: HashMap<ItemId, ScopeId>,
    cur: ScopeId,
    /// omniidl-style prefix stack: (current prefix, frame opened by a file).
    prefixes: Vec<(String, bool)>,
    typeprefix: HashMap<ItemId, String>,
    /// Structs/unions being defined (recursion only through sequences).
    being_defined: HashSet<ItemId>,
    /// Structs/unions declared forward and not yet defined.
    forward_only: HashMap<ItemId, Span>,
    /// Collected items of the innermost container being walked.
    sinks: Vec<Vec<ItemId>>,
    all_decls: HashMap<String, Span>,
    declared: HashSet<String>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

/// Keywords that CORBA 2.3 (objects by value) and 2.4 (`local`) added. An identifier that
/// differs from one only in case is an error by the letter of CORBA 3 §3.2.4, but IDL written
/// before them (the OMG's own CosLifeCycle has `typedef Object Factory;`) uses such names, so
/// they are accepted with a warning; the older keywords (`Long`, `Context`) stay errors.
const OBJECTS_BY_VALUE_KEYWORDS: &[&str] = &[
    "abstract",
    "custom",
    "factory",
    "local",
    "private",
    "public",
    "supports",
    "truncatable",
    "ValueBase",
    "valuetype",
];

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// Names declared anywhere, for "used before its declaration" messages.
fn collect_declared(defs: &[Definition], out: &mut HashMap<String, Span>) {
    let add = |i: &Ident, out: &mut HashMap<String, Span>| {
        out.entry(i.unescaped().to_owned()).or_insert(i.span);
    };
    for d in defs {
        match d {
            Definition::Module(m) => {
                add(&m.name, out);
                collect_declared(&m.definitions, out);
            }
            Definition::Interface(i) => {
                add(&i.name, out);
                collect_declared(&i.body, out);
            }
            Definition::InterfaceForward(f) => add(&f.name, out),
            Definition::ValueType(v) => {
                add(&v.name, out);
                collect_declared(&v.body, out);
            }
            Definition::ValueBox(v) => add(&v.name, out),
            Definition::ValueForward(v) => add(&v.name, out),
            Definition::Const(c) => add(&c.name, out),
            Definition::Typedef(t) => {
                for d in &t.declarators {
                    add(&d.name, out);
                }
            }
            Definition::Struct(s) => add(&s.name, out),
            Definition::Union(u) => add(&u.name, out),
            Definition::Enum(e) => {
                add(&e.name, out);
                for x in &e.enumerators {
                    add(x, out);
                }
            }
            Definition::Native(n) | Definition::StructForward(n) | Definition::UnionForward(n) => {
                add(n, out)
            }
            Definition::Exception(e) => add(&e.name, out),
            Definition::Component(c) => add(&c.name, out),
            Definition::ComponentForward(n) => add(n, out),
            Definition::Home(h) => add(&h.name, out),
            Definition::EventType(v) => add(&v.name, out),
            Definition::EventForward(v) => add(&v.name, out),
            _ => {}
        }
    }
}

fn primitive(b: ast::BaseType) -> Primitive {
    use ast::BaseType as B;
    match b {
        B::Short => Primitive::Short,
        B::Long => Primitive::Long,
        B::LongLong => Primitive::LongLong,
        B::UShort => Primitive::UShort,
        B::ULong => Primitive::ULong,
        B::ULongLong => Primitive::ULongLong,
        B::Float => Primitive::Float,
        B::Double => Primitive::Double,
        B::LongDouble => Primitive::LongDouble,
        B::Char => Primitive::Char,
        B::WChar => Primitive::WChar,
        B::Boolean => Primitive::Boolean,
        B::Octet => Primitive::Octet,
        B::Any => Primitive::Any,
        B::Object => Primitive::Object,
        B::ValueBase => Primitive::ValueBase,
    }
}

fn int_target(p: Primitive) -> Option<CTarget> {
    let (min, max, wide, name): (i128, i128, bool, &'static str) = match p {
        Primitive::Short => (i16::MIN as i128, i16::MAX as i128, false, "short"),
        Primitive::Long => (i32::MIN as i128, i32::MAX as i128, false, "long"),
        Primitive::LongLong => (i64::MIN as i128, i64::MAX as i128, true, "long long"),
        Primitive::UShort => (0, u16::MAX as i128, false, "unsigned short"),
        Primitive::ULong => (0, u32::MAX as i128, false, "unsigned long"),
        Primitive::ULongLong => (0, u64::MAX as i128, true, "unsigned long long"),
        Primitive::Octet => (0, 255, false, "octet"),
        _ => return None,
    };
    Some(CTarget::Int {
        min,
        max,
        wide,
        name,
    })
}

const ULONG: CTarget = CTarget::Int {
    min: 0,
    max: u32::MAX as i128,
    wide: false,
    name: "unsigned long",
};

impl<'a> Resolver<'a> {
    fn new(sm: &'a SourceMap) -> Self {
        let mut r = Resolver {
            sm,
            items: Vec::new(),
            repo: Vec::new(),
            roots: Vec::new(),
            scopes: Vec::new(),
            item_scope: HashMap::new(),
            cur: GLOBAL,
            prefixes: vec![(String::new(), true)],
            typeprefix: HashMap::new(),
            being_defined: HashSet::new(),
            forward_only: HashMap::new(),
            sinks: Vec::new(),
            all_decls: HashMap::new(),
            declared: HashSet::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
        };
        r.new_scope(ScopeKind::Global, None, None);
        // CORBA::TypeCode and CORBA::Principal are built in, as in omniidl and as §3.19 allows.
        let corba = r.new_scope(ScopeKind::Module, Some("CORBA"), None);
        r.push_entry(
            GLOBAL,
            "CORBA",
            EntryKind::Module,
            Target::BuiltinModule(corba),
            None,
            "module",
        );
        r.push_entry(
            corba,
            "TypeCode",
            EntryKind::Decl,
            Target::Builtin(Primitive::TypeCode),
            None,
            "native type",
        );
        r.push_entry(
            corba,
            "Principal",
            EntryKind::Decl,
            Target::Builtin(Primitive::Principal),
            None,
            "native type",
        );
        r
    }

    // ---- diagnostics ----

    fn err(&mut self, span: Span, msg: impl Into<String>) {
        let d = Diagnostic::at(self.sm, span, msg);
        self.errors.push(d);
    }

    fn warn(&mut self, span: Span, msg: impl Into<String>) {
        let d = Diagnostic::warning_at(self.sm, span, msg);
        self.warnings.push(d);
    }

    fn err_note(
        &mut self,
        span: Span,
        msg: impl Into<String>,
        note_at: Option<Span>,
        note: impl Into<String>,
    ) {
        let mut d = Diagnostic::at(self.sm, span, msg);
        d = match note_at {
            Some(s) => d.with_note_at(self.sm, s, note),
            None => d.with_note(format!("{} (built in)", note.into())),
        };
        self.errors.push(d);
    }

    fn location(&self, span: Span) -> Location {
        Location {
            file: self.sm.path(span.file).to_path_buf(),
            line: span.line,
            col: span.col,
        }
    }

    // ---- scopes ----

    fn new_scope(&mut self, kind: ScopeKind, name: Option<&str>, item: Option<ItemId>) -> ScopeId {
        let id = self.scopes.len();
        let parent = if id == 0 { None } else { Some(self.cur) };
        let inherited = parent.is_some_and(|p| self.scopes[p].nested_use);
        self.scopes.push(Scope {
            parent,
            nested_use: inherited || matches!(kind, ScopeKind::Interface | ScopeKind::Value),
            entries: Vec::new(),
            index: HashMap::new(),
            bases: Vec::new(),
            item,
        });
        if let Some(n) = name {
            self.push_entry(id, n, EntryKind::Parent, Target::None, None, "scope");
        }
        if let Some(it) = item {
            self.item_scope.insert(it, id);
        }
        id
    }

    fn push_entry(
        &mut self,
        s: ScopeId,
        name: &str,
        kind: EntryKind,
        target: Target,
        span: Option<Span>,
        what: &'static str,
    ) {
        let scope = &mut self.scopes[s];
        let idx = scope.entries.len();
        scope.entries.push(Entry {
            name: name.to_owned(),
            kind,
            target,
            span,
            what,
        });
        scope.index.entry(lower(name)).or_insert(idx);
    }

    fn local(&self, s: ScopeId, name: &str) -> Option<&Entry> {
        let sc = &self.scopes[s];
        sc.index.get(&lower(name)).and_then(|&i| sc.entries.get(i))
    }

    fn scope_of(&self, t: Target) -> Option<ScopeId> {
        match t {
            Target::Item(id) => self.item_scope.get(&id).copied(),
            Target::BuiltinModule(s) => Some(s),
            _ => None,
        }
    }

    /// Declares `ident` in the current scope; reports every kind of clash. Returns false on error.
    fn declare(
        &mut self,
        ident: &Ident,
        kind: EntryKind,
        target: Target,
        what: &'static str,
    ) -> bool {
        let name = ident.unescaped();
        let lname = lower(name);
        if !ident.name.starts_with('_') {
            if let Some(k) = KEYWORDS.iter().find(|k| lower(k) == lname) {
                if !OBJECTS_BY_VALUE_KEYWORDS.contains(k) {
                    self.err(
                        ident.span,
                        format!("identifier '{name}' collides with keyword '{k}' (identifiers may not differ from a keyword only in case)"),
                    );
                    return false;
                }
                // The lexer has already told them apart (keywords are case-sensitive), and
                // OMG IDL older than these keywords uses such names: CosLifeCycle's `Factory`.
                self.warn(
                    ident.span,
                    format!("identifier '{name}' differs only in case from the keyword '{k}' (added in CORBA 2.3), which IDL since then forbids; accepted for older IDL: write '_{name}' to silence this"),
                );
            }
        }
        if let Some(e) = self.local(self.cur, name).cloned() {
            let same = e.name == name;
            let msg = match e.kind {
                EntryKind::Use => format!(
                    "declaration of {what} '{name}' clashes with the earlier use of '{}' in this scope (a name used in a scope cannot then be declared in it)",
                    e.name
                ),
                EntryKind::Parent => format!("{what} '{name}' has the name of its enclosing scope '{}'", e.name),
                EntryKind::Inherited => format!("{what} '{name}' clashes with inherited {} '{}'", e.what, e.name),
                _ if same => format!("redefinition of '{name}' (already declared as {} '{}' in this scope)", article(e.what), e.name),
                _ => format!("{what} '{name}' clashes with {} '{}' (names that differ only in case collide)", e.what, e.name),
            };
            let note = match e.kind {
                EntryKind::Use => "used here",
                _ => "previously declared here",
            };
            self.err_note(ident.span, msg, e.span, note);
            return false;
        }
        self.push_entry(self.cur, name, kind, target, Some(ident.span), what);
        self.declared.insert(name.to_owned());
        true
    }

    /// Collects the entries `name` reaches in `s` and its bases (deduplicated by what they name).
    fn find_with_inheritance(
        &self,
        s: ScopeId,
        lname: &str,
        out: &mut Vec<Entry>,
        seen: &mut HashSet<ScopeId>,
    ) {
        if !seen.insert(s) {
            return;
        }
        let sc = &self.scopes[s];
        if let Some(e) = sc.index.get(lname).and_then(|&i| sc.entries.get(i)) {
            if !matches!(e.kind, EntryKind::Use | EntryKind::Parent) {
                if !out
                    .iter()
                    .any(|o| o.target == e.target && e.target != Target::None)
                {
                    out.push(e.clone());
                }
                return;
            }
        }
        for &b in &sc.bases {
            self.find_with_inheritance(b, lname, out, seen);
        }
    }

    /// Resolves a scoped name; `use_` records the use (§3.15.3). Errors are reported here.
    fn lookup(&mut self, sn: &ScopedName, use_: bool) -> Option<Entry> {
        let result = self.lookup_inner(sn);
        if use_ {
            self.add_use(sn);
        }
        result
    }

    fn lookup_inner(&mut self, sn: &ScopedName) -> Option<Entry> {
        let mut s = if sn.global { GLOBAL } else { self.cur };
        let mut found: Option<Entry> = None;
        for (k, part) in sn.parts.iter().enumerate() {
            let name = part.unescaped();
            let lname = lower(name);
            let mut hits = Vec::new();
            loop {
                hits.clear();
                self.find_with_inheritance(s, &lname, &mut hits, &mut HashSet::new());
                if !hits.is_empty() || k > 0 {
                    break;
                }
                match self.scopes[s].parent {
                    Some(p) => s = p,
                    None => break,
                }
            }
            if hits.len() > 1 {
                let mut d = Diagnostic::at(
                    self.sm,
                    part.span,
                    format!("ambiguous name '{sn}': '{name}' is inherited from more than one base"),
                );
                for h in &hits {
                    if let Some(sp) = h.span {
                        d = d.with_note_at(
                            self.sm,
                            sp,
                            format!("one candidate is this {}", h.what),
                        );
                    }
                }
                self.errors.push(d);
                return None;
            }
            let Some(e) = hits.pop() else {
                if k == 0 && !self.declared.contains(name) {
                    if let Some(&later) = self.all_decls.get(name) {
                        self.err_note(
                            part.span,
                            format!("'{name}' is used before its declaration"),
                            Some(later),
                            "declared here",
                        );
                        return None;
                    }
                }
                let msg = if k == 0 {
                    format!("cannot find '{name}' in this scope")
                } else {
                    let prefix: Vec<&str> = sn.parts[..k].iter().map(|p| p.name.as_str()).collect();
                    format!("cannot find '{name}' in '{}'", prefix.join("::"))
                };
                self.err(part.span, msg);
                return None;
            };
            if e.name != name {
                self.err_note(
                    part.span,
                    format!(
                        "'{name}' differs only in case from the {} '{}' it refers to",
                        e.what, e.name
                    ),
                    e.span,
                    "declared here",
                );
                return None;
            }
            if k + 1 < sn.parts.len() {
                match self.scope_of(e.target) {
                    Some(sc) => s = sc,
                    None => {
                        self.err(
                            part.span,
                            format!("'{name}' is {} and does not form a scope", article(e.what)),
                        );
                        return None;
                    }
                }
            }
            found = Some(e);
        }
        found
    }

    /// Records that the first component of `sn` is used in the current scope (§3.15.3).
    fn add_use(&mut self, sn: &ScopedName) {
        if sn.global {
            return;
        }
        let Some(first) = sn.parts.first() else {
            return;
        };
        let name = first.unescaped().to_owned();
        let mut s = self.cur;
        loop {
            if let Some(e) = self.local(s, &name).cloned() {
                if e.name != name && e.kind != EntryKind::Use {
                    self.err_note(
                        first.span,
                        format!("use of '{name}' clashes with the {} '{}' (names that differ only in case collide)", e.what, e.name),
                        e.span,
                        "declared here",
                    );
                }
                return;
            }
            self.push_entry(
                s,
                &name,
                EntryKind::Use,
                Target::None,
                Some(first.span),
                "use",
            );
            match self.scopes[s].parent {
                Some(p) if self.scopes[p].nested_use => s = p,
                _ => return,
            }
        }
    }

    // ---- items and repository IDs ----

    fn new_item(&mut self, ident: &Ident, kind: ItemKind) -> ItemId {
        let parent = self.scopes[self.cur].item;
        let mut scoped_name = parent
            .map(|p| self.items[p.0].scoped_name.clone())
            .unwrap_or_default();
        scoped_name.push(ident.unescaped().to_owned());
        let id = ItemId(self.items.len());
        self.items.push(Item {
            name: ident.unescaped().to_owned(),
            scoped_name,
            repository_id: String::new(),
            location: self.location(ident.span),
            parent,
            kind,
        });
        self.repo.push(Repo {
            span: ident.span,
            prefix: self.prefix(),
            version: (1, 0),
            explicit: None,
            version_set: None,
        });
        if let Some(s) = self.sinks.last_mut() {
            s.push(id);
        }
        id
    }

    fn prefix(&self) -> String {
        self.prefixes
            .last()
            .map(|p| p.0.clone())
            .unwrap_or_default()
    }

    fn enter_prefix(&mut self, name: &str) {
        let cur = self.prefix();
        let p = if cur.is_empty() {
            name.to_owned()
        } else {
            format!("{cur}/{name}")
        };
        self.prefixes.push((p, false));
    }

    fn leave_prefix(&mut self) {
        // A file boundary inside a declaration leaves file frames behind; drop them with the scope.
        while self.prefixes.len() > 1 {
            if let Some((_, is_file)) = self.prefixes.pop() {
                if !is_file {
                    break;
                }
            }
        }
    }

    fn pragma(&mut self, p: &Pragma, span: Span) {
        match p {
            Pragma::Prefix(s) => {
                if let Some(top) = self.prefixes.last_mut() {
                    top.0 = s.clone();
                }
            }
            Pragma::EnterFile(_) => self.prefixes.push((String::new(), true)),
            Pragma::LeaveFile => {
                if self.prefixes.len() > 1 && self.prefixes.last().is_some_and(|p| p.1) {
                    self.prefixes.pop();
                }
            }
            Pragma::Id { name, id } => {
                if let Some(item) = self.pragma_target(name, "repository ID") {
                    self.set_repo_id(item, id, name.span);
                }
            }
            Pragma::Version { name, major, minor } => {
                if let Some(item) = self.pragma_target(name, "version") {
                    self.set_version(item, (*major, *minor), name.span);
                }
            }
            Pragma::Other(_) => {}
        }
        let _ = span;
    }

    fn pragma_target(&mut self, name: &PragmaName, what: &str) -> Option<ItemId> {
        let sn = ScopedName {
            global: name.global,
            parts: name
                .parts
                .iter()
                .map(|p| Ident {
                    name: p.clone(),
                    span: name.span,
                })
                .collect(),
            span: name.span,
        };
        self.repo_target(&sn, what)
    }

    fn repo_target(&mut self, sn: &ScopedName, what: &str) -> Option<ItemId> {
        let e = self.lookup(sn, false)?;
        match e.target {
            Target::Item(id) => Some(id),
            _ => {
                self.err(
                    sn.span,
                    format!(
                        "cannot set the {what} of '{sn}', which is {}",
                        article(e.what)
                    ),
                );
                None
            }
        }
    }

    fn set_repo_id(&mut self, item: ItemId, id: &str, span: Span) {
        let r = &self.repo[item.0];
        if let Some((prev, at)) = &r.explicit {
            if prev != id {
                let (prev, at) = (prev.clone(), *at);
                self.err_note(
                    span,
                    format!(
                        "repository ID of '{}' set again, to a different value '{id}'",
                        self.items[item.0].name
                    ),
                    Some(at),
                    format!("previously set to '{prev}' here"),
                );
            }
            return;
        }
        if !id.contains(':') {
            self.err(
                span,
                format!("'{id}' is not a repository ID (expected FORMAT:body, e.g. IDL:M/X:1.0)"),
            );
            return;
        }
        if let Some(vs) = r.version_set {
            let (maj, min) = r.version;
            if idl_version(id) != Some((maj, min)) {
                self.err_note(span, format!("repository ID '{id}' contradicts the version {maj}.{min} set by #pragma version"), Some(vs), "version set here");
                return;
            }
        }
        self.repo[item.0].explicit = Some((id.to_owned(), span));
    }

    fn set_version(&mut self, item: ItemId, v: (u16, u16), span: Span) {
        let r = &self.repo[item.0];
        if let Some((id, at)) = &r.explicit {
            if idl_version(id) != Some(v) {
                let (id, at) = (id.clone(), *at);
                self.err_note(
                    span,
                    format!(
                        "cannot set version {}.{} of '{}': its repository ID is '{id}'",
                        v.0, v.1, self.items[item.0].name
                    ),
                    Some(at),
                    "repository ID set here",
                );
            }
            return;
        }
        if let Some(prev) = r.version_set {
            if r.version != v {
                let (a, b) = r.version;
                self.err_note(
                    span,
                    format!(
                        "version of '{}' set again, to {}.{} (was {a}.{b})",
                        self.items[item.0].name, v.0, v.1
                    ),
                    Some(prev),
                    "previously set here",
                );
            }
            return;
        }
        let r = &mut self.repo[item.0];
        r.version = v;
        r.version_set = Some(span);
    }

    fn finish(&mut self) {
        for (&id, &span) in &self.forward_only.clone() {
            let it = &self.items[id.0];
            let msg = format!(
                "{} '{}' is declared forward but never defined",
                it.kind.describe(),
                it.name
            );
            self.err(span, msg);
        }
        for i in 0..self.items.len() {
            let r = &self.repo[i];
            let (maj, min) = r.version;
            let id = if let Some((id, _)) = &r.explicit {
                id.clone()
            } else if let Some(tp) = self.typeprefix_for(ItemId(i)) {
                format!(
                    "IDL:{tp}/{}:{maj}.{min}",
                    self.items[i].scoped_name.join("/")
                )
            } else {
                let sep = if r.prefix.is_empty() { "" } else { "/" };
                format!("IDL:{}{sep}{}:{maj}.{min}", r.prefix, self.items[i].name)
            };
            self.items[i].repository_id = id;
        }
    }

    fn typeprefix_for(&self, mut id: ItemId) -> Option<String> {
        for _ in 0..=self.items.len() {
            if let Some(p) = self.typeprefix.get(&id) {
                return Some(p.clone());
            }
            id = self.items[id.0].parent?;
        }
        None
    }

    // ---- walking ----

    fn definitions(&mut self, defs: &[Definition]) {
        for d in defs {
            self.definition(d);
        }
    }

    fn definition(&mut self, d: &Definition) {
        match d {
            Definition::Module(m) => self.module(m),
            Definition::Interface(i) => self.interface(i),
            Definition::InterfaceForward(f) => self.interface_forward(f),
            Definition::ValueType(v) => self.value_type(v),
            Definition::ValueBox(b) => self.value_box(b),
            Definition::ValueForward(f) => self.value_forward(f),
            Definition::Const(c) => self.constant(c),
            Definition::Typedef(t) => self.typedef(t),
            Definition::Struct(s) => {
                self.structure(s);
            }
            Definition::Union(u) => {
                self.union(u);
            }
            Definition::Enum(e) => {
                self.enumeration(e);
            }
            Definition::Native(n) => {
                let id = self.new_item(n, ItemKind::Native);
                self.declare(n, EntryKind::Decl, Target::Item(id), "native type");
            }
            Definition::StructForward(n) => self.forward_constr(n, true),
            Definition::UnionForward(n) => self.forward_constr(n, false),
            Definition::Exception(e) => self.exception(e),
            Definition::TypeId { name, id, span } => {
                if let Some(item) = self.repo_target(name, "repository ID") {
                    self.set_repo_id(item, id, *span);
                }
            }
            Definition::TypePrefix { name, prefix, .. } => {
                if let Some(item) = self.repo_target(name, "type prefix") {
                    match self.items[item.0].kind {
                        ItemKind::Module(_)
                        | ItemKind::Interface(_)
                        | ItemKind::ValueType(_)
                        | ItemKind::Struct(_)
                        | ItemKind::Union(_)
                        | ItemKind::Exception(_) => {
                            self.typeprefix.insert(item, prefix.clone());
                        }
                        _ => {
                            let what = self.items[item.0].kind.describe();
                            self.err(name.span, format!("typeprefix needs a module, interface, valuetype, struct, union or exception; '{name}' is {}", article(what)));
                        }
                    }
                }
            }
            // `import` makes an already-compiled scope visible; idlc compiles from source only,
            // so an import adds nothing and names it would have provided are reported as missing.
            Definition::Import { .. } => {}
            Definition::Operation(o) => self.operation(o),
            Definition::Attribute(a) => self.attribute(a),
            Definition::StateMember(s) => self.state_member(s),
            Definition::Factory(f) => self.factory(f),
            Definition::Pragma(p, span) => self.pragma(p, *span),
            // IDL3: what the declaration stands for (see `ccm`).
            Definition::Component(c) => {
                if self.event_ports_name_eventtypes(c) {
                    self.definitions(&ccm::component(c))
                }
            }
            Definition::ComponentForward(n) => self.definitions(&ccm::component_forward(n)),
            Definition::Home(h) => {
                if self.home_manages_a_component_by_a_key(h) {
                    self.definitions(&ccm::home(h))
                }
            }
            Definition::EventType(v) => self.definitions(&ccm::event_type(v)),
            Definition::EventForward(f) => self.definitions(&ccm::event_forward(f)),
            // The parser puts ports only in component bodies and finders only in home bodies,
            // which the equivalent IDL above replaces.
            Definition::Port(p) => self.err(p.span, "a port can only be declared in a component"),
            Definition::Finder(f) => self.err(f.span, "a finder can only be declared in a home"),
        }
    }

    /// Checks that each event port of `c` names a valuetype (an eventtype), before its
    /// equivalent IDL refers to the `<E>Consumer` interface beside it: a mistyped eventtype is
    /// then reported as itself, not as a missing consumer interface.
    fn event_ports_name_eventtypes(&mut self, c: &ast::Component) -> bool {
        let mut ok = true;
        for d in &c.body {
            let Definition::Port(p) = d else { continue };
            if matches!(p.kind, ast::PortKind::Provides | ast::PortKind::Uses { .. }) {
                continue;
            }
            let TypeSpecKind::Named(n) = &p.ty.kind else {
                continue;
            };
            match self.lookup(n, false).map(|e| e.target) {
                Some(Target::Item(id))
                    if matches!(self.items[id.0].kind, ItemKind::ValueType(_)) => {}
                Some(_) => {
                    self.err(n.span, format!("'{n}' is not an eventtype (a port that emits, publishes or consumes events needs one)"));
                    ok = false;
                }
                None => ok = false,
            }
        }
        ok
    }

    /// Checks that a home manages an interface (a component's equivalent) and that its primary
    /// key, if any, is a valuetype derived from `Components::PrimaryKeyBase`, as CCM requires.
    fn home_manages_a_component_by_a_key(&mut self, h: &ast::Home) -> bool {
        let mut ok = match self.lookup(&h.manages, false).map(|e| e.target) {
            Some(Target::Item(id)) if matches!(self.items[id.0].kind, ItemKind::Interface(_)) => {
                true
            }
            Some(_) => {
                let n = &h.manages;
                self.err(
                    n.span,
                    format!("'{n}' is not a component (a home manages a component)"),
                );
                false
            }
            None => false,
        };
        if let Some(key) = &h.primary_key {
            match self.lookup(key, false).map(|e| e.target) {
                Some(Target::Item(id)) if self.derives_from_primary_key_base(id) => {}
                Some(_) => {
                    self.err(
                        key.span,
                        format!("primary key '{key}' is not a valuetype derived from Components::PrimaryKeyBase"),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        ok
    }

    /// Whether `id` is a valuetype with `Components::PrimaryKeyBase` among its ancestors.
    fn derives_from_primary_key_base(&self, id: ItemId) -> bool {
        let mut todo = vec![id];
        let mut seen = HashSet::new();
        while let Some(v) = todo.pop() {
            if !seen.insert(v) {
                continue;
            }
            if let ItemKind::ValueType(value) = &self.items[v.0].kind {
                if v != id && self.items[v.0].scoped_name == ["Components", "PrimaryKeyBase"] {
                    return true;
                }
                todo.extend(value.bases.iter().copied());
            }
        }
        false
    }

    /// Walks a scope body: enters `scope`, collects the items it creates.
    fn in_scope<F: FnOnce(&mut Self)>(
        &mut self,
        scope: ScopeId,
        prefix_name: &str,
        f: F,
    ) -> Vec<ItemId> {
        let saved = self.cur;
        self.cur = scope;
        self.enter_prefix(prefix_name);
        self.sinks.push(Vec::new());
        f(self);
        let contents = self.sinks.pop().unwrap_or_default();
        self.leave_prefix();
        self.cur = saved;
        contents
    }

    fn module(&mut self, m: &ast::Module) {
        let name = m.name.unescaped();
        let existing = self.local(self.cur, name).cloned();
        let (item, scope) = match existing {
            Some(Entry {
                kind: EntryKind::Module,
                target,
                name: ref n,
                ..
            }) if n == name => match target {
                Target::Item(id) => match self.item_scope.get(&id) {
                    Some(&s) => {
                        // Reopening: a module that had a prefix at first opening keeps its ID.
                        (id, s)
                    }
                    None => return,
                },
                Target::BuiltinModule(s) => {
                    let id = self.new_item(&m.name, ItemKind::Module(Module::default()));
                    self.item_scope.insert(id, s);
                    self.scopes[s].item = Some(id);
                    if let Some(e) = self.scopes[self.cur].index.get(&lower(name)).copied() {
                        self.scopes[self.cur].entries[e].target = Target::Item(id);
                        self.scopes[self.cur].entries[e].span = Some(m.name.span);
                    }
                    (id, s)
                }
                _ => return,
            },
            _ => {
                let id = self.new_item(&m.name, ItemKind::Module(Module::default()));
                self.declare(&m.name, EntryKind::Module, Target::Item(id), "module");
                let s = self.new_scope(ScopeKind::Module, Some(name), Some(id));
                (id, s)
            }
        };
        let contents = self.in_scope(scope, name, |r| r.definitions(&m.definitions));
        if let ItemKind::Module(md) = &mut self.items[item.0].kind {
            md.contents.extend(contents);
        }
    }

    /// Finds a forward declaration of the same kind that `ident` completes.
    fn forward_of(&self, ident: &Ident, pred: fn(&ItemKind) -> bool) -> Option<ItemId> {
        match self.local(self.cur, ident.unescaped()) {
            Some(Entry {
                kind: EntryKind::Decl,
                target: Target::Item(id),
                name,
                ..
            }) if name == ident.unescaped() && pred(&self.items[id.0].kind) => Some(*id),
            _ => None,
        }
    }

    fn interface_forward(&mut self, f: &ast::InterfaceForward) {
        if let Some(id) = self.forward_of(&f.name, |k| matches!(k, ItemKind::Interface(_))) {
            self.check_interface_kind(id, f.kind, f.name.span);
            return;
        }
        let id = self.new_item(
            &f.name,
            ItemKind::Interface(Interface {
                kind: iface_kind(f.kind),
                defined: false,
                bases: Vec::new(),
                contents: Vec::new(),
            }),
        );
        self.declare(&f.name, EntryKind::Decl, Target::Item(id), "interface");
    }

    fn check_interface_kind(&mut self, id: ItemId, kind: ast::InterfaceKind, span: Span) {
        if let ItemKind::Interface(i) = &self.items[id.0].kind {
            if i.kind != iface_kind(kind) {
                self.err(
                    span,
                    format!(
                        "interface '{}' was declared {} before",
                        self.items[id.0].name,
                        kind_word(i.kind)
                    ),
                );
            }
        }
    }

    fn interface(&mut self, i: &ast::Interface) {
        let id = match self.forward_of(&i.name, |k| matches!(k, ItemKind::Interface(_))) {
            Some(id) => {
                if matches!(&self.items[id.0].kind, ItemKind::Interface(x) if x.defined) {
                    self.err_note(
                        i.name.span,
                        format!("redefinition of interface '{}'", i.name.unescaped()),
                        Some(self.repo[id.0].span),
                        "previously defined here",
                    );
                    return;
                }
                self.check_interface_kind(id, i.kind, i.name.span);
                // The definition decides the repository ID prefix.
                self.repo[id.0].prefix = self.prefix();
                self.repo[id.0].span = i.name.span;
                self.items[id.0].location = self.location(i.name.span);
                id
            }
            None => {
                let id = self.new_item(
                    &i.name,
                    ItemKind::Interface(Interface {
                        kind: iface_kind(i.kind),
                        defined: false,
                        bases: Vec::new(),
                        contents: Vec::new(),
                    }),
                );
                self.declare(&i.name, EntryKind::Decl, Target::Item(id), "interface");
                id
            }
        };
        let mut bases = Vec::new();
        for b in &i.bases {
            let Some(e) = self.lookup(b, true) else {
                continue;
            };
            let Target::Item(bid) = e.target else {
                self.err(b.span, format!("'{b}' is not an interface"));
                continue;
            };
            let bid = self.through_typedefs(bid);
            let ItemKind::Interface(bi) = &self.items[bid.0].kind else {
                let what = self.items[bid.0].kind.describe();
                self.err(
                    b.span,
                    format!(
                        "an interface can only inherit from interfaces; '{b}' is {}",
                        article(what)
                    ),
                );
                continue;
            };
            if bid == id {
                self.err(
                    b.span,
                    format!(
                        "interface '{}' cannot inherit from itself",
                        i.name.unescaped()
                    ),
                );
                continue;
            }
            if !bi.defined {
                self.err(b.span, format!("interface '{b}' is only forward-declared; it must be defined before it is inherited from"));
                continue;
            }
            let bkind = bi.kind;
            if bases.contains(&bid) {
                self.err(b.span, format!("interface '{b}' is inherited from twice"));
                continue;
            }
            match (i.kind, bkind) {
                (ast::InterfaceKind::Abstract, k) if k != InterfaceKind::Abstract => {
                    self.err(b.span, format!("abstract interface '{}' can only inherit from abstract interfaces; '{b}' is not abstract", i.name.unescaped()));
                    continue;
                }
                (ast::InterfaceKind::Unconstrained, InterfaceKind::Local) => {
                    self.err(b.span, format!("interface '{}' is not local and cannot inherit from local interface '{b}'", i.name.unescaped()));
                    continue;
                }
                _ => {}
            }
            bases.push(bid);
        }
        let scope = self.new_scope(ScopeKind::Interface, Some(i.name.unescaped()), Some(id));
        self.inherit(scope, &bases, i.name.span);
        if let ItemKind::Interface(x) = &mut self.items[id.0].kind {
            x.bases = bases;
            // Defined from here on, so the body may refer to the interface (and a later
            // `interface X : ThisOne` is legal).
            x.defined = true;
        }
        let contents = self.in_scope(scope, i.name.unescaped(), |r| r.definitions(&i.body));
        if let ItemKind::Interface(x) = &mut self.items[id.0].kind {
            x.contents = contents;
        }
    }

    /// Sets a scope's bases and copies in their operations and attributes, reporting clashes
    /// between identically named ones inherited from different interfaces (§3.8.5).
    fn inherit(&mut self, scope: ScopeId, bases: &[ItemId], span: Span) {
        let base_scopes: Vec<ScopeId> = bases
            .iter()
            .filter_map(|b| self.item_scope.get(b).copied())
            .collect();
        self.scopes[scope].bases = base_scopes.clone();
        for bs in base_scopes {
            let entries: Vec<Entry> = self.scopes[bs]
                .entries
                .iter()
                .filter(|e| matches!(e.kind, EntryKind::Callable | EntryKind::Inherited))
                .cloned()
                .collect();
            for e in entries {
                match self.local(scope, &e.name).cloned() {
                    Some(prev) if prev.kind == EntryKind::Inherited => {
                        if prev.target != e.target {
                            let mut d = Diagnostic::at(
                                self.sm,
                                span,
                                format!(
                                    "{} '{}' is inherited from two different bases",
                                    e.what, e.name
                                ),
                            );
                            for s in [prev.span, e.span].into_iter().flatten() {
                                d = d.with_note_at(self.sm, s, "declared here");
                            }
                            self.errors.push(d);
                        }
                    }
                    Some(_) => {}
                    None => self.push_entry(
                        scope,
                        &e.name,
                        EntryKind::Inherited,
                        e.target,
                        e.span,
                        e.what,
                    ),
                }
            }
        }
    }

    fn value_forward(&mut self, f: &ast::ValueForward) {
        if self
            .forward_of(&f.name, |k| matches!(k, ItemKind::ValueType(_)))
            .is_some()
        {
            return;
        }
        let id = self.new_item(
            &f.name,
            ItemKind::ValueType(ValueType {
                kind: if f.abstract_ {
                    ValueKind::Abstract
                } else {
                    ValueKind::Concrete
                },
                defined: false,
                truncatable: false,
                bases: Vec::new(),
                supports: Vec::new(),
                contents: Vec::new(),
            }),
        );
        self.declare(&f.name, EntryKind::Decl, Target::Item(id), "valuetype");
    }

    fn value_type(&mut self, v: &ast::ValueType) {
        let kind = match v.kind {
            ast::ValueKind::Concrete => ValueKind::Concrete,
            ast::ValueKind::Abstract => ValueKind::Abstract,
            ast::ValueKind::Custom => ValueKind::Custom,
        };
        let id = match self.forward_of(&v.name, |k| matches!(k, ItemKind::ValueType(_))) {
            Some(id) => {
                if matches!(&self.items[id.0].kind, ItemKind::ValueType(x) if x.defined) {
                    self.err(
                        v.name.span,
                        format!("redefinition of valuetype '{}'", v.name.unescaped()),
                    );
                    return;
                }
                self.repo[id.0].prefix = self.prefix();
                id
            }
            None => {
                let id = self.new_item(
                    &v.name,
                    ItemKind::ValueType(ValueType {
                        kind,
                        defined: false,
                        truncatable: v.truncatable,
                        bases: Vec::new(),
                        supports: Vec::new(),
                        contents: Vec::new(),
                    }),
                );
                self.declare(&v.name, EntryKind::Decl, Target::Item(id), "valuetype");
                id
            }
        };
        let mut bases = Vec::new();
        for (n, b) in v.bases.iter().enumerate() {
            let Some(e) = self.lookup(b, true) else {
                continue;
            };
            let bv = match e.target {
                Target::Item(bid) => {
                    let bid = self.through_typedefs(bid);
                    match &self.items[bid.0].kind {
                        ItemKind::ValueType(bv) => Some((bid, bv.kind, bv.defined)),
                        _ => None,
                    }
                }
                _ => None,
            };
            let Some((bid, bkind, defined)) = bv else {
                self.err(
                    b.span,
                    format!(
                        "a valuetype can only inherit from valuetypes; '{b}' is {}",
                        article(e.what)
                    ),
                );
                continue;
            };
            if bid == id {
                self.err(
                    b.span,
                    format!(
                        "valuetype '{}' cannot inherit from itself",
                        v.name.unescaped()
                    ),
                );
            } else if !defined {
                self.err(b.span, format!("valuetype '{b}' is only forward-declared; it must be defined before it is inherited from"));
            } else if kind == ValueKind::Abstract && bkind != ValueKind::Abstract {
                self.err(
                    b.span,
                    format!(
                        "abstract valuetype '{}' can only inherit from abstract valuetypes",
                        v.name.unescaped()
                    ),
                );
            } else if n > 0 && bkind != ValueKind::Abstract {
                self.err(
                    b.span,
                    format!(
                        "only the first base of a valuetype may be stateful; '{b}' is not abstract"
                    ),
                );
            } else {
                bases.push(bid);
            }
        }
        let mut supports = Vec::new();
        for s in &v.supports {
            let Some(e) = self.lookup(s, true) else {
                continue;
            };
            match e.target {
                Target::Item(sid) if matches!(&self.items[sid.0].kind, ItemKind::Interface(i) if i.defined) => {
                    supports.push(sid)
                }
                Target::Item(sid) if matches!(&self.items[sid.0].kind, ItemKind::Interface(_)) => {
                    self.err(
                        s.span,
                        format!("interface '{s}' must be defined before a valuetype supports it"),
                    )
                }
                _ => self.err(
                    s.span,
                    format!(
                        "a valuetype can only support interfaces; '{s}' is {}",
                        article(e.what)
                    ),
                ),
            }
        }
        let scope = self.new_scope(ScopeKind::Value, Some(v.name.unescaped()), Some(id));
        let mut all = bases.clone();
        all.extend(&supports);
        self.inherit(scope, &all, v.name.span);
        if let ItemKind::ValueType(x) = &mut self.items[id.0].kind {
            x.kind = kind;
            x.truncatable = v.truncatable;
            x.bases = bases;
            x.supports = supports;
            x.defined = true;
        }
        let contents = self.in_scope(scope, v.name.unescaped(), |r| r.definitions(&v.body));
        if let ItemKind::ValueType(x) = &mut self.items[id.0].kind {
            x.contents = contents;
        }
    }

    fn value_box(&mut self, b: &ast::ValueBox) {
        let ty = self.resolve_type(&b.ty, TypeCtx::default());
        if let Some(t) = &ty {
            let boxed_value = matches!(self.unalias(t), TypeRef::Named(id) if matches!(self.items[id.0].kind, ItemKind::ValueType(_) | ItemKind::ValueBox(_)));
            if boxed_value {
                self.err(b.ty.span, "a value box cannot box a valuetype");
            }
        }
        let id = self.new_item(
            &b.name,
            ItemKind::ValueBox(ValueBox {
                ty: ty.unwrap_or(TypeRef::Primitive(Primitive::Long)),
            }),
        );
        self.declare(&b.name, EntryKind::Decl, Target::Item(id), "value box");
    }

    fn state_member(&mut self, s: &ast::StateMember) {
        let Some(ty) = self.resolve_type(&s.ty, TypeCtx::default()) else {
            return;
        };
        for d in &s.declarators {
            let t = self.with_dims(ty.clone(), d);
            let id = self.new_item(
                &d.name,
                ItemKind::StateMember(StateMember {
                    public: s.public,
                    ty: t,
                }),
            );
            self.declare(
                &d.name,
                EntryKind::Instance,
                Target::Item(id),
                "state member",
            );
        }
    }

    fn factory(&mut self, f: &ast::Factory) {
        let id = self.new_item(
            &f.name,
            ItemKind::Factory(Factory {
                params: Vec::new(),
                raises: Vec::new(),
            }),
        );
        // Initializers are not inherited (CORBA 3.0 §3.9.1.4), so a derived valuetype may
        // declare a factory of the same name: enter it as a plain declaration.
        self.declare(&f.name, EntryKind::Decl, Target::Item(id), "factory");
        let (params, raises) = self.params_and_raises(&f.params, &f.raises);
        if let ItemKind::Factory(x) = &mut self.items[id.0].kind {
            x.params = params;
            x.raises = raises;
        }
    }

    /// Parameters live in an unnamed operation scope, so they may reuse the operation's name.
    fn params_and_raises(
        &mut self,
        params: &[ast::Param],
        raises: &[ScopedName],
    ) -> (Vec<Param>, Vec<ItemId>) {
        let saved = self.cur;
        let owner = self.unconstrained_interface();
        self.cur = self.new_scope(ScopeKind::Operation, None, None);
        let mut out = Vec::new();
        for p in params {
            let ty = self.resolve_type(&p.ty, TypeCtx::default());
            self.declare(&p.name, EntryKind::Instance, Target::None, "parameter");
            if let (Some(owner), Some(ty)) = (owner, &ty) {
                let what = format!("parameter '{}'", p.name.unescaped());
                self.forbid_local_type(owner, ty, p.ty.span, &what);
            }
            if let Some(ty) = ty {
                out.push(Param {
                    name: p.name.unescaped().to_owned(),
                    dir: match p.dir {
                        ast::ParamDir::In => ParamDir::In,
                        ast::ParamDir::Out => ParamDir::Out,
                        ast::ParamDir::InOut => ParamDir::InOut,
                    },
                    ty,
                });
            }
        }
        let raises = self.exceptions(raises);
        self.cur = saved;
        (out, raises)
    }

    fn exceptions(&mut self, names: &[ScopedName]) -> Vec<ItemId> {
        let mut out = Vec::new();
        for n in names {
            let Some(e) = self.lookup(n, true) else {
                continue;
            };
            match e.target {
                Target::Item(id) if matches!(self.items[id.0].kind, ItemKind::Exception(_)) => {
                    if out.contains(&id) {
                        // The list is a set: omniidl accepts a repeat silently, and so does
                        // IDL in the wild; a repeat is most likely a slip worth seeing.
                        self.warn(
                            n.span,
                            format!("exception '{n}' is listed twice; the repeat is ignored"),
                        );
                    } else {
                        out.push(id);
                    }
                }
                _ => self.err(
                    n.span,
                    format!(
                        "only exceptions can be raised; '{n}' is {}",
                        article(e.what)
                    ),
                ),
            }
        }
        out
    }

    fn operation(&mut self, o: &ast::Operation) {
        let result = match &o.result {
            Some(t) => self.resolve_type(t, TypeCtx::default()),
            None => None,
        };
        let id = self.new_item(
            &o.name,
            ItemKind::Operation(Operation {
                oneway: o.oneway,
                result: result.clone(),
                params: Vec::new(),
                raises: Vec::new(),
                context: o.context.clone(),
            }),
        );
        self.declare(&o.name, EntryKind::Callable, Target::Item(id), "operation");
        if let (Some(owner), Some(ty), Some(t)) =
            (self.unconstrained_interface(), &result, &o.result)
        {
            let what = format!("operation '{}' result", o.name.unescaped());
            self.forbid_local_type(owner, ty, t.span, &what);
        }
        let (params, raises) = self.params_and_raises(&o.params, &o.raises);
        if o.oneway {
            let name = o.name.unescaped();
            if let Some(t) = &o.result {
                self.err(
                    t.span,
                    format!("oneway operation '{name}' must return void"),
                );
            }
            for p in &o.params {
                if p.dir != ast::ParamDir::In {
                    let dir = if p.dir == ast::ParamDir::Out {
                        "out"
                    } else {
                        "inout"
                    };
                    self.err(
                        p.span,
                        format!(
                            "oneway operation '{name}' cannot have {dir} parameter '{}'",
                            p.name.unescaped()
                        ),
                    );
                }
            }
            if let Some(s) = o.raises_span {
                self.err(
                    s,
                    format!("oneway operation '{name}' cannot raise exceptions"),
                );
            }
        }
        if let ItemKind::Operation(x) = &mut self.items[id.0].kind {
            x.params = params;
            x.raises = raises;
        }
    }

    fn attribute(&mut self, a: &ast::Attribute) {
        let ty = self.resolve_type(&a.ty, TypeCtx::default());
        if let (Some(owner), Some(t), Some(n)) =
            (self.unconstrained_interface(), &ty, a.names.first())
        {
            let what = format!("attribute '{}'", n.unescaped());
            self.forbid_local_type(owner, t, a.ty.span, &what);
        }
        let get_raises = self.exceptions(&a.get_raises);
        let set_raises = self.exceptions(&a.set_raises);
        for n in &a.names {
            let id = self.new_item(
                n,
                ItemKind::Attribute(Attribute {
                    readonly: a.readonly,
                    ty: ty.clone().unwrap_or(TypeRef::Primitive(Primitive::Long)),
                    get_raises: get_raises.clone(),
                    set_raises: set_raises.clone(),
                }),
            );
            self.declare(n, EntryKind::Callable, Target::Item(id), "attribute");
        }
    }

    fn constant(&mut self, c: &ast::Const) {
        let ty = self.resolve_type(
            &c.ty,
            TypeCtx {
                bare_fixed: true,
                ..Default::default()
            },
        );
        let mut value = None;
        let mut ty_out = ty.clone();
        if let Some(t) = &ty {
            match self.const_target(t) {
                Some(target) => match consteval::eval(&c.value, &target, self) {
                    Ok(v) => {
                        if let (TypeRef::Fixed { digits: 0, .. }, Val::Fixed(d)) = (t, &v) {
                            ty_out = Some(TypeRef::Fixed {
                                digits: d.digits().max(1) as u16,
                                scale: d.scale as u16,
                            });
                        }
                        value = Some(v.into_const());
                    }
                    Err((span, msg)) => {
                        if !msg.is_empty() {
                            self.err(span, msg);
                        }
                    }
                },
                None => self.err(
                    c.ty.span,
                    format!(
                        "constants of this type are not allowed (constant '{}')",
                        c.name.unescaped()
                    ),
                ),
            }
        }
        let id = self.new_item(
            &c.name,
            ItemKind::Const(Const {
                ty: ty_out.unwrap_or(TypeRef::Primitive(Primitive::Long)),
                value: value.unwrap_or(ConstValue::Integer(0)),
            }),
        );
        self.declare(&c.name, EntryKind::Decl, Target::Item(id), "constant");
    }

    fn typedef(&mut self, t: &ast::Typedef) {
        let Some(ty) = self.resolve_type(&t.ty, TypeCtx::default()) else {
            // Declare the names anyway so later uses do not cascade into more errors.
            for d in &t.declarators {
                let id = self.new_item(
                    &d.name,
                    ItemKind::Typedef(Typedef {
                        ty: TypeRef::Primitive(Primitive::Long),
                    }),
                );
                self.declare(&d.name, EntryKind::Decl, Target::Item(id), "typedef");
            }
            return;
        };
        for d in &t.declarators {
            let ty = self.with_dims(ty.clone(), d);
            let id = self.new_item(&d.name, ItemKind::Typedef(Typedef { ty }));
            self.declare(&d.name, EntryKind::Decl, Target::Item(id), "typedef");
        }
    }

    fn with_dims(&mut self, ty: TypeRef, d: &ast::Declarator) -> TypeRef {
        if d.dims.is_empty() {
            return ty;
        }
        let dims = d
            .dims
            .iter()
            .map(|e| self.positive(e, "array size").unwrap_or(1))
            .collect();
        TypeRef::Array(Box::new(ty), dims)
    }

    fn positive(&mut self, e: &ast::Expr, what: &str) -> Option<u32> {
        match consteval::eval(e, &ULONG, self) {
            Ok(Val::Int(0)) => {
                self.err(e.span, format!("{what} must be greater than zero"));
                None
            }
            Ok(Val::Int(v)) => u32::try_from(v).ok(),
            Ok(_) => None,
            Err((span, msg)) => {
                if !msg.is_empty() {
                    self.err(span, format!("invalid {what}: {msg}"));
                }
                None
            }
        }
    }

    fn forward_constr(&mut self, n: &Ident, is_struct: bool) {
        let pred: fn(&ItemKind) -> bool = if is_struct {
            |k| matches!(k, ItemKind::Struct(_))
        } else {
            |k| matches!(k, ItemKind::Union(_))
        };
        if self.forward_of(n, pred).is_some() {
            return;
        }
        let kind = if is_struct {
            ItemKind::Struct(Struct {
                defined: false,
                members: Vec::new(),
                nested: Vec::new(),
            })
        } else {
            ItemKind::Union(Union {
                defined: false,
                discriminator: TypeRef::Primitive(Primitive::Long),
                cases: Vec::new(),
                nested: Vec::new(),
            })
        };
        let id = self.new_item(n, kind);
        self.forward_only.insert(id, n.span);
        self.declare(
            n,
            EntryKind::Decl,
            Target::Item(id),
            if is_struct { "struct" } else { "union" },
        );
    }

    /// Declares a struct/union, or completes its forward declaration.
    fn begin_constr(&mut self, name: &Ident, kind: ItemKind, what: &'static str) -> Option<ItemId> {
        let is_struct = matches!(kind, ItemKind::Struct(_));
        let pred: fn(&ItemKind) -> bool = if is_struct {
            |k| matches!(k, ItemKind::Struct(_))
        } else {
            |k| matches!(k, ItemKind::Union(_))
        };
        if let Some(id) = self.forward_of(name, pred) {
            if self.forward_only.remove(&id).is_none() {
                self.err(
                    name.span,
                    format!("redefinition of {what} '{}'", name.unescaped()),
                );
                return None;
            }
            self.repo[id.0].prefix = self.prefix();
            self.items[id.0].location = self.location(name.span);
            return Some(id);
        }
        let id = self.new_item(name, kind);
        self.declare(name, EntryKind::Decl, Target::Item(id), what);
        Some(id)
    }

    fn members(&mut self, members: &[ast::Member]) -> Vec<Member> {
        let mut out = Vec::new();
        for m in members {
            let Some(ty) = self.resolve_type(&m.ty, TypeCtx::default()) else {
                for d in &m.declarators {
                    self.declare(&d.name, EntryKind::Instance, Target::None, "member");
                }
                continue;
            };
            for d in &m.declarators {
                let t = self.with_dims(ty.clone(), d);
                self.declare(&d.name, EntryKind::Instance, Target::None, "member");
                out.push(Member {
                    name: d.name.unescaped().to_owned(),
                    ty: t,
                    location: self.location(d.name.span),
                });
            }
        }
        out
    }

    fn structure(&mut self, s: &ast::Struct) -> Option<ItemId> {
        let id = self.begin_constr(
            &s.name,
            ItemKind::Struct(Struct {
                defined: false,
                members: Vec::new(),
                nested: Vec::new(),
            }),
            "struct",
        )?;
        self.being_defined.insert(id);
        let scope = self.new_scope(ScopeKind::Struct, Some(s.name.unescaped()), Some(id));
        let mut members = Vec::new();
        let nested = self.in_scope(scope, s.name.unescaped(), |r| {
            members = r.members(&s.members)
        });
        self.being_defined.remove(&id);
        self.items[id.0].kind = ItemKind::Struct(Struct {
            defined: true,
            members,
            nested,
        });
        Some(id)
    }

    fn exception(&mut self, e: &ast::Exception) {
        let id = self.new_item(
            &e.name,
            ItemKind::Exception(Exception {
                members: Vec::new(),
                nested: Vec::new(),
            }),
        );
        self.declare(&e.name, EntryKind::Decl, Target::Item(id), "exception");
        let scope = self.new_scope(ScopeKind::Exception, Some(e.name.unescaped()), Some(id));
        let mut members = Vec::new();
        let nested = self.in_scope(scope, e.name.unescaped(), |r| {
            members = r.members(&e.members)
        });
        self.items[id.0].kind = ItemKind::Exception(Exception { members, nested });
    }

    fn union(&mut self, u: &ast::Union) -> Option<ItemId> {
        let placeholder = ItemKind::Union(Union {
            defined: false,
            discriminator: TypeRef::Primitive(Primitive::Long),
            cases: Vec::new(),
            nested: Vec::new(),
        });
        let id = self.begin_constr(&u.name, placeholder, "union")?;
        self.being_defined.insert(id);
        let scope = self.new_scope(ScopeKind::Union, Some(u.name.unescaped()), Some(id));
        let mut result = (None, Vec::new());
        let nested = self.in_scope(scope, u.name.unescaped(), |r| result = r.union_body(u));
        self.being_defined.remove(&id);
        let (disc, cases) = result;
        self.items[id.0].kind = ItemKind::Union(Union {
            defined: true,
            discriminator: disc.unwrap_or(TypeRef::Primitive(Primitive::Long)),
            cases,
            nested,
        });
        Some(id)
    }

    fn union_body(&mut self, u: &ast::Union) -> (Option<TypeRef>, Vec<UnionCase>) {
        let disc = self.resolve_type(&u.discriminator, TypeCtx::default());
        let target = match &disc {
            Some(t) => {
                let ok = match self.unalias(t) {
                    TypeRef::Primitive(p) => {
                        int_target(p).is_some()
                            || matches!(p, Primitive::Char | Primitive::WChar | Primitive::Boolean)
                    }
                    TypeRef::Named(id) => matches!(self.items[id.0].kind, ItemKind::Enum(_)),
                    _ => false,
                };
                if ok {
                    self.const_target(t)
                } else {
                    self.err(u.discriminator.span, "a union discriminator must be an integer, char, wchar, boolean, octet or enum type");
                    None
                }
            }
            None => None,
        };
        let mut cases = Vec::new();
        let mut seen: Vec<(ConstValue, Span)> = Vec::new();
        let mut default_seen: Option<Span> = None;
        for c in &u.cases {
            let mut labels = Vec::new();
            for l in &c.labels {
                match l {
                    ast::CaseLabel::Default(span) => {
                        if let Some(prev) = default_seen {
                            self.err_note(
                                *span,
                                "a union can have only one default label",
                                Some(prev),
                                "first default label here",
                            );
                        }
                        default_seen = Some(*span);
                        labels.push(CaseLabel::Default);
                    }
                    ast::CaseLabel::Value(e) => {
                        let Some(target) = &target else { continue };
                        match consteval::eval(e, target, self) {
                            Ok(v) => {
                                let v = v.into_const();
                                if let Some((_, prev)) = seen.iter().find(|(p, _)| *p == v) {
                                    let prev = *prev;
                                    self.err_note(
                                        e.span,
                                        format!(
                                            "duplicate union label {}",
                                            self.describe_value(&v)
                                        ),
                                        Some(prev),
                                        "first used here",
                                    );
                                } else {
                                    seen.push((v.clone(), e.span));
                                }
                                labels.push(CaseLabel::Value(v));
                            }
                            Err((span, msg)) => {
                                if !msg.is_empty() {
                                    self.err(span, format!("invalid union label: {msg}"));
                                }
                            }
                        }
                    }
                }
            }
            let Some(ty) = self.resolve_type(&c.ty, TypeCtx::default()) else {
                self.declare(
                    &c.declarator.name,
                    EntryKind::Instance,
                    Target::None,
                    "union member",
                );
                continue;
            };
            let ty = self.with_dims(ty, &c.declarator);
            self.declare(
                &c.declarator.name,
                EntryKind::Instance,
                Target::None,
                "union member",
            );
            cases.push(UnionCase {
                labels,
                name: c.declarator.name.unescaped().to_owned(),
                ty,
                location: self.location(c.declarator.name.span),
            });
        }
        (disc, cases)
    }

    fn describe_value(&self, v: &ConstValue) -> String {
        match v {
            ConstValue::Integer(i) => i.to_string(),
            ConstValue::Char(c) => format!("'{}'", (*c as char).escape_default()),
            ConstValue::WChar(c) => format!("L'\\u{c:04x}'"),
            ConstValue::Boolean(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
            ConstValue::Enum { ty, index } => match &self.items[ty.0].kind {
                ItemKind::Enum(e) => e
                    .enumerators
                    .get(*index as usize)
                    .cloned()
                    .unwrap_or_default(),
                _ => index.to_string(),
            },
            other => format!("{other:?}"),
        }
    }

    fn enumeration(&mut self, e: &ast::Enum) -> ItemId {
        let names: Vec<String> = e
            .enumerators
            .iter()
            .map(|x| x.unescaped().to_owned())
            .collect();
        let id = self.new_item(&e.name, ItemKind::Enum(Enum { enumerators: names }));
        self.declare(&e.name, EntryKind::Decl, Target::Item(id), "enum");
        for (i, x) in e.enumerators.iter().enumerate() {
            self.declare(
                x,
                EntryKind::Decl,
                Target::Enumerator(id, i as u32),
                "enumerator",
            );
        }
        id
    }

    // ---- types ----

    /// The interface being defined, when it is unconstrained (neither local nor abstract,
    /// whose operations may be called remotely).
    fn unconstrained_interface(&self) -> Option<ItemId> {
        let id = self.scopes[self.cur].item?;
        match &self.items[id.0].kind {
            ItemKind::Interface(i) if i.kind == InterfaceKind::Unconstrained => Some(id),
            _ => None,
        }
    }

    /// CORBA 3 §3.8.6: a local interface, or a type that contains one, cannot be a parameter,
    /// result or attribute of an unconstrained interface (it could never be marshalled).
    fn forbid_local_type(&mut self, owner: ItemId, ty: &TypeRef, span: Span, what: &str) {
        let Some(local) = self.local_interface_in(ty, &mut HashSet::new()) else {
            return;
        };
        let owner = self.items[owner.0].name.clone();
        let local_name = self.items[local.0].name.clone();
        let note_at = self.repo.get(local.0).map(|r| r.span);
        self.err_note(
            span,
            format!("{what} of unconstrained interface '{owner}' has the local type '{local_name}', which cannot be sent to another process (make '{owner}' local, or pass an unconstrained interface)"),
            note_at,
            format!("'{local_name}' is declared local here"),
        );
    }

    /// The first local interface `ty` is or contains (through typedefs, sequences, arrays and
    /// struct, union and exception members).
    fn local_interface_in(&self, ty: &TypeRef, seen: &mut HashSet<ItemId>) -> Option<ItemId> {
        match ty {
            TypeRef::Sequence(t, _) | TypeRef::Array(t, _) => self.local_interface_in(t, seen),
            TypeRef::Named(id) if seen.insert(*id) => match &self.items[id.0].kind {
                ItemKind::Interface(i) if i.kind == InterfaceKind::Local => Some(*id),
                ItemKind::Typedef(t) => self.local_interface_in(&t.ty, seen),
                ItemKind::Struct(x) => x
                    .members
                    .iter()
                    .find_map(|m| self.local_interface_in(&m.ty, seen)),
                ItemKind::Exception(x) => x
                    .members
                    .iter()
                    .find_map(|m| self.local_interface_in(&m.ty, seen)),
                ItemKind::Union(x) => x
                    .cases
                    .iter()
                    .find_map(|c| self.local_interface_in(&c.ty, seen)),
                _ => None,
            },
            _ => None,
        }
    }

    /// The interface or valuetype a typedef names (through typedefs of typedefs), or `id`
    /// itself: CORBA 3 §3.8.2 lets a base be named by any scoped name that denotes an
    /// interface, and omniidl accepts an alias there.
    fn through_typedefs(&self, id: ItemId) -> ItemId {
        match self.unalias(&TypeRef::Named(id)) {
            TypeRef::Named(t) => t,
            _ => id,
        }
    }

    fn unalias(&self, ty: &TypeRef) -> TypeRef {
        let mut t = ty.clone();
        for _ in 0..=self.items.len() {
            match &t {
                TypeRef::Named(id) => match &self.items[id.0].kind {
                    ItemKind::Typedef(td) => t = td.ty.clone(),
                    _ => return t,
                },
                _ => return t,
            }
        }
        t
    }

    fn const_target(&self, ty: &TypeRef) -> Option<CTarget> {
        match self.unalias(ty) {
            TypeRef::Primitive(p) => int_target(p).or(match p {
                Primitive::Float => Some(CTarget::Float {
                    max: f32::MAX as f64,
                    name: "float",
                }),
                Primitive::Double => Some(CTarget::Float {
                    max: f64::MAX,
                    name: "double",
                }),
                Primitive::LongDouble => Some(CTarget::Float {
                    max: f64::MAX,
                    name: "long double",
                }),
                Primitive::Char => Some(CTarget::Char),
                Primitive::WChar => Some(CTarget::WChar),
                Primitive::Boolean => Some(CTarget::Bool),
                _ => None,
            }),
            TypeRef::String(b) => Some(CTarget::String(b)),
            TypeRef::WString(b) => Some(CTarget::WString(b)),
            TypeRef::Fixed { digits: 0, .. } => Some(CTarget::Fixed(None)),
            TypeRef::Fixed { digits, scale } => Some(CTarget::Fixed(Some((digits, scale)))),
            TypeRef::Named(id) => match &self.items[id.0].kind {
                ItemKind::Enum(_) => Some(CTarget::Enum(id, self.items[id.0].scoped())),
                _ => None,
            },
            _ => None,
        }
    }

    fn resolve_type(&mut self, ts: &TypeSpec, ctx: TypeCtx) -> Option<TypeRef> {
        match &ts.kind {
            TypeSpecKind::Base(b) => Some(TypeRef::Primitive(primitive(*b))),
            TypeSpecKind::String(b) => {
                let bound = match b {
                    Some(e) => Some(self.positive(e, "string bound")?),
                    None => None,
                };
                Some(TypeRef::String(bound))
            }
            TypeSpecKind::WString(b) => {
                let bound = match b {
                    Some(e) => Some(self.positive(e, "wstring bound")?),
                    None => None,
                };
                Some(TypeRef::WString(bound))
            }
            TypeSpecKind::Sequence(elem, b) => {
                let e = self.resolve_type(
                    elem,
                    TypeCtx {
                        in_sequence: true,
                        bare_fixed: false,
                    },
                );
                let bound = match b {
                    Some(x) => Some(self.positive(x, "sequence bound")?),
                    None => None,
                };
                Some(TypeRef::Sequence(Box::new(e?), bound))
            }
            TypeSpecKind::Fixed(None) => {
                if ctx.bare_fixed {
                    Some(TypeRef::Fixed {
                        digits: 0,
                        scale: 0,
                    })
                } else {
                    self.err(
                        ts.span,
                        "'fixed' needs digits and scale here: fixed<digits, scale>",
                    );
                    None
                }
            }
            TypeSpecKind::Fixed(Some((d, s))) => {
                let digits = self.positive(d, "number of fixed digits")?;
                if digits > 31 {
                    self.err(d.span, "a fixed type has at most 31 digits");
                    return None;
                }
                let scale = match consteval::eval(s, &ULONG, self) {
                    Ok(Val::Int(v)) if v <= digits as i128 => v as u16,
                    Ok(_) => {
                        self.err(
                            s.span,
                            "the scale of a fixed type cannot exceed its number of digits",
                        );
                        return None;
                    }
                    Err((span, msg)) => {
                        if !msg.is_empty() {
                            self.err(span, msg);
                        }
                        return None;
                    }
                };
                Some(TypeRef::Fixed {
                    digits: digits as u16,
                    scale,
                })
            }
            TypeSpecKind::Named(sn) => self.named_type(sn, ctx),
            TypeSpecKind::Struct(s) => self.structure(s).map(TypeRef::Named),
            TypeSpecKind::Union(u) => self.union(u).map(TypeRef::Named),
            TypeSpecKind::Enum(e) => Some(TypeRef::Named(self.enumeration(e))),
        }
    }

    fn named_type(&mut self, sn: &ScopedName, ctx: TypeCtx) -> Option<TypeRef> {
        let e = self.lookup(sn, true)?;
        match e.target {
            Target::Builtin(p) => Some(TypeRef::Primitive(p)),
            Target::Item(id) => {
                let kind = &self.items[id.0].kind;
                match kind {
                    ItemKind::Typedef(_)
                    | ItemKind::Enum(_)
                    | ItemKind::Native
                    | ItemKind::Interface(_)
                    | ItemKind::ValueType(_)
                    | ItemKind::ValueBox(_) => Some(TypeRef::Named(id)),
                    ItemKind::Struct(_) | ItemKind::Union(_) => {
                        if !ctx.in_sequence {
                            let what = kind.describe();
                            if self.being_defined.contains(&id) {
                                self.err(sn.span, format!("{what} '{sn}' cannot contain itself, except through a sequence"));
                                return None;
                            }
                            if self.forward_only.contains_key(&id) {
                                self.err(sn.span, format!("{what} '{sn}' is only forward-declared here; until it is defined it can only be a sequence element"));
                                return None;
                            }
                        }
                        Some(TypeRef::Named(id))
                    }
                    other => {
                        let what = other.describe();
                        self.err(sn.span, format!("'{sn}' is {}, not a type", article(what)));
                        None
                    }
                }
            }
            _ => {
                self.err(
                    sn.span,
                    format!("'{sn}' is {}, not a type", article(e.what)),
                );
                None
            }
        }
    }
}

impl Env for Resolver<'_> {
    fn value_of(&mut self, name: &ScopedName) -> Result<Val, EvalError> {
        let Some(e) = self.lookup(name, true) else {
            // Already reported by the look-up.
            return Err((name.span, String::new()));
        };
        match e.target {
            Target::Enumerator(ty, i) => Ok(Val::Enum(ty, i)),
            Target::Item(id) => match &self.items[id.0].kind {
                ItemKind::Const(c) => Ok(Val::from_const(&c.value)),
                other => Err((
                    name.span,
                    format!("'{name}' is {}, not a constant", article(other.describe())),
                )),
            },
            _ => Err((
                name.span,
                format!("'{name}' is {}, not a constant", article(e.what)),
            )),
        }
    }
}

fn article(what: &str) -> String {
    let a = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{a} {what}")
}

fn iface_kind(k: ast::InterfaceKind) -> InterfaceKind {
    match k {
        ast::InterfaceKind::Unconstrained => InterfaceKind::Unconstrained,
        ast::InterfaceKind::Abstract => InterfaceKind::Abstract,
        ast::InterfaceKind::Local => InterfaceKind::Local,
    }
}

fn kind_word(k: InterfaceKind) -> &'static str {
    match k {
        InterfaceKind::Unconstrained => "unconstrained",
        InterfaceKind::Abstract => "abstract",
        InterfaceKind::Local => "local",
    }
}

/// The version of an `IDL:` repository ID, if it has one.
fn idl_version(id: &str) -> Option<(u16, u16)> {
    let body = id.strip_prefix("IDL:")?;
    let (_, v) = body.rsplit_once(':')?;
    let (a, b) = v.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}
