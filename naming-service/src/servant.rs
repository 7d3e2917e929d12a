//! The CosNaming servants: one `NamingContextExt` object per context, in a PERSISTENT POA
//! whose object ids are the contexts' numbers (so references survive a restart on the same
//! port), and `BindingIterator`s in a transient POA, reaped when abandoned.

use crate::cos_naming::{
    self, binding_iterator, naming_context, naming_context_ext, Binding, BindingIterator,
    BindingIteratorRef, BindingList, BindingType, Name, NameComponent, NamingContext,
    NamingContextExt, NamingContextRef,
};
use crate::graph::{self, ContextTarget, NamingError, Resolved, Step, Why};
use crate::store::{Bound, Component, ContextId, Durability, Store, ROOT};
use orb::exception::{SystemException, SystemExceptionKind};
use orb::giop::CompletionStatus;
use orb::poa::{IdAssignment, Lifespan, Policy};
use orb::{ObjectRef, Orb, OrbError, OrbPoa};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Iterators not used for this long are destroyed.
const ITERATOR_IDLE_LIMIT: Duration = Duration::from_secs(600);
/// At most this many iterators live at once; making one more destroys the least recently
/// used.
const MAX_ITERATORS: usize = 1000;

/// A naming service inside an ORB.
pub struct NamingService {
    shared: Arc<Shared>,
    root: ObjectRef,
}

struct Shared {
    orb: Orb,
    store: Mutex<Store>,
    /// The store's group commit (`None` in memory): waited on outside the store's lock.
    durability: Option<Arc<Durability>>,
    contexts: OrbPoa,
    iterators: OrbPoa,
    live_iterators: Mutex<HashMap<Vec<u8>, Instant>>,
    /// Itself, for servants made later.
    me: Weak<Shared>,
}

impl NamingService {
    /// Serves the contexts of `store` in `orb`: the root context is also bound to the
    /// well-known key `NameService`, so `corbaloc::host:port/NameService` reaches it.
    pub fn start(orb: &Orb, store: Store) -> Result<NamingService, OrbError> {
        let root_poa = orb.root_poa();
        let contexts = root_poa.create_poa(
            "NamingContexts",
            Some(root_poa.manager().clone()),
            &[
                Policy::Lifespan(Lifespan::Persistent),
                Policy::IdAssignment(IdAssignment::UserId),
            ],
        )?;
        let iterators =
            root_poa.create_poa("BindingIterators", Some(root_poa.manager().clone()), &[])?;
        let durability = store.durability();
        let shared = Arc::new_cyclic(|me| Shared {
            orb: orb.clone(),
            durability,
            store: Mutex::new(store),
            contexts,
            iterators,
            live_iterators: Mutex::new(HashMap::new()),
            me: me.clone(),
        });
        // Everything is in place before the ORB listens (which the first reference made
        // starts): a client calling a restarted service meets a refused connection, never
        // an OBJECT_NOT_EXIST for a context or `NameService` not yet activated, which
        // would tell it the object is gone for good.
        let ids = shared.store.lock().context_ids();
        for id in ids {
            shared.activate_context(id)?;
        }
        let root_servant = shared.contexts.id_to_servant(&ROOT.to_be_bytes())?;
        orb.register_well_known("NameService", root_servant)?;
        let root = shared.context_ref(ROOT)?;
        Ok(NamingService { shared, root })
    }

    /// The root context (`NameService`).
    pub fn root(&self) -> &ObjectRef {
        &self.root
    }

    /// How many binding iterators are alive now.
    pub fn live_iterators(&self) -> usize {
        self.shared.live_iterators.lock().len()
    }
}

impl Shared {
    /// Waits until record `seq` of the log is on disk: called before every reply, after the
    /// store's lock is released, so that concurrent changes share one `fsync`.
    fn settle(&self, seq: u64) -> Result<(), SystemException> {
        match &self.durability {
            Some(d) => d.wait(seq).map_err(|_| persist_store()),
            None => Ok(()),
        }
    }

    /// Runs `f` on the store, then waits (outside the lock) until what it did, and anything
    /// it may have read, is durable.
    fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> Result<T, SystemException> {
        let mut store = self.store.lock();
        let out = f(&mut store);
        let seq = store.written();
        drop(store);
        self.settle(seq)?;
        Ok(out)
    }

    fn activate_context(&self, id: ContextId) -> Result<(), OrbError> {
        let servant = naming_context_ext::servant(ContextServant {
            id,
            shared: self.me.clone(),
        });
        // The POA's own activation: the ORB's would also make a reference, and with it
        // start the listener (see `NamingService::start`).
        self.contexts
            .activate_object_with_id(&id.to_be_bytes(), servant)?;
        Ok(())
    }

    /// The reference of context `id`, whether or not it is still active (a destroyed
    /// context's reference is still what CannotProceed names).
    fn context_ref(&self, id: ContextId) -> Result<ObjectRef, OrbError> {
        self.orb.create_reference_with_id(
            &self.contexts,
            &id.to_be_bytes(),
            naming_context_ext::REPOSITORY_ID,
        )
    }

    fn target_ref(&self, t: &ContextTarget) -> Result<NamingContextRef, SystemException> {
        Ok(match t {
            ContextTarget::Local(id) => {
                NamingContextRef::unchecked_narrow(self.context_ref(*id).map_err(internal)?)
            }
            ContextTarget::Remote(ior) => {
                NamingContextRef::unchecked_narrow(self.orb.reference_from_ior(ior.clone()))
            }
        })
    }

    /// A context of ours, as the object a client passed in (`bind_context`), if it is one.
    fn local_context_id(&self, obj: &ObjectRef) -> Option<ContextId> {
        let servant = self.orb.reference_to_servant(&self.contexts, obj).ok()?;
        let tie = servant
            .as_any()
            .downcast_ref::<naming_context_ext::Tie<ContextServant>>()?;
        Some(tie.get().id)
    }

    fn new_iterator(&self, rest: VecDeque<Binding>) -> Result<BindingIteratorRef, SystemException> {
        self.reap_iterators();
        let servant = binding_iterator::servant(IteratorServant {
            rest: Mutex::new(rest),
            shared: self.me.clone(),
            id: Mutex::new(Vec::new()),
        });
        let obj = self
            .orb
            .activate(&self.iterators, servant.clone())
            .map_err(internal)?;
        let id = self
            .iterators
            .servant_to_id(&servant)
            .map_err(|e| internal(e.into()))?;
        if let Some(tie) = servant
            .as_any()
            .downcast_ref::<binding_iterator::Tie<IteratorServant>>()
        {
            *tie.get().id.lock() = id.clone();
        }
        self.live_iterators.lock().insert(id, Instant::now());
        Ok(BindingIteratorRef::unchecked_narrow(obj))
    }

    fn touch_iterator(&self, id: &[u8]) {
        if let Some(t) = self.live_iterators.lock().get_mut(id) {
            *t = Instant::now();
        }
    }

    fn drop_iterator(&self, id: &[u8]) {
        self.live_iterators.lock().remove(id);
        let _ = self.iterators.deactivate_object(id);
    }

    /// Destroys iterators idle too long, and the least recently used past the limit: a
    /// client that lists and never destroys its iterator must not make the service grow.
    fn reap_iterators(&self) {
        let now = Instant::now();
        let doomed: Vec<Vec<u8>> = {
            let mut live = self.live_iterators.lock();
            let mut doomed: Vec<Vec<u8>> = live
                .iter()
                .filter(|(_, t)| now.duration_since(**t) > ITERATOR_IDLE_LIMIT)
                .map(|(id, _)| id.clone())
                .collect();
            if live.len() - doomed.len() >= MAX_ITERATORS {
                let mut by_age: Vec<_> = live
                    .iter()
                    .filter(|(id, _)| !doomed.contains(id))
                    .map(|(id, t)| (*t, id.clone()))
                    .collect();
                by_age.sort();
                let excess = live.len() - doomed.len() + 1 - MAX_ITERATORS;
                doomed.extend(by_age.into_iter().take(excess).map(|(_, id)| id));
            }
            for id in &doomed {
                live.remove(id);
            }
            doomed
        };
        for id in doomed {
            let _ = self.iterators.deactivate_object(&id);
        }
    }
}

fn persist_store() -> SystemException {
    SystemException::new(SystemExceptionKind::PERSIST_STORE, 0, CompletionStatus::No)
}

fn internal(e: OrbError) -> SystemException {
    match e {
        OrbError::System(s) => s,
        _ => SystemException::new(SystemExceptionKind::INTERNAL, 0, CompletionStatus::No),
    }
}

fn components(n: &[NameComponent]) -> Vec<Component> {
    n.iter().map(|c| (c.id.clone(), c.kind.clone())).collect()
}

fn name_of(c: &[Component]) -> Name {
    c.iter()
        .map(|(id, kind)| NameComponent {
            id: id.clone(),
            kind: kind.clone(),
        })
        .collect()
}

/// A naming exception as the generated error type `E` of the operation.
trait FromNaming: Sized {
    fn from_naming(e: NamingError, s: &Shared) -> Self;
}

macro_rules! from_naming {
    ($err:ty { $($variant:ident),* }) => {
        impl FromNaming for $err {
            #[allow(unreachable_patterns)]
            fn from_naming(e: NamingError, s: &Shared) -> Self {
                let _ = s; // Only CannotProceed needs the service.
                match e {
                    $(from_naming!(@pat $variant) => from_naming!(@make $variant, e, s),)*
                    NamingError::Storage(_) => <$err>::System(SystemException::new(
                        SystemExceptionKind::PERSIST_STORE,
                        0,
                        CompletionStatus::No,
                    )),
                    // An exception the operation does not raise cannot come from its walk.
                    _ => <$err>::System(SystemException::new(
                        SystemExceptionKind::INTERNAL,
                        0,
                        CompletionStatus::No,
                    )),
                }
            }
        }
    };
    (@pat NotFound) => { NamingError::NotFound { .. } };
    (@pat CannotProceed) => { NamingError::CannotProceed { .. } };
    (@pat InvalidName) => { NamingError::InvalidName };
    (@pat AlreadyBound) => { NamingError::AlreadyBound };
    (@pat NotEmpty) => { NamingError::NotEmpty };
    (@make NotFound, $e:ident, $s:ident) => {{
        let NamingError::NotFound { why, rest } = $e else { unreachable!() };
        naming_context::NotFound {
            why: match why {
                Why::MissingNode => naming_context::NotFoundReason::MissingNode,
                Why::NotContext => naming_context::NotFoundReason::NotContext,
                Why::NotObject => naming_context::NotFoundReason::NotObject,
            },
            rest_of_name: name_of(&rest),
        }
        .into()
    }};
    (@make CannotProceed, $e:ident, $s:ident) => {{
        let NamingError::CannotProceed { context, rest } = $e else { unreachable!() };
        match $s.target_ref(&context) {
            Ok(cxt) => naming_context::CannotProceed {
                cxt,
                rest_of_name: name_of(&rest),
            }
            .into(),
            Err(sys) => sys.into(),
        }
    }};
    (@make InvalidName, $e:ident, $s:ident) => { naming_context::InvalidName {}.into() };
    (@make AlreadyBound, $e:ident, $s:ident) => { naming_context::AlreadyBound {}.into() };
    (@make NotEmpty, $e:ident, $s:ident) => { naming_context::NotEmpty {}.into() };
}

from_naming!(naming_context::BindError {
    NotFound,
    CannotProceed,
    InvalidName,
    AlreadyBound
});
from_naming!(naming_context::RebindError {
    NotFound,
    CannotProceed,
    InvalidName
});
from_naming!(naming_context::BindContextError {
    NotFound,
    CannotProceed,
    InvalidName,
    AlreadyBound
});
from_naming!(naming_context::RebindContextError {
    NotFound,
    CannotProceed,
    InvalidName
});
from_naming!(naming_context::ResolveError {
    NotFound,
    CannotProceed,
    InvalidName
});
from_naming!(naming_context::UnbindError {
    NotFound,
    CannotProceed,
    InvalidName
});
from_naming!(naming_context::BindNewContextError {
    NotFound,
    AlreadyBound,
    CannotProceed,
    InvalidName
});
from_naming!(naming_context::DestroyError { NotEmpty });
from_naming!(naming_context_ext::ResolveStrError {
    NotFound,
    CannotProceed,
    InvalidName
});

/// One naming context.
pub struct ContextServant {
    id: ContextId,
    shared: Weak<Shared>,
}

impl ContextServant {
    fn shared(&self) -> Result<Arc<Shared>, SystemException> {
        self.shared.upgrade().ok_or(SystemException::new(
            SystemExceptionKind::OBJECT_NOT_EXIST,
            0,
            CompletionStatus::No,
        ))
    }

    /// Walks to the last component and runs `here` there, or `remote` on another service's
    /// context with the rest of the name.
    fn with_last<T, E: FromNaming + From<SystemException>>(
        &self,
        n: &[NameComponent],
        here: impl FnOnce(&Shared, &mut Store, ContextId, &Component) -> Result<T, NamingError>,
        remote: impl FnOnce(NamingContextRef, Name) -> Result<T, E>,
    ) -> Result<T, E> {
        let s = self.shared()?;
        let name = components(n);
        let mut store = s.store.lock();
        let outcome = match graph::walk(&store, self.id, &name) {
            Ok(Step::Here(ctx, c)) => Ok(Ok(here(&s, &mut store, ctx, c))),
            Ok(Step::Remote(ior, rest)) => Ok(Err((ior, name_of(rest)))),
            Err(e) => Err(e),
        };
        // Whatever the outcome — a change, a binding found or missing, a context to go on
        // in — it may rest on changes not yet on disk: none is replied before they are.
        let seq = store.written();
        drop(store);
        s.settle(seq)?;
        match outcome {
            Ok(Ok(done)) => done.map_err(|e| E::from_naming(e, &s)),
            Ok(Err((ior, rest))) => {
                let far = NamingContextRef::unchecked_narrow(s.orb.reference_from_ior(ior));
                remote(far, rest)
            }
            Err(e) => Err(E::from_naming(e, &s)),
        }
    }

    fn bind_any<E: FromNaming + From<SystemException>>(
        &self,
        n: &[NameComponent],
        obj: &ObjectRef,
        context: bool,
        rebind: bool,
        remote: impl FnOnce(NamingContextRef, Name) -> Result<(), E>,
    ) -> Result<(), E> {
        let s = self.shared()?;
        let bound = if !context {
            Bound::Object(obj.ior().clone())
        } else {
            match s.local_context_id(obj) {
                Some(id) => Bound::LocalContext(id),
                None => Bound::RemoteContext(obj.ior().clone()),
            }
        };
        self.with_last(
            n,
            |_, store, ctx, c| graph::bind_here(store, ctx, c, bound, rebind),
            remote,
        )
    }
}

impl NamingContext for ContextServant {
    fn bind(&self, n: &[NameComponent], obj: &ObjectRef) -> Result<(), naming_context::BindError> {
        self.bind_any(n, obj, false, false, |far, rest| far.bind(&rest, obj))
    }

    fn rebind(
        &self,
        n: &[NameComponent],
        obj: &ObjectRef,
    ) -> Result<(), naming_context::RebindError> {
        self.bind_any(n, obj, false, true, |far, rest| far.rebind(&rest, obj))
    }

    fn bind_context(
        &self,
        n: &[NameComponent],
        nc: &NamingContextRef,
    ) -> Result<(), naming_context::BindContextError> {
        if nc.is_nil() {
            return Err(SystemException::new(
                SystemExceptionKind::BAD_PARAM,
                0,
                CompletionStatus::No,
            )
            .into());
        }
        self.bind_any(n, nc.object(), true, false, |far, rest| {
            far.bind_context(&rest, nc)
        })
    }

    fn rebind_context(
        &self,
        n: &[NameComponent],
        nc: &NamingContextRef,
    ) -> Result<(), naming_context::RebindContextError> {
        if nc.is_nil() {
            return Err(SystemException::new(
                SystemExceptionKind::BAD_PARAM,
                0,
                CompletionStatus::No,
            )
            .into());
        }
        self.bind_any(n, nc.object(), true, true, |far, rest| {
            far.rebind_context(&rest, nc)
        })
    }

    fn resolve(&self, n: &[NameComponent]) -> Result<ObjectRef, naming_context::ResolveError> {
        let found = self.with_last(
            n,
            |_, store, ctx, c| graph::resolve_here(store, ctx, c),
            |far, rest| {
                far.resolve(&rest)
                    .map(|o| Resolved::Object(o.ior().clone()))
            },
        )?;
        let s = self.shared()?;
        match found {
            Resolved::Object(ior) => Ok(s.orb.reference_from_ior(ior)),
            Resolved::Context(t) => Ok(s.target_ref(&t)?.into_object()),
        }
    }

    fn unbind(&self, n: &[NameComponent]) -> Result<(), naming_context::UnbindError> {
        self.with_last(
            n,
            |_, store, ctx, c| graph::unbind_here(store, ctx, c),
            |far, rest| far.unbind(&rest),
        )
    }

    fn new_context(&self) -> Result<NamingContextRef, SystemException> {
        let s = self.shared()?;
        let id = s
            .with_store(|store| store.new_context())?
            .map_err(|_| persist_store())?;
        s.activate_context(id).map_err(internal)?;
        s.target_ref(&ContextTarget::Local(id))
    }

    fn bind_new_context(
        &self,
        n: &[NameComponent],
    ) -> Result<NamingContextRef, naming_context::BindNewContextError> {
        let s = self.shared()?;
        let made = self.with_last(
            n,
            |_, store, ctx, c| {
                graph::bind_new_context_here(store, ctx, c).map(ContextTarget::Local)
            },
            |far, rest| {
                far.bind_new_context(&rest)
                    .map(|r| ContextTarget::Remote(r.object().ior().clone()))
            },
        )?;
        if let ContextTarget::Local(id) = made {
            s.activate_context(id).map_err(internal)?;
        }
        Ok(s.target_ref(&made)?)
    }

    fn destroy(&self) -> Result<(), naming_context::DestroyError> {
        let s = self.shared()?;
        s.with_store(|store| store.destroy(self.id))?
            .map_err(|e| naming_context::DestroyError::from_naming(e.into(), &s))?;
        let _ = s.contexts.deactivate_object(&self.id.to_be_bytes());
        Ok(())
    }

    fn list(&self, how_many: u32) -> Result<(BindingList, BindingIteratorRef), SystemException> {
        let s = self.shared()?;
        let all = s.with_store(|store| graph::list(store, self.id))?;
        let mut all: VecDeque<Binding> = all
            .into_iter()
            .map(|(c, is_context)| Binding {
                binding_name: name_of(&[c]),
                binding_type: if is_context {
                    BindingType::Ncontext
                } else {
                    BindingType::Nobject
                },
            })
            .collect();
        let first: BindingList = all.drain(..all.len().min(how_many as usize)).collect();
        // §2.2.8: a nil iterator when no bindings remain — except that a caller asking for
        // none in the list (how_many 0) gets an iterator, even an empty one: omniORB's
        // nameclt lists that way and calls next_one on the iterator without checking for
        // nil, and omniNames, which it is written against, always returns one.
        let iterator = if all.is_empty() && how_many != 0 {
            BindingIteratorRef::nil()
        } else {
            s.new_iterator(all)?
        };
        Ok((first, iterator))
    }
}

impl NamingContextExt for ContextServant {
    fn to_string(
        &self,
        n: &[NameComponent],
    ) -> Result<cos_naming::naming_context_ext::StringName, naming_context_ext::ToStringError> {
        let name = components(n);
        graph::check_name(&name).map_err(|_| naming_context::InvalidName {})?;
        Ok(orb::ior::format_string_name(
            name.iter().map(|(i, k)| (i.as_str(), k.as_str())),
        ))
    }

    fn to_name(&self, sn: &str) -> Result<Name, naming_context_ext::ToNameError> {
        let name = orb::ior::parse_string_name(sn).map_err(|_| naming_context::InvalidName {})?;
        graph::check_name(&name).map_err(|_| naming_context::InvalidName {})?;
        Ok(name_of(&name))
    }

    fn to_url(
        &self,
        addr: &str,
        sn: &str,
    ) -> Result<cos_naming::naming_context_ext::UrlString, naming_context_ext::ToUrlError> {
        // The address must be a corbaloc address list: check it parses as one.
        if addr.is_empty() || orb::ior::Corbaloc::parse(&format!("corbaloc:{addr}")).is_err() {
            return Err(naming_context_ext::InvalidAddress {}.into());
        }
        let name = orb::ior::parse_string_name(sn).map_err(|_| naming_context::InvalidName {})?;
        graph::check_name(&name).map_err(|_| naming_context::InvalidName {})?;
        Ok(format!(
            "corbaname:{addr}#{}",
            orb::ior::escape(sn.as_bytes())
        ))
    }

    fn resolve_str(&self, n: &str) -> Result<ObjectRef, naming_context_ext::ResolveStrError> {
        let name = orb::ior::parse_string_name(n).map_err(|_| naming_context::InvalidName {})?;
        self.resolve(&name_of(&name)).map_err(|e| match e {
            naming_context::ResolveError::NotFound(x) => x.into(),
            naming_context::ResolveError::CannotProceed(x) => x.into(),
            naming_context::ResolveError::InvalidName(x) => x.into(),
            naming_context::ResolveError::System(x) => x.into(),
        })
    }
}

/// What remains of a `list`.
pub struct IteratorServant {
    rest: Mutex<VecDeque<Binding>>,
    shared: Weak<Shared>,
    id: Mutex<Vec<u8>>,
}

impl IteratorServant {
    fn touch(&self) {
        if let Some(s) = self.shared.upgrade() {
            s.touch_iterator(&self.id.lock());
        }
    }
}

impl BindingIterator for IteratorServant {
    fn next_one(&self) -> Result<(bool, Binding), SystemException> {
        self.touch();
        Ok(match self.rest.lock().pop_front() {
            Some(b) => (true, b),
            None => (false, Binding::default()),
        })
    }

    fn next_n(&self, how_many: u32) -> Result<(bool, BindingList), SystemException> {
        if how_many == 0 {
            // §2.3.2: "next_n with how_many of zero raises BAD_PARAM".
            return Err(SystemException::new(
                SystemExceptionKind::BAD_PARAM,
                0,
                CompletionStatus::No,
            ));
        }
        self.touch();
        let mut rest = self.rest.lock();
        let n = rest.len().min(how_many as usize);
        let list: BindingList = rest.drain(..n).collect();
        Ok((!list.is_empty(), list))
    }

    fn destroy(&self) -> Result<(), SystemException> {
        if let Some(s) = self.shared.upgrade() {
            s.drop_iterator(&self.id.lock());
        }
        Ok(())
    }
}
