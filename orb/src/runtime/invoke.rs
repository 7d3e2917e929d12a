//! The client side of an invocation: choose where the request goes, encode it into a pooled
//! buffer, send it on the cached connection, wait for the reply (the caller reads it itself
//! when no one else is reading), and turn the reply into results or an exception.
//!
//! Failures map to the exceptions CORBA prescribes, with omniORB's minor codes:
//! a connection that cannot be made is `TRANSIENT` (completed NO); one that breaks before the
//! request was wholly sent, or that the server closes with CloseConnection, is retried once
//! on a new connection, then `TRANSIENT`; one that breaks after is `COMM_FAILURE` (MAYBE);
//! no reply within the request timeout is `TIMEOUT` (MAYBE). `LOCATION_FORWARD` moves the
//! reference to the IOR it names (and back to its own IOR if the forwarded one fails).

use super::{Binding, Orb, OrbShared, TAG_RTORB_LITE};
use crate::buffers::{self, Buffer};
use crate::cdr::{ByteOrder, CodeSetId, CodeSets, Decoder, EncodeError, Encoder, GiopVersion};
use crate::exception::{minor, Cause, SystemException, SystemExceptionKind};
use crate::giop::{
    AddressingDisposition, CompletionStatus, Frame, Header, IorAddressingInfo, LocateRequestHeader,
    LocateStatus, MessageWriter, ReplyStatus, RequestHeader, RequestPrefix, ResponseFlags,
    ServiceContexts, TargetAddress,
};
use crate::iop::{ComponentId, Ior, ProfileId, ServiceContext, ServiceId};
use crate::ior::{IiopProfile, UiopProfile};
use crate::object::{ObjectRef, RefInner, Reply};
use crate::rt::{self, PriorityModel, PriorityModelPolicy, RtCurrent};
use crate::transport::{
    ClientConnection, Deadline, Dialect, Endpoint, IdleConnection, TransportError,
};
use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tracing::field::Empty;
use tracing::Instrument;

/// More forwards than this in one call is a loop.
const MAX_FORWARDS: usize = 16;

fn nil_reference() -> SystemException {
    SystemException::new(
        SystemExceptionKind::INV_OBJREF,
        minor::INV_OBJREF_NIL,
        CompletionStatus::No,
    )
}

fn no_usable_profile() -> SystemException {
    SystemException::new(
        SystemExceptionKind::TRANSIENT,
        minor::TRANSIENT_NO_USABLE_PROFILE,
        CompletionStatus::No,
    )
}

fn bad_reply() -> SystemException {
    SystemException::new(
        SystemExceptionKind::MARSHAL,
        minor::MARSHAL_PASS_END_OF_MESSAGE,
        CompletionStatus::Maybe,
    )
}

/// The exception a transport failure on the way to `endpoint` becomes.
fn transport_exception(e: &TransportError, endpoint: &Endpoint) -> SystemException {
    let completed = e.completion();
    let (kind, minor) = match e {
        TransportError::Timeout | TransportError::NotSentInTime => {
            (SystemExceptionKind::TIMEOUT, minor::TIMEOUT_CALL_TIMED_OUT)
        }
        TransportError::Connect { .. } | TransportError::Endpoint(_) => (
            SystemExceptionKind::TRANSIENT,
            minor::TRANSIENT_CONNECT_FAILED,
        ),
        _ if completed == CompletionStatus::No => (
            SystemExceptionKind::TRANSIENT,
            minor::TRANSIENT_CONNECTION_CLOSED,
        ),
        _ => (
            SystemExceptionKind::COMM_FAILURE,
            minor::COMM_FAILURE_WAITING_FOR_REPLY,
        ),
    };
    let cause = match e {
        TransportError::Connect { source, .. } => match source.kind() {
            std::io::ErrorKind::ConnectionRefused => Cause::ConnectionRefused,
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => Cause::ConnectTimedOut,
            _ => Cause::Unknown,
        },
        _ => Cause::Unknown,
    };
    with_peer(
        SystemException::new(kind, minor, completed).with_cause(cause),
        endpoint,
    )
}

/// The exception, saying which peer it concerns when the endpoint has an IP address (a host
/// name is not looked up again on an error path, nor is a Unix socket an address).
fn with_peer(e: SystemException, endpoint: &Endpoint) -> SystemException {
    match endpoint {
        Endpoint::Iiop { host, port } if e.peer().is_none() => {
            match host.parse::<std::net::IpAddr>() {
                Ok(ip) => e.with_peer(std::net::SocketAddr::new(ip, *port)),
                Err(_) => e,
            }
        }
        _ => e,
    }
}

thread_local! {
    /// The timeout of the calls this thread makes inside [`with_call_timeout`].
    static CALL_TIMEOUT: std::cell::Cell<Option<Duration>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with every twoway call it makes from this thread bounded by `timeout` (zero:
/// unbounded), whatever the reference's or the ORB's timeout: a per-call override that needs
/// nothing of the generated stubs. Nested calls restore the outer value.
pub fn with_call_timeout<T>(timeout: Duration, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Duration>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CALL_TIMEOUT.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(CALL_TIMEOUT.with(|c| c.replace(Some(timeout))));
    f()
}

/// When a twoway call's reply must have come: the innermost of [`with_call_timeout`], the
/// reference's own ([`ObjectRef::with_timeout`]) and the ORB's
/// (`-ORBclientCallTimeOutPeriod`); a zero duration at any of these is no deadline.
///
/// The timeout counts from the call's first wait — for a connection, for another writer or
/// room in the socket or ring, for the reply — not from the call's start: a call that does
/// not wait (a oneway that the ring or socket takes at once, a twoway until its reply's wait)
/// reads no clock for it, which was a tenth of a SHMIOP oneway's client-side work. What comes
/// before the first wait is the call's own encoding, microseconds at most; every later wait
/// of the call, retries included, keeps the instant fixed at the first.
fn deadline(orb: &OrbShared, r: &RefInner) -> Deadline {
    deadline_within(orb.options.request_timeout, r)
}

/// [`deadline`], given the ORB's timeout.
fn deadline_within(orb_timeout: Option<Duration>, r: &RefInner) -> Deadline {
    let timeout = CALL_TIMEOUT.with(|c| c.get()).or(r.timeout).or(orb_timeout);
    match timeout {
        Some(t) if !t.is_zero() => Deadline::from_first_wait(t),
        _ => Deadline::none(),
    }
}

/// Chooses where requests for `ior` go, the cheapest way first (the "reflective" choice, made
/// per reference at its first call, and again after a failure to connect):
///
/// 1. shared memory (SHMIOP), when an IIOP profile advertises a SHMIOP listener on this very
///    host (same boot id) and `-ORBshmiop` allows it;
/// 2. a Unix socket (UIOP), when the IOR has a UIOP profile of this host and
///    `-ORBpreferUnix` allows it;
/// 3. the first IIOP profile, over its GIOP-lite listener when both sides enable GIOP-lite.
///
/// The local transports are connected here, and one that cannot be connected (its socket
/// gone, its server refusing) gives way to the next; the connection made is the one the call
/// then uses (the cache keeps it). Objects in this process are called without any of these
/// when the collocation strategy allows (the stubs check that first).
fn bind(orb: &OrbShared, ior: &Ior) -> Result<Binding, SystemException> {
    // When a cheaper local transport was offered and could not be connected.
    let mut passed_over = None;
    let iiop = ior
        .profiles
        .iter()
        .filter(|p| p.tag == ProfileId::INTERNET_IOP)
        .find_map(|p| IiopProfile::from_tagged(p).ok());
    if orb.options.use_shmiop {
        if let Some(profile) = &iiop {
            if let Some(path) = super::shmiop_path(profile) {
                let b = Binding {
                    endpoint: Endpoint::Shmiop { path: path.into() },
                    dialect: Dialect::Giop,
                    key: profile.object_key.clone(),
                    version: iiop_version(orb, profile),
                    codesets: iiop_codesets(profile),
                    server_policy: server_policy(ior),
                    lane_endpoints: Vec::new(),
                    passed_over_local: None,
                };
                if reachable(orb, &b) {
                    return Ok(b);
                }
                passed_over = Some(Instant::now());
            }
        }
    }
    if orb.options.prefer_unix {
        let local = ior
            .profiles
            .iter()
            .filter(|p| p.tag == ProfileId::RTORB_UIOP)
            .filter_map(|p| UiopProfile::from_tagged(p).ok())
            .find(|p| p.host == super::local_host_id());
        if let Some(p) = local {
            let b = Binding {
                endpoint: Endpoint::Uiop {
                    path: p.path.into(),
                },
                dialect: Dialect::Giop,
                key: p.object_key,
                version: GiopVersion::new(1, p.version.minor.min(orb.options.giop_version.minor)),
                codesets: CodeSets::default(),
                server_policy: server_policy(ior),
                lane_endpoints: Vec::new(),
                passed_over_local: passed_over,
            };
            if reachable(orb, &b) || iiop.is_none() {
                return Ok(b);
            }
            passed_over = Some(Instant::now());
        }
    }
    let profile = iiop.ok_or_else(no_usable_profile)?;
    let version = iiop_version(orb, &profile);
    let mut endpoint = Endpoint::Iiop {
        host: profile.host.clone(),
        port: profile.port,
    };
    let mut dialect = Dialect::Giop;
    if orb.options.use_lite {
        if let Some((host, port, order)) = lite_address(&profile) {
            endpoint = Endpoint::Iiop { host, port };
            dialect = Dialect::Lite(order);
        }
    }
    let codesets = iiop_codesets(&profile);
    let server_policy = profile
        .component(ComponentId::POLICIES)
        .and_then(|c| PriorityModelPolicy::from_component_data(&c.data));
    // Kept for a GIOP-lite binding too: its banded calls go to the lanes' endpoints in
    // plain GIOP, with the priority context (see `connection`). Rather than a GIOP-lite
    // listener per lane: that gives a lite client of a band its lane with nothing new on
    // either side (no second listener and address per lane, no new component, no server
    // change), and the servant sees the call's own priority, where a lite request could only
    // get the lane's from its connection. The cost: GIOP's longer header on those calls.
    let lane_endpoints = profile
        .component(ComponentId::RTORB_LANES)
        .and_then(|c| rt::lane_endpoints::lane_endpoints_from_component_data(&c.data))
        .unwrap_or_default()
        .into_iter()
        .map(|l| {
            let endpoint = Endpoint::Iiop {
                host: l.host,
                port: l.port,
            };
            (l.priority, endpoint)
        })
        .collect();
    Ok(Binding {
        endpoint,
        dialect,
        key: profile.object_key,
        version,
        codesets,
        server_policy,
        lane_endpoints,
        passed_over_local: passed_over,
    })
}

/// Whether `b` was chosen because a cheaper local transport could not be connected (a
/// SHMIOP or UIOP listener not there yet, or briefly unreachable) long enough ago to choose
/// again: as long as the connection cache passes over a lane endpoint that did not connect.
/// Until then its calls go the way that works at once, without a failed connect each.
fn time_to_choose_again(b: &Binding) -> bool {
    b.passed_over_local
        .is_some_and(|at| at.elapsed() >= crate::transport::RETRY_PASSED_OVER_AFTER)
}

/// The RT-CORBA priority model the IOR's (first IIOP profile's) `TAG_POLICIES` declares.
fn server_policy(ior: &Ior) -> Option<PriorityModelPolicy> {
    ior.profiles
        .iter()
        .filter(|p| p.tag == ProfileId::INTERNET_IOP)
        .find_map(|p| IiopProfile::from_tagged(p).ok())?
        .component(ComponentId::POLICIES)
        .and_then(|c| PriorityModelPolicy::from_component_data(&c.data))
}

/// The priority a request's `RTCorbaPriority` context carries: the calling thread's, unless
/// the server declares it runs requests at its own (then the context would be ignored).
/// Servers without RT-CORBA ignore it, as GIOP has them ignore contexts they do not know.
fn context_priority(b: &Binding) -> Option<rt::Priority> {
    let p = RtCurrent::the_priority()?;
    let declared = b
        .server_policy
        .is_some_and(|s| s.model == PriorityModel::ServerDeclared);
    (!declared).then_some(p)
}

/// The priority a call to `b` runs at on its server, as far as the client knows: the one
/// the reference declares (SERVER_DECLARED: the object's, whatever the calling thread's),
/// else the calling thread's. It chooses the call's band and lane endpoint.
fn call_priority(b: &Binding) -> Option<rt::Priority> {
    match b.server_policy {
        Some(s) if s.model == PriorityModel::ServerDeclared => Some(s.server_priority),
        _ => RtCurrent::the_priority(),
    }
}

/// The index of the priority band the calls at priority `p` go in, if the ORB has bands and
/// `p` is in one (a priority outside every band uses the ordinary shared connection).
fn priority_band(orb: &OrbShared, p: Option<rt::Priority>) -> Option<u16> {
    let bands = &orb.options.priority_bands;
    if bands.is_empty() {
        return None;
    }
    let p = p?;
    bands
        .iter()
        .position(|band| band.contains(p))
        .and_then(|i| u16::try_from(i).ok())
}

/// Whether a local transport's connection can be had now (made and cached, for the call
/// that follows, or found in the cache); if not, says why in the trace and the next
/// transport is tried.
fn reachable(orb: &OrbShared, b: &Binding) -> bool {
    match orb.cache.get(&b.endpoint, b.dialect) {
        Ok(_) => true,
        Err(e) => {
            tracing::debug!(target: "orb::connection", endpoint = %b.endpoint, error = %e,
                "local transport not reachable: trying the next");
            false
        }
    }
}

/// The GIOP version requests to an IIOP profile's server use: the lower of its and ours.
fn iiop_version(orb: &OrbShared, profile: &IiopProfile) -> GiopVersion {
    let version = if profile.version.minor < orb.options.giop_version.minor {
        profile.version
    } else {
        orb.options.giop_version
    };
    GiopVersion::new(1, version.minor.min(2))
}

/// The code sets to transmit in, from the profile's `TAG_CODE_SETS`.
fn iiop_codesets(profile: &IiopProfile) -> CodeSets {
    let char_set = match profile.code_sets() {
        Some(cs) if cs.for_char_data.native_code_set == CodeSetId::UTF_8 => CodeSetId::UTF_8,
        _ => CodeSetId::ISO_8859_1,
    };
    CodeSets {
        char: char_set,
        wchar: CodeSetId::UTF_16,
    }
}

/// The first GIOP-lite listener a profile of an rtorb server advertises, with the byte
/// order it speaks (that of the component's encapsulation).
fn lite_address(profile: &IiopProfile) -> Option<(String, u16, ByteOrder)> {
    let c = profile.component(TAG_RTORB_LITE)?;
    let order = ByteOrder::from_flag(*c.data.first()? & 1);
    let mut dec = Decoder::new_at(&c.data, 1, order);
    let n = dec.read_seq_len(6).ok()?;
    if n == 0 {
        return None;
    }
    let host = dec.read_string().ok()?.into_owned();
    let port = dec.read_ushort().ok()?;
    Some((host, port, order))
}

/// The binding requests use now, made from the IOR at the first call, with the shared
/// connection its calls last went on if `orb`'s cache gave it and still has it (whether it is
/// usable is for [`connection`] to see, outside the reference's lock).
///
/// From this thread's memo of the reference's binding when it is still good (the
/// reference's generation unchanged), without the reference's lock: a oneway's client-side
/// work is mostly locked read-modify-writes, and the lock was two of them per call. The memo
/// is lent for the call (an `Rc`, counted without a locked instruction), not the binding
/// cloned out of it (a locked increment, and a locked decrement at the call's end); the
/// thread's memos are not borrowed meanwhile, so that a call made during this one (from its
/// arguments' encoding, say) finds and replaces them as ever. Else under the lock, and
/// memo'd for the thread's next calls.
fn current_binding(orb: &OrbShared, r: &Arc<RefInner>) -> Result<Bound, SystemException> {
    if let Some(m) = memo_of(r) {
        if !time_to_choose_again(&m.b) {
            return Ok(Bound {
                recalled: orb.cache.recall(&m.conn),
                b: Lent::Memo(m),
            });
        }
    }
    let mut slot = r.binding.lock();
    let b = match &slot.binding {
        Some(b) if !time_to_choose_again(b) => b.clone(),
        _ => {
            let fresh = Arc::new(bind(orb, &r.ior)?);
            *slot = crate::object::Bound::new(Some(fresh.clone()));
            r.generation.fetch_add(1, Ordering::AcqRel);
            fresh
        }
    };
    let recalled = orb.cache.recall(&slot.conn);
    // Oneways may be sent on the memo alone when the ORB is the reference's own (the one
    // each of its calls goes through), its calls go the way `oneway_on_memo` takes, and its
    // cache gave the remembered connection.
    let own = r
        .orb
        .as_ref()
        .is_some_and(|o| std::ptr::eq(Weak::as_ptr(o), orb));
    let quick = (own && orb.oneways.is_none() && orb.options.priority_bands.is_empty())
        .then(|| orb.cache.remembered(&slot.conn))
        .flatten()
        .map(|conn| Quick {
            conn,
            timeout: orb.options.request_timeout,
            request: RequestOptions::of(orb),
        });
    let m = Memo {
        r: Arc::downgrade(r),
        generation: r.generation.load(Ordering::Acquire),
        b: b.clone(),
        conn: slot.conn.clone(),
        quick,
    };
    drop(slot);
    let _ = MEMOS.try_with(|memos| {
        if let Ok(mut memos) = memos.try_borrow_mut() {
            memos[memo_index(Arc::as_ptr(r))] = Some(Rc::new(m));
        }
    });
    Ok(Bound {
        b: Lent::Own(b),
        recalled,
    })
}

/// This thread's memo of `r`'s binding, if it is still good (the reference's generation
/// unchanged since it was made).
fn memo_of(r: &Arc<RefInner>) -> Option<Rc<Memo>> {
    let memo = |memos: &RefCell<[Option<Rc<Memo>>; MEMO_SLOTS]>| {
        let memos = memos.try_borrow().ok()?;
        let m = memos[memo_index(Arc::as_ptr(r))].as_ref()?;
        // The memo holds the reference weakly: its address cannot be another's meanwhile.
        let good = Weak::as_ptr(&m.r) == Arc::as_ptr(r)
            && m.generation == r.generation.load(Ordering::Acquire);
        good.then(|| m.clone())
    };
    MEMOS.try_with(memo).ok().flatten()
}

/// A thread's memo of a reference's binding and the binding's remembered connection, as
/// they were at the reference's `generation`.
struct Memo {
    /// Weak: a memo keeps no reference alive (only its allocation, so that its address is
    /// not taken by another while the memo names it).
    r: Weak<RefInner>,
    generation: u64,
    b: Arc<Binding>,
    /// Weak too (see [`crate::transport::Remembered`]): a memo keeps no connection alive.
    conn: crate::transport::Remembered,
    /// What a oneway sent on the memo alone needs, if it may be ([`oneway_on_memo`]).
    quick: Option<Quick>,
}

/// What [`oneway_on_memo`] needs of the reference's ORB, copied when the memo was made (an
/// ORB's options never change), and the remembered connection, which that ORB's cache gave.
struct Quick {
    /// Weak: see [`Memo::conn`].
    conn: Weak<ClientConnection>,
    /// The ORB's `-ORBclientCallTimeOutPeriod`.
    timeout: Option<Duration>,
    request: RequestOptions,
}

/// How many references a thread keeps memos of (by address, one per slot): a few, so that a
/// thread calling two or three references in turn finds each still there.
const MEMO_SLOTS: usize = 4;

thread_local! {
    static MEMOS: RefCell<[Option<Rc<Memo>>; MEMO_SLOTS]> =
        const { RefCell::new([const { None }; MEMO_SLOTS]) };
}

/// The memo slot of the reference at `r`.
fn memo_index(r: *const RefInner) -> usize {
    // Allocations are at least 8-aligned; the bits above spread references over the slots.
    (r as usize >> 4) % MEMO_SLOTS
}

/// A call's binding: lent by the thread's memo, or the call's own (taken under the
/// reference's lock).
enum Lent {
    Memo(Rc<Memo>),
    Own(Arc<Binding>),
}

impl std::ops::Deref for Lent {
    type Target = Arc<Binding>;
    fn deref(&self) -> &Arc<Binding> {
        match self {
            Lent::Memo(m) => &m.b,
            Lent::Own(b) => b,
        }
    }
}

/// A call's binding, as [`current_binding`] found it.
struct Bound {
    b: Lent,
    /// The binding's shared connection as the last call left it (maybe broken since).
    recalled: Option<Arc<ClientConnection>>,
}

/// Sets (or clears) `r`'s binding, forgetting the connection the old one's calls went on.
fn rebind(r: &RefInner, b: Option<Arc<Binding>>) {
    let mut slot = r.binding.lock();
    *slot = crate::object::Bound::new(b);
    r.generation.fetch_add(1, Ordering::AcqRel);
}

/// Remembers `conn`, the shared connection `orb`'s cache just gave a call to `b`, for the
/// next calls of `r` — unless `r` was bound elsewhere meanwhile.
fn remember(orb: &OrbShared, r: &RefInner, b: &Arc<Binding>, conn: &Arc<ClientConnection>) {
    let mut slot = r.binding.lock();
    if slot.binding.as_ref().is_some_and(|cur| Arc::ptr_eq(cur, b)) {
        slot.conn = orb.cache.remember(conn);
        r.generation.fetch_add(1, Ordering::AcqRel);
    }
}

/// How to name the target in a request (a server may ask for another form).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Addressing {
    Key,
    Profile,
    Reference,
}

fn target<'a>(
    r: &'a RefInner,
    b: &'a Binding,
    addressing: Addressing,
) -> Result<TargetAddress<'a>, SystemException> {
    Ok(match addressing {
        Addressing::Key => TargetAddress::KeyAddr(&b.key),
        Addressing::Profile | Addressing::Reference => {
            let index = r
                .ior
                .profiles
                .iter()
                .position(|p| p.tag == ProfileId::INTERNET_IOP)
                .ok_or_else(no_usable_profile)?;
            if addressing == Addressing::Profile {
                TargetAddress::ProfileAddr(r.ior.profiles[index].clone())
            } else {
                TargetAddress::ReferenceAddr(IorAddressingInfo {
                    selected_profile_index: index as u32,
                    ior: r.ior.clone(),
                })
            }
        }
    })
}

/// The data of a `CodeSets` context announcing `cs` (a CDR encapsulation), written into
/// `buf`'s capacity.
fn codesets_context_data(cs: CodeSets, buf: Vec<u8>) -> Vec<u8> {
    let mut enc = Encoder::with_buffer(buf, ByteOrder::NATIVE);
    enc.write_octet(ByteOrder::NATIVE.flag());
    enc.write_ulong(cs.char.0);
    enc.write_ulong(cs.wchar.0);
    enc.into_vec()
}

thread_local! {
    /// The service contexts of the last request this thread encoded, kept so that the next
    /// one writes into their buffers: a warmed-up call with contexts (an RT-CORBA priority,
    /// say) allocates none for them.
    static REQUEST_CONTEXTS: RefCell<Vec<ServiceContext>> = const { RefCell::new(Vec::new()) };
}

/// Makes `contexts` the service contexts of a request to `b` in `dialect`, reusing the
/// buffers of those already there.
fn fill_request_contexts(
    contexts: &mut Vec<ServiceContext>,
    b: &Binding,
    dialect: Dialect,
    first_on_connection: bool,
) {
    let mut n = 0;
    let mut set = |id: ServiceId, data: &dyn Fn(Vec<u8>) -> Vec<u8>| {
        if contexts.len() == n {
            contexts.push(ServiceContext {
                id,
                data: Vec::new(),
            });
        }
        let c = &mut contexts[n];
        c.id = id;
        c.data = data(std::mem::take(&mut c.data));
        n += 1;
    };
    // GIOP-lite has no service contexts.
    if !dialect.is_lite() {
        if first_on_connection && b.version.minor > 0 {
            set(ServiceId::CODE_SETS, &|buf| {
                codesets_context_data(b.codesets, buf)
            });
        }
        if let Some(p) = context_priority(b) {
            set(ServiceId::RT_CORBA_PRIORITY, &|buf| {
                rt::priority_context_data(p, buf)
            });
        }
    }
    contexts.truncate(n);
}

/// The header of the last request a thread wrote with no service contexts, to its binding's
/// own key ([`RequestPrefix`]): the next one of the same operation to the same binding copies
/// it and writes its request id, instead of writing the header field by field (about a
/// quarter of a SHMIOP oneway's client-side work). A binding's version, dialect, code sets
/// and key never change, so its identity and the operation say what the header holds.
struct KeptRequest {
    /// Weak: keeps no binding alive, only its allocation, so that no other binding can have
    /// its address while it is kept.
    binding: Weak<Binding>,
    operation: String,
    response_expected: bool,
    prefix: RequestPrefix,
}

impl KeptRequest {
    fn is(&self, b: &Arc<Binding>, operation: &str, response_expected: bool) -> bool {
        Weak::as_ptr(&self.binding) == Arc::as_ptr(b)
            && self.response_expected == response_expected
            && self.operation == operation
    }

    /// Keeps the header `w` started with (written for `b`, `operation` and
    /// `response_expected`), reusing the buffers of the one kept before.
    fn keep(
        &mut self,
        w: &MessageWriter,
        b: &Arc<Binding>,
        operation: &str,
        response_expected: bool,
    ) {
        // A header that cannot be kept names no binding (`Weak::new` is no binding's
        // address), so that no request matches it.
        if !w.keep_request_prefix(&mut self.prefix) {
            self.binding = Weak::new();
        } else if Weak::as_ptr(&self.binding) != Arc::as_ptr(b) {
            // Named again only for another binding: a thread alternating operations on one
            // binding keeps its `Weak` (a new one and the old one's release were two locked
            // read-modify-writes per switch).
            self.binding = Arc::downgrade(b);
        }
        self.operation.clear();
        self.operation.push_str(operation);
        self.response_expected = response_expected;
    }
}

thread_local! {
    static KEPT_REQUEST: RefCell<KeptRequest> = RefCell::new(KeptRequest {
        binding: Weak::new(),
        operation: String::new(),
        response_expected: false,
        prefix: RequestPrefix::default(),
    });
}

/// What encoding a request needs of its ORB's options, copied out of them (a thread's memo
/// of a reference keeps it: see [`oneway_on_memo`]).
#[derive(Clone, Copy)]
struct RequestOptions {
    allocator: buffers::AllocatorStrategy,
    fragment_size: Option<usize>,
    max_message_size: usize,
}

impl RequestOptions {
    fn of(orb: &OrbShared) -> RequestOptions {
        RequestOptions {
            allocator: orb.options.allocator,
            fragment_size: orb.options.fragment_size,
            max_message_size: orb.options.max_message_size,
        }
    }
}

/// Encodes a Request into a pooled buffer, in `dialect`: the connection's, which is not the
/// binding's for a GIOP-lite client's call on a lane's endpoint (plain GIOP).
#[allow(clippy::too_many_arguments)]
fn encode_request(
    opts: &RequestOptions,
    b: &Arc<Binding>,
    dialect: Dialect,
    request_id: u32,
    target: TargetAddress<'_>,
    operation: &str,
    response_expected: bool,
    first_on_connection: bool,
    args: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>,
) -> Result<Vec<u8>, SystemException> {
    // The usual request — plain GIOP, to the binding's own key, with no service context —
    // of the operation whose header the thread kept: started from that header before
    // anything else is made (the header, the contexts' list), which was most of the
    // encoding's time, in moves of those large values. The rest of the request's encoding
    // is the same either way.
    let usual = dialect == Dialect::Giop
        && matches!(&target, TargetAddress::KeyAddr(k) if std::ptr::eq(*k, b.key.as_slice()))
        && !(first_on_connection && b.version.minor > 0)
        && context_priority(b).is_none();
    let from_kept = |k: &RefCell<KeptRequest>| {
        // Borrowed only to copy the header out: the arguments, written after, may be written
        // by code that makes a call of its own. (The message is finished here, not the
        // writer moved out: a move of the writer was a fair part of the encoding.)
        let k = k.try_borrow().ok()?;
        if !k.is(b, operation, response_expected) {
            return None;
        }
        let buf = buffers::take(opts.allocator);
        if opts.fragment_size.is_some() {
            let w = k.prefix.start(buf, request_id);
            drop(k);
            return Some(write_request_body(opts, b, w, args));
        }
        // A request sent whole (nearly all) from the smaller writer made for that.
        let mut w = k.prefix.start_whole(buf, request_id);
        drop(k);
        Some(write_args(b, w.body(), args).and_then(|()| w.finish().map_err(marshal_failed)))
    };
    let kept = usual
        .then(|| KEPT_REQUEST.try_with(from_kept).ok().flatten())
        .flatten();
    let message = match kept {
        Some(message) => message?,
        None => encode_request_anew(
            opts,
            b,
            dialect,
            request_id,
            target,
            operation,
            response_expected,
            first_on_connection,
            args,
        )?,
    };
    if message.len() > opts.max_message_size {
        return Err(SystemException::new(
            SystemExceptionKind::MARSHAL,
            minor::MARSHAL_MESSAGE_SIZE_EXCEED_LIMIT_ON_CLIENT,
            CompletionStatus::No,
        ));
    }
    Ok(message)
}

fn marshal_failed(_: crate::giop::GiopEncodeError) -> SystemException {
    SystemException::new(SystemExceptionKind::MARSHAL, 0, CompletionStatus::No)
}

/// Writes a request's arguments after the header `w` holds, and finishes the message.
fn write_request_body(
    opts: &RequestOptions,
    b: &Binding,
    mut w: MessageWriter,
    args: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>,
) -> Result<Vec<u8>, SystemException> {
    super::fragment_if_configured(&mut w, opts.fragment_size);
    write_args(b, w.body(), args)?;
    w.finish().map_err(marshal_failed)
}

/// Writes a request's arguments into its body's encoder.
fn write_args(
    b: &Binding,
    body: &mut Encoder,
    args: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>,
) -> Result<(), SystemException> {
    body.set_codesets(b.codesets);
    args(body).map_err(|e| match e {
        // CORBA 3.0 §15.3.1.6: GIOP 1.0 has no wchar encoding; the client refuses, as
        // omniORB's does, with the minor code that says the client was the one to refuse.
        EncodeError::WideCharInGiop10 => SystemException::new(
            SystemExceptionKind::MARSHAL,
            minor::MARSHAL_WCHAR_SENT_BY_GIOP_1_0_CLIENT,
            CompletionStatus::No,
        ),
        e => SystemException::from(e),
    })
}

/// [`encode_request`] of a request the thread's kept header is not for: its header written
/// field by field (and kept, if it is of the usual kind).
#[allow(clippy::too_many_arguments)]
fn encode_request_anew(
    opts: &RequestOptions,
    b: &Arc<Binding>,
    dialect: Dialect,
    request_id: u32,
    target: TargetAddress<'_>,
    operation: &str,
    response_expected: bool,
    first_on_connection: bool,
    args: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>,
) -> Result<Vec<u8>, SystemException> {
    // The whole message is written where its header's contexts are lent, and only the
    // finished octets come out: moving the writer out instead (an encoder and its
    // bookkeeping) was a copy per request.
    let write_message = |contexts: &mut Vec<ServiceContext>| {
        fill_request_contexts(contexts, b, dialect, first_on_connection);
        // A GIOP request without contexts, naming the binding's own key: one whose header
        // the thread may keep.
        let keepable = dialect == Dialect::Giop
            && contexts.is_empty()
            && matches!(&target, TargetAddress::KeyAddr(k) if std::ptr::eq(*k, b.key.as_slice()));
        let header = Header::Request(RequestHeader {
            request_id,
            response_flags: ResponseFlags::from_response_expected(response_expected),
            target,
            operation: Cow::Borrowed(operation),
            service_context: ServiceContexts::from_slice(contexts),
            requesting_principal: &[],
        });
        let buf = buffers::take(opts.allocator);
        let w = match dialect {
            Dialect::Giop => MessageWriter::with_buffer(buf, b.version, ByteOrder::NATIVE, &header),
            Dialect::Lite(order) => MessageWriter::lite_with_buffer(buf, order, &header),
        }
        .map_err(marshal_failed)?;
        if keepable {
            // (The kept header is borrowed only to be copied out or replaced, never while
            // arguments are written: this finds it free.)
            let _ = KEPT_REQUEST.try_with(|k| {
                if let Ok(mut k) = k.try_borrow_mut() {
                    k.keep(&w, b, operation, response_expected);
                }
            });
        }
        write_request_body(opts, b, w, args)
    };
    // The thread's kept contexts are lent while the request is written; should that ever be
    // from inside another request's encoding, a list of its own does.
    REQUEST_CONTEXTS.with(|kept| match kept.try_borrow_mut() {
        Ok(mut contexts) => write_message(&mut contexts),
        Err(_) => write_message(&mut Vec::new()),
    })
}

/// What one attempt came to.
enum Attempt {
    Done(Reply),
    /// LOCATION_FORWARD / OBJECT_FORWARD: go there instead.
    Forward(Ior),
    /// NEEDS_ADDRESSING_MODE: say the target this way.
    Readdress(Addressing),
    /// The server does not know the object (LocateReply UNKNOWN_OBJECT).
    Unknown,
}

/// The connection a request goes on.
enum Conn {
    /// The endpoint's shared connection.
    Shared(Arc<ClientConnection>),
    /// One the caller has to itself, with nothing else in the server's hands.
    Idle(IdleConnection),
}

impl std::ops::Deref for Conn {
    type Target = Arc<ClientConnection>;
    fn deref(&self) -> &Arc<ClientConnection> {
        match self {
            Conn::Shared(c) => c,
            Conn::Idle(c) => c,
        }
    }
}

/// A call made while this thread serves a request (a callback, a call to another object
/// of this or another ORB of the process) goes on an idle connection: on the shared one it
/// could wait behind the very request it serves, or one that waits for it — the server
/// runs one connection's requests in order — and deadlock. So do the calls of a thread that
/// asked for it (`use_idle_connections`). Other calls share a connection.
///
/// A call in one of the ORB's priority bands goes on a connection of its band (shared, or
/// idle as above: an idle connection of its band) to the endpoint of the lane that serves
/// its priority, whose threads run the request as they read it; failing that, to the
/// server's own address. A nested call (in an upcall, at the priority of the request it
/// serves) takes that way too, so a chain of calls through lanes of several servers stays
/// in each server's lane of its priority.
///
/// A connect is bounded by the call's `deadline` too; one that gives up there is the call
/// timing out (TIMEOUT, COMPLETED_NO: nothing was sent), not a server refusing it.
///
/// The shared connection of a call outside every band is the one `recalled` names when it
/// is still usable — as the cache would find it, without the cache's lock and lookup —
/// else the cache's (connecting or replacing a broken one as ever), remembered in `r` for
/// the next calls.
fn connection(
    orb: &OrbShared,
    r: &RefInner,
    b: &Arc<Binding>,
    recalled: Option<Arc<ClientConnection>>,
    deadline: &Deadline,
) -> Result<Conn, SystemException> {
    let idle = super::wants_idle_connection();
    let priority = call_priority(b);
    // Asked of the cache only where it may connect (the connect being the call's first
    // wait): not of a recalled connection.
    let deadline_now = || deadline.instant();
    let conn = match priority_band(orb, priority) {
        None if idle => orb
            .cache
            .get_idle_within(&b.endpoint, b.dialect, deadline_now())
            .map(Conn::Idle),
        None => match recalled.filter(|c| orb.cache.recalled_usable(c)) {
            Some(c) => Ok(Conn::Shared(c)),
            None => orb
                .cache
                .get_within(&b.endpoint, b.dialect, deadline_now())
                .map(|c| {
                    remember(orb, r, b, &c);
                    Conn::Shared(c)
                }),
        },
        Some(band) => {
            let banded = |endpoint: &Endpoint, dialect: Dialect| {
                if idle {
                    orb.cache
                        .get_idle_banded_within(endpoint, dialect, band, deadline_now())
                        .map(Conn::Idle)
                } else {
                    orb.cache
                        .get_banded_within(endpoint, dialect, band, deadline_now())
                        .map(Conn::Shared)
                }
            };
            let lane = priority.and_then(|p| rt::serving_lane(&b.lane_endpoints, |(lp, _)| *lp, p));
            // The lanes' endpoints speak plain GIOP, whatever the binding's dialect: a
            // GIOP-lite client's banded calls go there in GIOP, with the priority context.
            let via_lane = lane.and_then(|i| {
                let endpoint = &b.lane_endpoints[i].1;
                orb.cache
                    .unless_passed_over(endpoint, || banded(endpoint, Dialect::Giop))
            });
            match via_lane {
                Some(c) => Ok(c),
                None => banded(&b.endpoint, b.dialect),
            }
        }
    };
    conn.map_err(|e| {
        let timed_out = matches!(&e, TransportError::Connect { source, .. }
            if matches!(source.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock));
        // The deadline, not the connect timeout, ended the connect if it has passed: a
        // connect bounded by the connect timeout ends before the deadline, one bounded by
        // the deadline at it or after. (Looked at here, not before: the usual call finds its
        // connection in the cache and should not pay a clock read for this.)
        let bounded_by_deadline = deadline.has_passed();
        if timed_out && bounded_by_deadline {
            with_peer(
                SystemException::new(
                    SystemExceptionKind::TIMEOUT,
                    minor::TIMEOUT_CALL_TIMED_OUT,
                    CompletionStatus::No,
                ),
                &b.endpoint,
            )
        } else {
            transport_exception(&e, &b.endpoint)
        }
    })
}

/// The connection a oneway goes on: as any call's, except that a thread that takes idle
/// connections sends it after the oneways to the same object that may still be with the
/// server, on their connection, so that it cannot overtake them
/// ([`crate::transport::ConnectionCache::oneway_route`]).
fn oneway_connection(
    orb: &OrbShared,
    r: &RefInner,
    b: &Arc<Binding>,
    recalled: Option<Arc<ClientConnection>>,
    deadline: &Deadline,
) -> Result<Conn, SystemException> {
    if !super::wants_idle_connection() {
        return connection(orb, r, b, recalled, deadline);
    }
    // Routes are per band too: a band's oneways stay on its connections.
    let band = priority_band(orb, call_priority(b));
    let cache = &orb.cache;
    if let Some(c) = cache.oneway_route(&b.endpoint, b.dialect, band, &b.key) {
        return Ok(Conn::Shared(c));
    }
    if let Some(c) = cache.crowded_route(&b.endpoint, b.dialect, band) {
        cache.set_oneway_route(&b.endpoint, b.dialect, band, &b.key, &c);
        return Ok(Conn::Shared(c));
    }
    let conn = connection(orb, r, b, None, deadline)?;
    cache.set_oneway_route(&b.endpoint, b.dialect, band, &b.key, &conn);
    Ok(conn)
}

#[allow(clippy::too_many_arguments)]
fn attempt(
    orb: &OrbShared,
    r: &RefInner,
    b: &Arc<Binding>,
    recalled: Option<Arc<ClientConnection>>,
    addressing: Addressing,
    deadline: &Deadline,
    operation: &str,
    args: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>,
) -> Result<Attempt, (SystemException, bool)> {
    let (conn, id, request) = prepare(orb, r, b, recalled, addressing, deadline, operation, args)?;
    let result = conn.call_bounded(id, &request, deadline);
    buffers::give(orb.options.allocator, request);
    received(orb, b, &conn, result)
}

/// An attempt's first half: the connection, the request id and the encoded request, with
/// the oneways batched before it written first.
#[allow(clippy::too_many_arguments)]
fn prepare(
    orb: &OrbShared,
    r: &RefInner,
    b: &Arc<Binding>,
    recalled: Option<Arc<ClientConnection>>,
    addressing: Addressing,
    deadline: &Deadline,
    operation: &str,
    args: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>,
) -> Result<(Conn, u32, Vec<u8>), (SystemException, bool)> {
    let no_retry = |e| (e, false);
    let conn = connection(orb, r, b, recalled, deadline).map_err(no_retry)?;
    let id = conn.next_request_id();
    record_binding(b, &conn, id);
    let target = target(r, b, addressing).map_err(no_retry)?;
    let first = conn.claim_first_request();
    let request = encode_request(
        &RequestOptions::of(orb),
        b,
        conn.dialect(),
        id,
        target,
        operation,
        true,
        first,
        args,
    )
    .map_err(no_retry)?;
    flush_oneways(orb, &conn);
    tracing::trace!(target: "orb::giop", request_id = id, octets = request.len(), "sending request");
    Ok((conn, id, request))
}

/// An attempt's second half: what the transport gave back, as an answer or an exception
/// (retryable when the request cannot have run).
fn received(
    orb: &OrbShared,
    b: &Binding,
    conn: &Conn,
    result: Result<Frame, TransportError>,
) -> Result<Attempt, (SystemException, bool)> {
    let frame = result.map_err(|e| {
        if matches!(e, TransportError::Closed { .. }) {
            orb.cache.discard(conn);
        }
        (transport_exception(&e, &b.endpoint), e.is_retryable())
    })?;
    read_reply(frame, b.codesets).map_err(|e| (e, false))
}

fn read_reply(frame: Frame, codesets: CodeSets) -> Result<Attempt, SystemException> {
    let msg = frame.decode().map_err(|_| bad_reply())?;
    let (status, body_offset, order, version) = match msg.header() {
        Header::Reply(h) => (
            h.reply_status,
            msg.body_offset(),
            msg.order(),
            msg.version(),
        ),
        _ => return Err(bad_reply()),
    };
    match status {
        ReplyStatus::NoException | ReplyStatus::UserException => {}
        ReplyStatus::SystemException => {
            let body = msg.system_exception().map_err(|_| bad_reply())?;
            return Err(SystemException::from(body));
        }
        ReplyStatus::LocationForward | ReplyStatus::LocationForwardPerm => {
            return Ok(Attempt::Forward(
                msg.forward_ior().map_err(|_| bad_reply())?,
            ));
        }
        ReplyStatus::NeedsAddressingMode => {
            return Ok(Attempt::Readdress(readdress(
                msg.addressing_disposition().map_err(|_| bad_reply())?,
            )?));
        }
    }
    drop(msg);
    let (message, fragment_starts) = frame.into_parts();
    Ok(Attempt::Done(Reply {
        // Back to the pool when the caller drops the reply.
        message,
        fragment_starts,
        body_offset,
        order,
        version,
        codesets,
        user_exception: status == ReplyStatus::UserException,
    }))
}

fn readdress(d: AddressingDisposition) -> Result<Addressing, SystemException> {
    match d {
        AddressingDisposition::KEY_ADDR => Ok(Addressing::Key),
        AddressingDisposition::PROFILE_ADDR => Ok(Addressing::Profile),
        AddressingDisposition::REFERENCE_ADDR => Ok(Addressing::Reference),
        _ => Err(bad_reply()),
    }
}

/// With oneway batching, writes the oneways buffered for `conn` ahead of a request whose
/// reply is awaited, so that the server reads them first. A failed write shows in the call.
fn flush_oneways(orb: &OrbShared, conn: &Arc<ClientConnection>) {
    if let Some(b) = &orb.oneways {
        let _ = b.flush(conn);
    }
}

/// What follows an attempt: the retry policy shared by the blocking and the asynchronous
/// calls — follow forwards, change the addressing mode when asked, retry once when a
/// connection failed before the request could run.
struct Retries {
    /// When the call's reply must have come: every attempt's, connect included, so that a
    /// retry does not start the timeout over (fixed at the call's first wait).
    deadline: Deadline,
    forwards: usize,
    retried: bool,
    addressing: Addressing,
    readdressed: bool,
}

impl Retries {
    fn new(deadline: Deadline) -> Retries {
        Retries {
            deadline,
            forwards: 0,
            retried: false,
            addressing: Addressing::Key,
            readdressed: false,
        }
    }

    /// `Ok(Some(a))`: the attempt's final answer; `Ok(None)`: attempt again (the reference
    /// rebound as needed); `Err`: the call fails.
    fn after(
        &mut self,
        orb: &OrbShared,
        r: &RefInner,
        b: &Binding,
        outcome: Result<Attempt, (SystemException, bool)>,
    ) -> Result<Option<Attempt>, SystemException> {
        match outcome {
            Ok(Attempt::Forward(ior)) => {
                self.forwards += 1;
                if self.forwards > MAX_FORWARDS || ior.is_nil() {
                    return Err(SystemException::new(
                        SystemExceptionKind::TRANSIENT,
                        minor::TRANSIENT_FAILED_ON_FORWARDED,
                        CompletionStatus::No,
                    ));
                }
                let mut forwarded = bind(orb, &ior)?;
                // Chosen again only from the reference's own IOR, which would undo the
                // forward: a forwarded binding keeps its transport.
                forwarded.passed_over_local = None;
                rebind(r, Some(Arc::new(forwarded)));
                Ok(None)
            }
            Ok(Attempt::Readdress(a)) if !self.readdressed => {
                self.readdressed = true;
                self.addressing = a;
                Ok(None)
            }
            Ok(Attempt::Readdress(_)) => Err(bad_reply()),
            Ok(other) => Ok(Some(other)),
            Err((e, retryable)) => {
                let forwarded = self.forwards > 0;
                if forwarded && e.completed == CompletionStatus::No {
                    // §15.4.4: a forwarded location that fails sends the client back to
                    // the original one.
                    rebind(r, None);
                    self.forwards = MAX_FORWARDS;
                    return Ok(None);
                }
                let expired = self.deadline.has_passed();
                if retryable && !self.retried && !expired {
                    self.retried = true;
                    if matches!(b.endpoint, Endpoint::Shmiop { .. } | Endpoint::Uiop { .. }) {
                        // A local transport that failed: choose again, so that one which
                        // cannot be connected any more gives way to the next.
                        rebind(r, None);
                    }
                    return Ok(None);
                }
                Err(with_peer(e, &b.endpoint))
            }
        }
    }
}

/// Runs attempts until one gives an answer ([`Retries`]), which `done` turns into the result.
fn run<T>(
    obj: &ObjectRef,
    mut once: impl FnMut(
        &OrbShared,
        &RefInner,
        &Arc<Binding>,
        Option<Arc<ClientConnection>>,
        Addressing,
        &Deadline,
    ) -> Result<Attempt, (SystemException, bool)>,
    mut done: impl FnMut(Attempt, &Arc<OrbShared>) -> Option<T>,
) -> Result<T, SystemException> {
    let r = obj.inner().ok_or_else(nil_reference)?;
    let orb = Orb::of(obj)?;
    let mut retries = Retries::new(deadline(&orb, r));
    loop {
        let Bound { b, recalled } = current_binding(&orb, r)?;
        let outcome = once(&orb, r, &b, recalled, retries.addressing, &retries.deadline);
        if let Some(answer) = retries.after(&orb, r, &b, outcome)? {
            return done(answer, &orb).ok_or_else(bad_reply);
        }
    }
}

/// The client's span of one twoway call; the binding and outcome fields are filled as they
/// become known. Disabled (no allocation, no formatting) unless a subscriber wants it: the
/// zero-allocation twoway path stays so.
fn invoke_span(operation: &str, asynchronous: bool) -> tracing::Span {
    tracing::debug_span!(
        "invoke",
        operation,
        asynchronous,
        request_id = Empty,
        peer = Empty,
        giop = Empty,
        transport = Empty,
        outcome = Empty,
    )
}

/// A twoway request: see [`ObjectRef::invoke`].
pub(crate) fn invoke(
    obj: &ObjectRef,
    operation: &str,
    args: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>,
) -> Result<Reply, SystemException> {
    let span = invoke_span(operation, false);
    let _entered = span.enter();
    let result = run(
        obj,
        |orb, r, b, recalled, a, deadline| {
            attempt(orb, r, b, recalled, a, deadline, operation, args)
        },
        |a, orb| match a {
            Attempt::Done(reply) => {
                // References in the reply belong to the ORB that received it. (Said with
                // the ORB the call already holds: another `Orb::of` would be two more
                // locked read-modify-writes per call.)
                super::decoding_reply_of(orb);
                Some(reply)
            }
            _ => None,
        },
    );
    record_outcome(obj, &span, operation, &result);
    result
}

/// A twoway request whose reply is a future: see [`ObjectRef::invoke_async`]. The same
/// attempts and retries as [`invoke`]; only the wait for each reply is awaited instead of
/// blocked on.
pub(crate) async fn invoke_async(
    obj: &ObjectRef,
    operation: &str,
    args: &(dyn Fn(&mut Encoder) -> Result<(), EncodeError> + Sync),
) -> Result<Reply, SystemException> {
    let span = invoke_span(operation, true);
    let result = async {
        let r = obj.inner().ok_or_else(nil_reference)?;
        let orb = Orb::of(obj)?;
        // Fixed now: a future's wait for its reply is bounded by an instant.
        let mut retries = Retries::new(Deadline::at(deadline(&orb, r).instant()));
        loop {
            // The binding the future's own, not lent by the thread's memo (an `Rc`, which
            // would keep the future from going to another thread across its wait).
            let (b, recalled): (Arc<Binding>, _) = {
                let Bound { b, recalled } = current_binding(&orb, r)?;
                (Arc::clone(&b), recalled)
            };
            let (addressing, deadline) = (retries.addressing, retries.deadline.instant());
            let prepared = prepare(
                &orb,
                r,
                &b,
                recalled,
                addressing,
                &Deadline::at(deadline),
                operation,
                args,
            );
            let outcome = match prepared {
                Ok((conn, id, request)) => {
                    let pending = conn.call_async(id, &request, deadline);
                    buffers::give(orb.options.allocator, request);
                    let result = match pending {
                        Ok(reply) => reply.await,
                        Err(e) => Err(e),
                    };
                    received(&orb, &b, &conn, result)
                }
                Err(e) => Err(e),
            };
            if let Some(answer) = retries.after(&orb, r, &b, outcome)? {
                return match answer {
                    Attempt::Done(reply) => Ok(reply),
                    _ => Err(bad_reply()),
                };
            }
        }
    }
    .instrument(span.clone())
    .await;
    record_outcome(obj, &span, operation, &result);
    let reply = result?;
    if let Ok(orb) = Orb::of(obj) {
        super::decoding_reply_of(&orb);
    }
    Ok(reply)
}

/// Fills the current request span's binding fields (a no-op without a subscriber): where the
/// request goes, the connection's endpoint and dialect (a banded call's may be a lane's
/// endpoint, in plain GIOP, rather than the binding's).
fn record_binding(b: &Binding, conn: &ClientConnection, request_id: u32) {
    let span = tracing::Span::current();
    if span.is_disabled() {
        return;
    }
    span.record("request_id", request_id);
    span.record("peer", tracing::field::display(conn.endpoint()));
    span.record("giop", tracing::field::display(b.version));
    span.record(
        "transport",
        endpoint_transport_name(conn.endpoint(), conn.dialect()),
    );
}

/// The transport a binding uses, as traces and [`ObjectRef::transport`] name it.
pub(crate) fn transport_name(b: &Binding) -> &'static str {
    endpoint_transport_name(&b.endpoint, b.dialect)
}

/// The transport of `endpoint` in `dialect`, as traces and [`ObjectRef::transport`] name it.
fn endpoint_transport_name(endpoint: &Endpoint, dialect: Dialect) -> &'static str {
    match (endpoint, dialect.is_lite()) {
        (Endpoint::Shmiop { .. }, _) => "shmiop",
        (Endpoint::Iiop { .. }, false) => "iiop",
        (Endpoint::Iiop { .. }, true) => "iiop-lite",
        (Endpoint::Uiop { .. }, false) => "uiop",
        (Endpoint::Uiop { .. }, true) => "uiop-lite",
    }
}

/// Records how a call ended in its span, and says so as an event of its own when the ORB
/// traces invocations (`-ORBtraceInvocations 1`).
fn record_outcome(
    obj: &ObjectRef,
    span: &tracing::Span,
    operation: &str,
    result: &Result<Reply, SystemException>,
) {
    let outcome: &dyn std::fmt::Display = match result {
        Ok(r) if r.user_exception => &"user exception",
        Ok(_) => &"ok",
        Err(e) => e,
    };
    if !span.is_disabled() {
        span.record("outcome", tracing::field::display(outcome));
    }
    if tracing::enabled!(target: "orb::invocations", tracing::Level::INFO)
        && Orb::of(obj).is_ok_and(|o| o.options.trace_invocations)
    {
        tracing::info!(target: "orb::invocations", operation, outcome = %outcome, "invocation");
    }
}

/// Encodes a oneway to `b`'s own key for `conn`, with the connection's next request id.
fn encode_oneway(
    opts: &RequestOptions,
    b: &Arc<Binding>,
    conn: &ClientConnection,
    operation: &str,
    args: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>,
) -> Result<Vec<u8>, SystemException> {
    let id = conn.next_request_id();
    let first = conn.claim_first_request();
    let target = TargetAddress::KeyAddr(&b.key);
    encode_request(
        opts,
        b,
        conn.dialect(),
        id,
        target,
        operation,
        false,
        first,
        args,
    )
}

/// What became of a oneway offered to [`oneway_on_memo`].
enum OnMemo {
    /// Not the usual way, or no memo: nothing was done; send it the ordinary way.
    NotTaken,
    Sent,
    /// It could not be encoded.
    Refused(SystemException),
    /// The connection did not take it.
    Failed {
        e: TransportError,
        conn: Arc<ClientConnection>,
        memo: Rc<Memo>,
        deadline: Deadline,
    },
}

/// Sends a oneway as the thread's memo of `r` says, without taking hold of the reference's
/// ORB: the ORB's `Arc` taken and let go again were two of the few locked read-modify-writes
/// left on a SHMIOP oneway's client side. Only for the way most oneways take, the one
/// [`invoke_oneway`] would take — the reference's own ORB, no batching, no priority bands,
/// no idle connection wanted, its remembered connection still usable — and only while the
/// ORB lives (it is looked at, not held: should it go during the call, the connection,
/// which the call holds, takes the request all the same, as it would have had the call
/// held the ORB; its cache then closes it). [`OnMemo::NotTaken`]: the caller sends it the
/// ordinary way, which also says that a reference's ORB is gone.
fn oneway_on_memo(
    r: &Arc<RefInner>,
    operation: &str,
    args: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>,
) -> OnMemo {
    // The memo, the connection, and the ORB's timeout and encoding options it copied.
    let usual = || {
        if Weak::strong_count(r.orb.as_ref()?) == 0 {
            return None;
        }
        let memo = memo_of(r)?;
        let quick = memo.quick.as_ref()?;
        if time_to_choose_again(&memo.b) || super::wants_idle_connection() {
            return None;
        }
        let conn = quick.conn.upgrade().filter(|c| c.is_usable())?;
        let (timeout, opts) = (quick.timeout, quick.request);
        Some((memo, conn, timeout, opts))
    };
    let Some((memo, conn, timeout, opts)) = usual() else {
        return OnMemo::NotTaken;
    };
    let deadline = deadline_within(timeout, r);
    let request = match encode_oneway(&opts, &memo.b, &conn, operation, args) {
        Ok(request) => request,
        Err(e) => return OnMemo::Refused(e),
    };
    let sent = conn.send_oneway_bounded(&request, &deadline);
    buffers::give(opts.allocator, request);
    match sent {
        Ok(()) => OnMemo::Sent,
        Err(e) => OnMemo::Failed {
            e,
            conn,
            memo,
            deadline,
        },
    }
}

/// A oneway request: sent, never answered.
pub(crate) fn invoke_oneway(
    obj: &ObjectRef,
    operation: &str,
    args: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>,
) -> Result<(), SystemException> {
    let r = obj.inner().ok_or_else(nil_reference)?;
    let on_memo = oneway_on_memo(r, operation, args);
    let orb = match on_memo {
        OnMemo::Sent => return Ok(()),
        OnMemo::Refused(e) => return Err(e),
        _ => Orb::of(obj)?,
    };
    // A oneway waits for its connection and for the socket to take it no longer than a
    // twoway waits for its reply (`-ORBclientCallTimeOutPeriod`): past it, TIMEOUT,
    // COMPLETED_NO.
    let (deadline, mut retried) = match on_memo {
        // As below, for a oneway the connection did not take.
        OnMemo::Failed {
            e,
            conn,
            memo,
            deadline,
        } => {
            orb.cache.discard(&conn);
            if !e.is_retryable() {
                return Err(transport_exception(&e, &memo.b.endpoint));
            }
            (deadline, true)
        }
        _ => (deadline(&orb, r), false),
    };
    let opts = RequestOptions::of(&orb);
    loop {
        let Bound { b, recalled } = current_binding(&orb, r)?;
        let encode = |conn: &ClientConnection| encode_oneway(&opts, &b, conn, operation, args);
        // Batched, a oneway joins the buffer already pending for its endpoint (and band: a
        // band's oneways go on its connections only), encoded and appended under the
        // batcher's one lock, without asking the connection cache (a connection in use within
        // the last bound is as good as the cache's; one that broke meanwhile loses the batch
        // either way, as `SYNC_NONE` allows). A banded call to a lane's own endpoint finds
        // none by the profile's endpoint, and takes its connection from the cache.
        let band = orb
            .oneways
            .as_ref()
            .and_then(|_| priority_band(&orb, call_priority(&b)));
        let joined = orb.oneways.as_ref().and_then(|batcher| {
            batcher.append(&b.endpoint, b.dialect, band, |conn, batch| {
                let request = encode(conn)?;
                batch.extend_from_slice(&request);
                buffers::give(orb.options.allocator, request);
                Ok::<(), SystemException>(())
            })
        });
        let failed = match joined {
            Some((encoded, sent)) => {
                encoded?;
                sent.err().map(|(e, conn)| (e, Conn::Shared(conn)))
            }
            None => {
                let conn = oneway_connection(&orb, r, &b, recalled, &deadline)?;
                let request = encode(&conn)?;
                let sent = match &orb.oneways {
                    Some(batcher) => batcher.push(&conn, band, &request),
                    None => conn.send_oneway_bounded(&request, &deadline),
                };
                buffers::give(orb.options.allocator, request);
                sent.err().map(|e| (e, conn))
            }
        };
        let Some((e, conn)) = failed else {
            return Ok(());
        };
        orb.cache.discard(&conn);
        if e.is_retryable() && !retried {
            retried = true;
            continue;
        }
        return Err(transport_exception(&e, &b.endpoint));
    }
}

/// A LocateRequest: see [`ObjectRef::locate`].
pub(crate) fn locate(obj: &ObjectRef) -> Result<bool, SystemException> {
    run(obj, locate_once, |a, _| match a {
        Attempt::Done(_) => Some(true),
        Attempt::Unknown => Some(false),
        _ => None,
    })
}

fn locate_once(
    orb: &OrbShared,
    r: &RefInner,
    b: &Arc<Binding>,
    recalled: Option<Arc<ClientConnection>>,
    addressing: Addressing,
    deadline: &Deadline,
) -> Result<Attempt, (SystemException, bool)> {
    let no_retry = |e| (e, false);
    let conn = connection(orb, r, b, recalled, deadline).map_err(no_retry)?;
    let id = conn.next_request_id();
    let header = Header::LocateRequest(LocateRequestHeader {
        request_id: id,
        target: target(r, b, addressing).map_err(no_retry)?,
    });
    // The connection's dialect, not the binding's: a banded call may go to a lane's
    // endpoint, which speaks plain GIOP.
    let w = match conn.dialect() {
        Dialect::Giop => MessageWriter::new(b.version, ByteOrder::NATIVE, &header),
        Dialect::Lite(order) => MessageWriter::lite(order, &header),
    };
    let request = w
        .and_then(MessageWriter::finish)
        .map_err(|_| no_retry(bad_reply()))?;
    flush_oneways(orb, &conn);
    let frame = conn.call_bounded(id, &request, deadline).map_err(|e| {
        orb.cache.discard(&conn);
        (transport_exception(&e, &b.endpoint), e.is_retryable())
    })?;
    let msg = frame.decode().map_err(|_| no_retry(bad_reply()))?;
    let Header::LocateReply(h) = msg.header() else {
        return Err(no_retry(bad_reply()));
    };
    let here = || Reply {
        message: Buffer::from_vec(Vec::new(), orb.options.allocator),
        fragment_starts: Vec::new(),
        body_offset: 0,
        order: ByteOrder::NATIVE,
        version: b.version,
        codesets: b.codesets,
        user_exception: false,
    };
    match h.locate_status {
        LocateStatus::ObjectHere => Ok(Attempt::Done(here())),
        LocateStatus::UnknownObject => Ok(Attempt::Unknown),
        LocateStatus::ObjectForward | LocateStatus::ObjectForwardPerm => Ok(Attempt::Forward(
            msg.forward_ior().map_err(|_| no_retry(bad_reply()))?,
        )),
        LocateStatus::LocSystemException => Err(no_retry(SystemException::from(
            msg.system_exception().map_err(|_| no_retry(bad_reply()))?,
        ))),
        LocateStatus::LocNeedsAddressingMode => Ok(Attempt::Readdress(
            readdress(
                msg.addressing_disposition()
                    .map_err(|_| no_retry(bad_reply()))?,
            )
            .map_err(no_retry)?,
        )),
    }
}

/// Resolves an INS stringified name (`a.kind/b`) in a `CosNaming::NamingContext`, for
/// `corbaname:` URLs, without generated stubs: `resolve` takes a `CosNaming::Name` (a
/// sequence of `{string id; string kind}`) and returns an `Object`.
pub(crate) fn resolve_name(
    context: &ObjectRef,
    string_name: &str,
) -> Result<ObjectRef, super::OrbError> {
    let bad = |reason: String| super::OrbError::BadReference {
        text: string_name.to_owned(),
        reason,
    };
    let name = crate::ior::parse_string_name(string_name).map_err(|r| bad(r.to_owned()))?;
    let reply = context.invoke("resolve", &|enc| {
        enc.write_length(name.len())?;
        for (id, kind) in &name {
            enc.write_string(id)?;
            enc.write_string(kind)?;
        }
        Ok(())
    })?;
    match reply.outcome()? {
        crate::object::ReplyOutcome::Normal(mut dec) => {
            let ior =
                crate::codegen::reply_decode(<Ior as crate::cdr::CdrDecode>::decode(&mut dec))?;
            let orb = Orb::of(context)?;
            Ok(ObjectRef::with_orb(ior, Some(Arc::downgrade(&orb))))
        }
        crate::object::ReplyOutcome::UserException { id, .. } => {
            Err(bad(format!("the naming service raised {id}")))
        }
    }
}
