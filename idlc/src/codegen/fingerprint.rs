//! What an item's generated code depends on, written out as a key, so that a translation unit
//! can reuse the text another unit generated for the same definition without building its
//! tokens again (see [`super::RenderCache`]).
//!
//! Generating item X reads: the model's data of X, of everything inside X, and of everything
//! X refers to (types, bases, raised exceptions, enumerators), transitively; the Rust names
//! assigned to all of those (their module paths make the relative paths `super::m::T`); which
//! of them are not mapped, and why; which of the items inside X were already emitted; the
//! module X is emitted in; and the options. It does not read the unit's other items, parents,
//! or locations. The key holds all of that, with item ids (which differ between units)
//! replaced by the order in which the walk first meets each item, so two units produce the
//! same key exactly when they would generate the same text. The key is the description
//! itself, not a hash of it, so two different descriptions can never share an entry.

use super::{Acc, Generator, Result};
use crate::model::{
    Attribute, CaseLabel, Const, ConstValue, Exception, Factory, Interface, ItemId, ItemKind,
    Member, Module, Operation, Param, StateMember, Struct, TypeRef, Typedef, Union, UnionCase,
    ValueBox, ValueType,
};
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

/// An item's key, and the items it covers in the order the key numbers them.
pub(super) struct Fingerprint {
    pub key: String,
    pub closure: Vec<ItemId>,
    /// Whether each item of `closure` was already emitted when the key was made.
    pub was_seen: Vec<bool>,
}

/// Collects the item ids a definition refers to, in a fixed order, putting a placeholder in
/// their place (so that the rest can be written out once per unit, whatever the numbering).
#[derive(Default)]
struct Refs {
    ids: Vec<ItemId>,
}

impl Refs {
    fn id(&mut self, id: &mut ItemId) {
        self.ids.push(*id);
        *id = ItemId(usize::MAX);
    }

    fn ids(&mut self, ids: &mut [ItemId]) {
        for id in ids {
            self.id(id);
        }
    }

    fn ty(&mut self, ty: &mut TypeRef) {
        match ty {
            TypeRef::Named(id) => self.id(id),
            TypeRef::Sequence(t, _) | TypeRef::Array(t, _) => self.ty(t),
            TypeRef::Primitive(_)
            | TypeRef::String(_)
            | TypeRef::WString(_)
            | TypeRef::Fixed { .. } => {}
        }
    }

    fn value(&mut self, v: &mut ConstValue) {
        if let ConstValue::Enum { ty, .. } = v {
            self.id(ty);
        }
    }

    fn params(&mut self, params: &mut [Param]) {
        for Param {
            name: _,
            dir: _,
            ty,
        } in params
        {
            self.ty(ty);
        }
    }

    fn members(&mut self, members: &mut [Member]) {
        for Member {
            name: _,
            ty,
            location: _,
        } in members
        {
            self.ty(ty);
        }
    }

    /// Every item id in `kind` collected (the destructuring is exhaustive, so that a field
    /// added to the model is not forgotten here).
    fn kind(&mut self, kind: &mut ItemKind) {
        match kind {
            ItemKind::Module(Module { contents }) => self.ids(contents),
            ItemKind::Interface(Interface {
                kind: _,
                defined: _,
                bases,
                contents,
            }) => {
                self.ids(bases);
                self.ids(contents);
            }
            ItemKind::Operation(Operation {
                oneway: _,
                result,
                params,
                raises,
                context: _,
            }) => {
                if let Some(r) = result {
                    self.ty(r);
                }
                self.params(params);
                self.ids(raises);
            }
            ItemKind::Attribute(Attribute {
                readonly: _,
                ty,
                get_raises,
                set_raises,
            }) => {
                self.ty(ty);
                self.ids(get_raises);
                self.ids(set_raises);
            }
            ItemKind::Const(Const { ty, value }) => {
                self.ty(ty);
                self.value(value);
            }
            ItemKind::Typedef(Typedef { ty }) => self.ty(ty),
            ItemKind::Struct(Struct {
                defined: _,
                members,
                nested,
            }) => {
                self.members(members);
                self.ids(nested);
            }
            ItemKind::Exception(Exception { members, nested }) => {
                self.members(members);
                self.ids(nested);
            }
            ItemKind::Union(Union {
                defined: _,
                discriminator,
                cases,
                nested,
            }) => {
                self.ty(discriminator);
                for UnionCase {
                    labels,
                    name: _,
                    ty,
                    location: _,
                } in cases
                {
                    for l in labels {
                        match l {
                            CaseLabel::Default => {}
                            CaseLabel::Value(v) => self.value(v),
                        }
                    }
                    self.ty(ty);
                }
                self.ids(nested);
            }
            ItemKind::Enum(_) | ItemKind::Native => {}
            ItemKind::ValueType(ValueType {
                kind: _,
                defined: _,
                truncatable: _,
                bases,
                supports,
                contents,
            }) => {
                self.ids(bases);
                self.ids(supports);
                self.ids(contents);
            }
            ItemKind::ValueBox(ValueBox { ty }) | ItemKind::StateMember(StateMember { ty, .. }) => {
                self.ty(ty)
            }
            ItemKind::Factory(Factory { params, raises }) => {
                self.params(params);
                self.ids(raises);
            }
        }
    }
}

/// An item's own part of a fingerprint: its data, with the items it refers to apart.
pub(super) struct Described {
    text: String,
    refs: Vec<ItemId>,
}

impl Generator<'_> {
    /// The key of item `id` emitted in module `path`, `seen` holding the items emitted so far.
    pub(super) fn fingerprint(
        &self,
        id: ItemId,
        path: &[String],
        seen: &HashSet<ItemId>,
    ) -> Result<Fingerprint> {
        let mut key = String::new();
        // Writing to a String cannot fail.
        let _ = write!(key, "{:?}|{path:?}", self.opts.demux);
        let mut index = HashMap::from([(id, 0)]);
        let mut closure = vec![id];
        let mut was_seen = Vec::new();
        let mut next = 0;
        while let Some(&at) = closure.get(next) {
            next += 1;
            let described = self.described(at)?;
            let seen_now = seen.contains(&at);
            was_seen.push(seen_now);
            let _ = write!(key, "\n{seen_now} {}", described.text);
            for r in &described.refs {
                let n = *index.entry(*r).or_insert(closure.len());
                if n == closure.len() {
                    closure.push(*r);
                }
                let _ = write!(key, " #{n}");
            }
        }
        Ok(Fingerprint {
            key,
            closure,
            was_seen,
        })
    }

    /// Item `at`'s own part of its fingerprints, made once.
    fn described(&self, at: ItemId) -> Result<std::rc::Rc<Described>> {
        if let Some(d) = self.described.borrow().get(&at) {
            return Ok(d.clone());
        }
        let item = self.item(at)?;
        let mut kind = item.kind.clone();
        let mut refs = Refs::default();
        refs.kind(&mut kind);
        let mut key = String::new();
        let _ = write!(
            key,
            "{:?} {:?} {:?} {kind:?} {:?} {:?}",
            item.name,
            item.scoped_name,
            item.repository_id,
            self.names.get(&at),
            self.unsupported.get(&at),
        );
        if let (Some(names), ItemKind::Interface(iface)) = (self.ifaces.get(&at), &item.kind) {
            let super::IfaceNames {
                methods,
                errors,
                error_variants,
                upcalls,
                stubs,
                async_stubs,
                params,
            } = names;
            for member in &iface.contents {
                for acc in [Acc::Op, Acc::Get, Acc::Set] {
                    let k = (*member, acc);
                    let _ = write!(
                        key,
                        " {:?}{:?}{:?}{:?}{:?}{:?}",
                        methods.get(&k),
                        errors.get(&k),
                        error_variants.get(&k),
                        upcalls.get(&k),
                        stubs.get(&k),
                        async_stubs.get(&k),
                    );
                }
                let _ = write!(key, "{:?}", params.get(member));
            }
        }
        let d = std::rc::Rc::new(Described {
            text: key,
            refs: refs.ids,
        });
        self.described.borrow_mut().insert(at, d.clone());
        Ok(d)
    }
}
