//! Collocation: a reference whose object lives in this process's ORB is called without the
//! transport. Whether it does is decided once per reference (and cached in it): the object
//! key must be one of this ORB's (its POA tree's instance id, or a well-known key served at
//! one of its own addresses) and the ORB's strategy must not be
//! [`CollocationStrategy::None`]. However the reference was obtained — `string_to_object`,
//! a naming service, an argument — the same check applies.

use super::{CollocationStrategy, Orb, OrbShared};
use crate::exception::SystemException;
use crate::iop::ProfileId;
use crate::ior::{IiopProfile, UiopProfile};
use crate::object::ObjectRef;
use crate::poa::{Decision, ObjectKeyRef};
use crate::rt::PriorityModel;
use crate::servant::ServantRef;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

/// What a reference remembers about being local.
pub(crate) struct Local {
    orb: Weak<OrbShared>,
    key: Box<[u8]>,
    strategy: CollocationStrategy,
    /// Under ThruPoa, the POA change count ([`crate::poa::changes`]) at the last check that
    /// found the object dispatchable: while the count has not moved, nothing the POA would
    /// say has changed ([`NEVER`] until the first such check).
    verified: AtomicU64,
}

const NEVER: u64 = u64::MAX;

/// The object key of the reference's first IIOP or UIOP profile.
pub(crate) fn object_key(obj: &ObjectRef) -> Option<Vec<u8>> {
    ior_object_key(obj.ior())
}

fn ior_object_key(ior: &crate::iop::Ior) -> Option<Vec<u8>> {
    ior.profiles.iter().find_map(|p| match p.tag {
        ProfileId::INTERNET_IOP => IiopProfile::from_tagged(p).ok().map(|p| p.object_key),
        ProfileId::RTORB_UIOP => UiopProfile::from_tagged(p).ok().map(|p| p.object_key),
        _ => None,
    })
}

/// The ORB of this process that serves the object `ior` designates (its key carries that
/// ORB's POA instance id), if one does and still serves: what a reference taken out of an
/// `any` is tied to, rather than whichever ORB the thread last decoded a reply of.
pub(crate) fn serving_orb(ior: &crate::iop::Ior) -> Option<Weak<OrbShared>> {
    let key = ior_object_key(ior)?;
    let instance = ObjectKeyRef::parse(&key).ok()?.instance_id;
    super::ORBS
        .read()
        .iter()
        .filter_map(Weak::upgrade)
        .find(|o| o.poas.instance_id() == instance && !o.is_shut_down())
        .map(|o| Arc::downgrade(&o))
}

fn local(obj: &ObjectRef) -> Option<&Local> {
    let inner = obj.inner()?;
    inner
        .local
        .get_or_init(|| {
            let orb = Orb::of(obj).ok()?;
            if orb.options.collocation == CollocationStrategy::None {
                return None;
            }
            let key = object_key(obj)?;
            let ours = match ObjectKeyRef::parse(&key) {
                Ok(k) => k.instance_id == orb.poas.instance_id(),
                // Not an rtorb key: a well-known key, ours only if served at our address.
                Err(_) => obj
                    .ior()
                    .profiles
                    .iter()
                    .filter(|p| p.tag == ProfileId::INTERNET_IOP)
                    .filter_map(|p| IiopProfile::from_tagged(p).ok())
                    .any(|p| Orb::is_own_address(&orb, &p.host, p.port)),
            };
            ours.then(|| Local {
                orb: Arc::downgrade(&orb),
                key: key.into_boxed_slice(),
                strategy: orb.options.collocation,
                verified: AtomicU64::new(NEVER),
            })
        })
        .as_ref()
}

/// The servant of a collocated reference (whatever the POA manager's state), if any.
///
/// None for an object whose server declares its RT-CORBA priority (its POA's or its own):
/// its requests run at that priority, which a direct call on the caller's thread, at the
/// caller's, would not; its calls go through the transport to this ORB's own endpoint, where
/// the server runs them at it, in its lane if there are lanes (as TAO's RT collocation
/// resolver does for calls its thread pool's lanes must serve). Under the client-propagated
/// model the caller's thread already runs at the request's priority, and stays collocated.
pub(crate) fn servant(obj: &ObjectRef) -> Option<ServantRef> {
    let l = local(obj)?;
    let orb = l.orb.upgrade()?;
    let target = orb.poas.key_to_servant(&l.key).ok()?;
    if target.priority_model.model == PriorityModel::ServerDeclared {
        return None;
    }
    Some(target.servant)
}

/// Before a collocated call: whether to call the servant directly (`Ok(true)`), or through
/// the transport after all (`Ok(false)`), or the system exception a remote caller would get.
/// Under `Direct`, always directly. Under ThruPoa, what the POA would say to a request for
/// the object: directly when it would dispatch it, through the transport when the object's
/// requests now run at a priority its server declares ([`servant`] gave no servant for such
/// an object, but a reference narrowed before — its POA since destroyed and made again
/// `SERVER_DECLARED`, with the same persistent key — still holds one).
#[inline]
pub(crate) fn check(obj: &ObjectRef) -> Result<bool, SystemException> {
    match local(obj) {
        Some(l) if l.strategy == CollocationStrategy::ThruPoa => thru_poa(l),
        _ => Ok(true),
    }
}

fn thru_poa(l: &Local) -> Result<bool, SystemException> {
    // Read before looking: a change made during the lookup moves the count past this.
    let now = crate::poa::changes();
    // Relaxed: the count's Acquire load orders what the last change did before this.
    if l.verified.load(Ordering::Relaxed) == now {
        return Ok(true);
    }
    let Some(orb) = l.orb.upgrade() else {
        return Err(SystemException::OBJECT_NOT_EXIST);
    };
    match orb.poas.dispatch_decision(&l.key) {
        // Not remembered as verified: each call looks again, and goes through the transport.
        Decision::Dispatch(t) if t.priority_model.model == PriorityModel::ServerDeclared => {
            Ok(false)
        }
        Decision::Dispatch(_) => {
            l.verified.store(now, Ordering::Relaxed);
            Ok(true)
        }
        Decision::Reject(e) => Err(e),
        Decision::Hold => super::server::wait_while_holding(&orb, &l.key).map(|()| true),
    }
}
