//! CosNaming's rules over the [`Store`]: compound names walked context by context, and each
//! operation's exceptions exactly as the Naming Service specification gives them. Pure: no
//! ORB here. Where a walk reaches a context of another naming service, the operation stops
//! with [`Step::Remote`] and the servant finishes it there with the rest of the name.

use crate::store::{Bound, Component, ContextId, Store, StoreError};
use orb::iop::Ior;

/// `NamingContext::NotFoundReason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    MissingNode,
    NotContext,
    NotObject,
}

/// The CosNaming exceptions, with the members they carry.
#[derive(Debug, PartialEq, Eq)]
pub enum NamingError {
    /// `NotFound`: `rest` is the name from the component that failed.
    NotFound {
        why: Why,
        rest: Vec<Component>,
    },
    /// `CannotProceed`: the context reached (ours, or another's) and the rest of the name.
    CannotProceed {
        context: ContextTarget,
        rest: Vec<Component>,
    },
    InvalidName,
    AlreadyBound,
    NotEmpty,
    /// The store could not make the change durable: the caller gets a system exception.
    Storage(String),
}

/// A context, as exceptions and bindings name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContextTarget {
    Local(ContextId),
    Remote(Ior),
}

impl From<StoreError> for NamingError {
    fn from(e: StoreError) -> NamingError {
        match e {
            StoreError::AlreadyBound => NamingError::AlreadyBound,
            StoreError::NotEmpty => NamingError::NotEmpty,
            other => NamingError::Storage(other.to_string()),
        }
    }
}

/// Where a walk to the last component's context ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Step<'n> {
    /// In our context `ContextId`; the last component is the one to operate on.
    Here(ContextId, &'n Component),
    /// In another naming service's context: do the operation there with this rest of the name.
    Remote(Ior, &'n [Component]),
}

/// Checks a name: not empty, and no component with an empty id (§2.2.3: implementations may
/// refuse such components; omniNames does, and so do we).
pub fn check_name(name: &[Component]) -> Result<(), NamingError> {
    if name.is_empty() || name.iter().any(|(id, _)| id.is_empty()) {
        return Err(NamingError::InvalidName);
    }
    Ok(())
}

/// Walks `name` from `start` to the context that holds its last component.
pub fn walk<'n>(
    store: &Store,
    start: ContextId,
    name: &'n [Component],
) -> Result<Step<'n>, NamingError> {
    check_name(name)?;
    let mut ctx = start;
    let (last, path) = name.split_last().ok_or(NamingError::InvalidName)?;
    for (i, c) in path.iter().enumerate() {
        if store.context(ctx).is_none() {
            // The context was destroyed while bound: the name cannot be followed.
            return Err(NamingError::CannotProceed {
                context: ContextTarget::Local(ctx),
                rest: name[i..].to_vec(),
            });
        }
        match store.lookup(ctx, c) {
            None => {
                return Err(NamingError::NotFound {
                    why: Why::MissingNode,
                    rest: name[i..].to_vec(),
                })
            }
            Some(Bound::Object(_)) => {
                return Err(NamingError::NotFound {
                    why: Why::NotContext,
                    rest: name[i..].to_vec(),
                })
            }
            Some(Bound::LocalContext(id)) => ctx = *id,
            Some(Bound::RemoteContext(ior)) => {
                return Ok(Step::Remote(ior.clone(), &name[i + 1..]))
            }
        }
    }
    if store.context(ctx).is_none() {
        return Err(NamingError::CannotProceed {
            context: ContextTarget::Local(ctx),
            rest: vec![last.clone()],
        });
    }
    Ok(Step::Here(ctx, last))
}

/// What `resolve` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    Object(Ior),
    Context(ContextTarget),
}

/// `resolve` of the last component in context `ctx`.
pub fn resolve_here(store: &Store, ctx: ContextId, c: &Component) -> Result<Resolved, NamingError> {
    match store.lookup(ctx, c) {
        None => Err(NamingError::NotFound {
            why: Why::MissingNode,
            rest: vec![c.clone()],
        }),
        Some(Bound::Object(ior)) => Ok(Resolved::Object(ior.clone())),
        Some(Bound::LocalContext(id)) => Ok(Resolved::Context(ContextTarget::Local(*id))),
        Some(Bound::RemoteContext(ior)) => {
            Ok(Resolved::Context(ContextTarget::Remote(ior.clone())))
        }
    }
}

/// `bind`, `rebind`, `bind_context`, `rebind_context` of the last component in `ctx`.
/// Rebinding replaces a binding of the same sort only: §2.2.3 `rebind` "if the name is
/// bound to a context, NotFound with reason not_object"; `rebind_context` over an object,
/// not_context.
pub fn bind_here(
    store: &mut Store,
    ctx: ContextId,
    c: &Component,
    bound: Bound,
    rebind: bool,
) -> Result<(), NamingError> {
    if rebind {
        if let Some(old) = store.lookup(ctx, c) {
            match (old.is_context(), bound.is_context()) {
                (true, false) => {
                    return Err(NamingError::NotFound {
                        why: Why::NotObject,
                        rest: vec![c.clone()],
                    })
                }
                (false, true) => {
                    return Err(NamingError::NotFound {
                        why: Why::NotContext,
                        rest: vec![c.clone()],
                    })
                }
                _ => {}
            }
        }
    }
    Ok(store.bind(ctx, c.clone(), bound, rebind)?)
}

/// `unbind` of the last component in `ctx`.
pub fn unbind_here(store: &mut Store, ctx: ContextId, c: &Component) -> Result<(), NamingError> {
    store.unbind(ctx, c).map_err(|e| match e {
        StoreError::NotFound => NamingError::NotFound {
            why: Why::MissingNode,
            rest: vec![c.clone()],
        },
        other => other.into(),
    })
}

/// `bind_new_context` of the last component in `ctx`: a new context, bound.
pub fn bind_new_context_here(
    store: &mut Store,
    ctx: ContextId,
    c: &Component,
) -> Result<ContextId, NamingError> {
    if store.lookup(ctx, c).is_some() {
        return Err(NamingError::AlreadyBound);
    }
    let id = store.new_context()?;
    if let Err(e) = store.bind(ctx, c.clone(), Bound::LocalContext(id), false) {
        // Not bound: do not leave an orphan behind.
        let _ = store.destroy(id);
        return Err(e.into());
    }
    Ok(id)
}

/// `list`: the bindings of `ctx`, as `(component, is_context)`, in name order.
pub fn list(store: &Store, ctx: ContextId) -> Vec<(Component, bool)> {
    store
        .context(ctx)
        .map(|m| m.iter().map(|(c, b)| (c.clone(), b.is_context())).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ROOT;

    fn n(s: &str) -> Vec<Component> {
        orb::ior::parse_string_name(s).unwrap()
    }

    fn obj() -> Ior {
        Ior {
            type_id: "IDL:T:1.0".into(),
            profiles: vec![orb::iop::TaggedProfile {
                tag: orb::iop::ProfileId::INTERNET_IOP,
                data: vec![1; 4],
            }],
        }
    }

    fn bind(s: &mut Store, name: &str, b: Bound, rebind: bool) -> Result<(), NamingError> {
        let name = n(name);
        match walk(s, ROOT, &name)? {
            Step::Here(ctx, c) => bind_here(s, ctx, c, b, rebind),
            Step::Remote(..) => panic!("remote"),
        }
    }

    fn resolve(s: &Store, name: &str) -> Result<Resolved, NamingError> {
        let name = n(name);
        match walk(s, ROOT, &name)? {
            Step::Here(ctx, c) => resolve_here(s, ctx, c),
            Step::Remote(..) => panic!("remote"),
        }
    }

    #[test]
    fn compound_names_cross_contexts_and_fail_with_the_spec_exceptions() {
        let mut s = Store::in_memory();
        let a = bind_new_context_here(&mut s, ROOT, &("a".into(), "".into())).unwrap();
        let b = bind_new_context_here(&mut s, a, &("b".into(), "ctx".into())).unwrap();
        bind(&mut s, "a/b.ctx/obj", Bound::Object(obj()), false).unwrap();
        assert_eq!(resolve(&s, "a/b.ctx/obj").unwrap(), Resolved::Object(obj()));
        assert_eq!(
            resolve(&s, "a/b.ctx").unwrap(),
            Resolved::Context(ContextTarget::Local(b))
        );
        assert_eq!(
            resolve(&s, "a/nope/obj").unwrap_err(),
            NamingError::NotFound {
                why: Why::MissingNode,
                rest: n("nope/obj")
            }
        );
        assert_eq!(
            resolve(&s, "a/b.ctx/obj/deeper").unwrap_err(),
            NamingError::NotFound {
                why: Why::NotContext,
                rest: n("obj/deeper")
            }
        );
        assert_eq!(
            bind(&mut s, "a/b.ctx/obj", Bound::Object(obj()), false).unwrap_err(),
            NamingError::AlreadyBound
        );
        // rebind over a context, rebind_context over an object.
        assert_eq!(
            bind(&mut s, "a/b.ctx", Bound::Object(obj()), true).unwrap_err(),
            NamingError::NotFound {
                why: Why::NotObject,
                rest: n("b.ctx")
            }
        );
        assert_eq!(
            bind(&mut s, "a/b.ctx/obj", Bound::LocalContext(a), true).unwrap_err(),
            NamingError::NotFound {
                why: Why::NotContext,
                rest: n("obj")
            }
        );
        assert_eq!(walk(&s, ROOT, &[]).unwrap_err(), NamingError::InvalidName);
        assert_eq!(
            walk(&s, ROOT, &[("".into(), "k".into())]).unwrap_err(),
            NamingError::InvalidName
        );
        let name = n("a/b.ctx/obj");
        let Step::Here(ctx, c) = walk(&s, ROOT, &name).unwrap() else {
            panic!()
        };
        unbind_here(&mut s, ctx, c).unwrap();
        assert_eq!(
            unbind_here(&mut s, ctx, c).unwrap_err(),
            NamingError::NotFound {
                why: Why::MissingNode,
                rest: n("obj")
            }
        );
        assert_eq!(list(&s, a), vec![(("b".into(), "ctx".into()), true)]);
    }

    #[test]
    fn a_destroyed_context_still_bound_cannot_proceed() {
        let mut s = Store::in_memory();
        let a = bind_new_context_here(&mut s, ROOT, &("a".into(), "".into())).unwrap();
        s.destroy(a).unwrap();
        assert_eq!(
            resolve(&s, "a/x").unwrap_err(),
            NamingError::CannotProceed {
                context: ContextTarget::Local(a),
                rest: n("x")
            }
        );
    }

    #[test]
    fn a_remote_context_hands_over_the_rest_of_the_name() {
        let mut s = Store::in_memory();
        bind(&mut s, "far", Bound::RemoteContext(obj()), false).unwrap();
        let name = n("far/x/y");
        assert_eq!(
            walk(&s, ROOT, &name).unwrap(),
            Step::Remote(obj(), &name[1..])
        );
    }
}
