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
use crate::exception::{minor, SystemException, SystemExceptionKind};
use crate::giop::{
    AddressingDisposition, CompletionStatus, Frame, Header, IorAddressingInfo, LocateRequestHeader,
    LocateStatus, MessageWriter, ReplyStatus, RequestHeader, ResponseFlags, ServiceContexts,
    TargetAddress,
};
use crate::iop::{Ior, ProfileId, ServiceContext, ServiceId};
use crate::ior::{IiopProfile, UiopProfile};
use crate::object::{ObjectRef, RefInner, Reply};
use crate::transport::{ClientConnection, Dialect, Endpoint, IdleConnection, TransportError};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

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

/// The exception a transport failure becomes.
fn transport_exception(e: &TransportError) -> SystemException {
    let completed = e.completion();
    let (kind, minor) = match e {
        TransportError::Timeout => (SystemExceptionKind::TIMEOUT, minor::TIMEOUT_CALL_TIMED_OUT),
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
    SystemException::new(kind, minor, completed)
}

/// Chooses the profile requests for `ior` go to: the first IIOP profile this ORB can use,
/// over its GIOP-lite listener when both sides enable GIOP-lite.
fn bind(orb: &OrbShared, ior: &Ior) -> Result<Binding, SystemException> {
    if orb.options.prefer_unix {
        let local = ior
            .profiles
            .iter()
            .filter(|p| p.tag == ProfileId::RTORB_UIOP)
            .filter_map(|p| UiopProfile::from_tagged(p).ok())
            .find(|p| p.host == super::local_host_id());
        if let Some(p) = local {
            return Ok(Binding {
                endpoint: Endpoint::Uiop {
                    path: p.path.into(),
                },
                dialect: Dialect::Giop,
                key: p.object_key,
                version: GiopVersion::new(1, p.version.minor.min(orb.options.giop_version.minor)),
                codesets: CodeSets::default(),
            });
        }
    }
    let profile = ior
        .profiles
        .iter()
        .filter(|p| p.tag == ProfileId::INTERNET_IOP)
        .find_map(|p| IiopProfile::from_tagged(p).ok())
        .ok_or_else(no_usable_profile)?;
    let version = if profile.version.minor < orb.options.giop_version.minor {
        profile.version
    } else {
        orb.options.giop_version
    };
    let version = GiopVersion::new(1, version.minor.min(2));
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
    let char_set = match profile.code_sets() {
        Some(cs) if cs.for_char_data.native_code_set == CodeSetId::UTF_8 => CodeSetId::UTF_8,
        _ => CodeSetId::ISO_8859_1,
    };
    Ok(Binding {
        endpoint,
        dialect,
        key: profile.object_key,
        version,
        codesets: CodeSets {
            char: char_set,
            wchar: CodeSetId::UTF_16,
        },
    })
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

/// The binding requests use now, made from the IOR at the first call.
fn current_binding(orb: &OrbShared, r: &RefInner) -> Result<Arc<Binding>, SystemException> {
    let mut b = r.binding.lock();
    if let Some(b) = &*b {
        return Ok(b.clone());
    }
    let fresh = Arc::new(bind(orb, &r.ior)?);
    *b = Some(fresh.clone());
    Ok(fresh)
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

fn codesets_context(cs: CodeSets) -> ServiceContext {
    let mut enc = Encoder::new(ByteOrder::NATIVE);
    enc.write_octet(ByteOrder::NATIVE.flag());
    enc.write_ulong(cs.char.0);
    enc.write_ulong(cs.wchar.0);
    ServiceContext {
        id: ServiceId::CODE_SETS,
        data: enc.into_vec(),
    }
}

/// Encodes a Request into a pooled buffer.
#[allow(clippy::too_many_arguments)]
fn encode_request(
    orb: &OrbShared,
    b: &Binding,
    request_id: u32,
    target: TargetAddress<'_>,
    operation: &str,
    response_expected: bool,
    first_on_connection: bool,
    args: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>,
) -> Result<Vec<u8>, SystemException> {
    let contexts;
    let service_context = if first_on_connection && !b.dialect.is_lite() && b.version.minor > 0 {
        contexts = [codesets_context(b.codesets)];
        ServiceContexts::from_slice(&contexts)
    } else {
        ServiceContexts::EMPTY
    };
    let header = Header::Request(RequestHeader {
        request_id,
        response_flags: ResponseFlags::from_response_expected(response_expected),
        target,
        operation: Cow::Borrowed(operation),
        service_context,
        requesting_principal: &[],
    });
    let buf = buffers::take(orb.options.allocator);
    let mut w = match b.dialect {
        Dialect::Giop => MessageWriter::with_buffer(buf, b.version, ByteOrder::NATIVE, &header),
        Dialect::Lite(order) => MessageWriter::lite_with_buffer(buf, order, &header),
    }
    .map_err(|_| SystemException::new(SystemExceptionKind::MARSHAL, 0, CompletionStatus::No))?;
    super::fragment_if_configured(&mut w, &orb.options);
    w.body().set_codesets(b.codesets);
    args(w.body()).map_err(|e| match e {
        // CORBA 3.0 §15.3.1.6: GIOP 1.0 has no wchar encoding; the client refuses, as
        // omniORB's does, with the minor code that says the client was the one to refuse.
        EncodeError::WideCharInGiop10 => SystemException::new(
            SystemExceptionKind::MARSHAL,
            minor::MARSHAL_WCHAR_SENT_BY_GIOP_1_0_CLIENT,
            CompletionStatus::No,
        ),
        e => SystemException::from(e),
    })?;
    let message = w
        .finish()
        .map_err(|_| SystemException::new(SystemExceptionKind::MARSHAL, 0, CompletionStatus::No))?;
    if message.len() > orb.options.max_message_size {
        return Err(SystemException::new(
            SystemExceptionKind::MARSHAL,
            minor::MARSHAL_MESSAGE_SIZE_EXCEED_LIMIT_ON_CLIENT,
            CompletionStatus::No,
        ));
    }
    Ok(message)
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
fn connection(orb: &OrbShared, b: &Binding) -> Result<Conn, SystemException> {
    let conn = if super::wants_idle_connection() {
        orb.cache.get_idle(&b.endpoint, b.dialect).map(Conn::Idle)
    } else {
        orb.cache.get(&b.endpoint, b.dialect).map(Conn::Shared)
    };
    conn.map_err(|e| transport_exception(&e))
}

/// The connection a oneway goes on: as any call's, except that a thread that takes idle
/// connections sends it after the oneways to the same object that may still be with the
/// server, on their connection, so that it cannot overtake them
/// ([`crate::transport::ConnectionCache::oneway_route`]).
fn oneway_connection(orb: &OrbShared, b: &Binding) -> Result<Conn, SystemException> {
    if !super::wants_idle_connection() {
        return connection(orb, b);
    }
    if let Some(c) = orb.cache.oneway_route(&b.endpoint, b.dialect, &b.key) {
        return Ok(Conn::Shared(c));
    }
    let conn = connection(orb, b)?;
    orb.cache
        .set_oneway_route(&b.endpoint, b.dialect, &b.key, &conn);
    Ok(conn)
}

fn attempt(
    orb: &OrbShared,
    r: &RefInner,
    b: &Binding,
    addressing: Addressing,
    operation: &str,
    args: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>,
) -> Result<Attempt, (SystemException, bool)> {
    let no_retry = |e| (e, false);
    let conn = connection(orb, b).map_err(no_retry)?;
    let id = conn.next_request_id();
    let target = target(r, b, addressing).map_err(no_retry)?;
    let first = conn.claim_first_request();
    let request =
        encode_request(orb, b, id, target, operation, true, first, args).map_err(no_retry)?;
    flush_oneways(orb, &conn);
    let deadline = orb.options.request_timeout.map(|t| Instant::now() + t);
    let result = conn.call(id, &request, deadline);
    buffers::give(orb.options.allocator, request);
    let frame = result.map_err(|e| {
        if matches!(e, TransportError::Closed { .. }) {
            orb.cache.discard(&conn);
        }
        (transport_exception(&e), e.is_retryable())
    })?;
    read_reply(frame, b.codesets).map_err(no_retry)
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

/// Runs attempts until one gives an answer: following forwards, changing the addressing
/// mode when asked, and retrying once when a connection failed before the request could run.
fn run<T>(
    obj: &ObjectRef,
    mut once: impl FnMut(
        &OrbShared,
        &RefInner,
        &Binding,
        Addressing,
    ) -> Result<Attempt, (SystemException, bool)>,
    mut done: impl FnMut(Attempt) -> Option<T>,
) -> Result<T, SystemException> {
    let r = obj.inner().ok_or_else(nil_reference)?;
    let orb = Orb::of(obj)?;
    let mut forwards = 0;
    let mut retried = false;
    let mut addressing = Addressing::Key;
    let mut readdressed = false;
    loop {
        let b = current_binding(&orb, r)?;
        match once(&orb, r, &b, addressing) {
            Ok(Attempt::Forward(ior)) => {
                forwards += 1;
                if forwards > MAX_FORWARDS || ior.is_nil() {
                    return Err(SystemException::new(
                        SystemExceptionKind::TRANSIENT,
                        minor::TRANSIENT_FAILED_ON_FORWARDED,
                        CompletionStatus::No,
                    ));
                }
                *r.binding.lock() = Some(Arc::new(bind(&orb, &ior)?));
            }
            Ok(Attempt::Readdress(a)) if !readdressed => {
                readdressed = true;
                addressing = a;
            }
            Ok(Attempt::Readdress(_)) => return Err(bad_reply()),
            Ok(other) => {
                if let Some(v) = done(other) {
                    return Ok(v);
                }
                return Err(bad_reply());
            }
            Err((e, retryable)) => {
                let forwarded = forwards > 0;
                if forwarded && e.completed == CompletionStatus::No {
                    // §15.4.4: a forwarded location that fails sends the client back to
                    // the original one.
                    *r.binding.lock() = None;
                    forwards = MAX_FORWARDS;
                    continue;
                }
                if retryable && !retried {
                    retried = true;
                    continue;
                }
                return Err(e);
            }
        }
    }
}

/// A twoway request: see [`ObjectRef::invoke`].
pub(crate) fn invoke(
    obj: &ObjectRef,
    operation: &str,
    args: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>,
) -> Result<Reply, SystemException> {
    let reply = run(
        obj,
        |orb, r, b, a| attempt(orb, r, b, a, operation, args),
        |a| match a {
            Attempt::Done(reply) => Some(reply),
            _ => None,
        },
    )?;
    // References in the reply belong to the ORB that received it.
    if let Ok(orb) = Orb::of(obj) {
        super::decoding_reply_of(&orb);
    }
    Ok(reply)
}

/// A oneway request: sent, never answered.
pub(crate) fn invoke_oneway(
    obj: &ObjectRef,
    operation: &str,
    args: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>,
) -> Result<(), SystemException> {
    let r = obj.inner().ok_or_else(nil_reference)?;
    let orb = Orb::of(obj)?;
    let mut retried = false;
    loop {
        let b = current_binding(&orb, r)?;
        let encode = |conn: &ClientConnection| {
            let id = conn.next_request_id();
            let first = conn.claim_first_request();
            let target = TargetAddress::KeyAddr(&b.key);
            encode_request(&orb, &b, id, target, operation, false, first, args)
        };
        // Batched, a oneway joins the buffer already pending for its endpoint, encoded and
        // appended under the batcher's one lock, without asking the connection cache (a
        // connection in use within the last bound is as good as the cache's; one that broke
        // meanwhile loses the batch either way, as `SYNC_NONE` allows).
        let joined = orb.oneways.as_ref().and_then(|batcher| {
            batcher.append(&b.endpoint, b.dialect, |conn, batch| {
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
                let conn = oneway_connection(&orb, &b)?;
                let request = encode(&conn)?;
                let sent = match &orb.oneways {
                    Some(batcher) => batcher.push(&conn, &request),
                    None => conn.send_oneway(&request),
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
        return Err(transport_exception(&e));
    }
}

/// A LocateRequest: see [`ObjectRef::locate`].
pub(crate) fn locate(obj: &ObjectRef) -> Result<bool, SystemException> {
    run(obj, locate_once, |a| match a {
        Attempt::Done(_) => Some(true),
        Attempt::Unknown => Some(false),
        _ => None,
    })
}

fn locate_once(
    orb: &OrbShared,
    r: &RefInner,
    b: &Binding,
    addressing: Addressing,
) -> Result<Attempt, (SystemException, bool)> {
    let no_retry = |e| (e, false);
    let conn = connection(orb, b).map_err(no_retry)?;
    let id = conn.next_request_id();
    let header = Header::LocateRequest(LocateRequestHeader {
        request_id: id,
        target: target(r, b, addressing).map_err(no_retry)?,
    });
    let w = match b.dialect {
        Dialect::Giop => MessageWriter::new(b.version, ByteOrder::NATIVE, &header),
        Dialect::Lite(order) => MessageWriter::lite(order, &header),
    };
    let request = w
        .and_then(MessageWriter::finish)
        .map_err(|_| no_retry(bad_reply()))?;
    flush_oneways(orb, &conn);
    let deadline = orb.options.request_timeout.map(|t| Instant::now() + t);
    let frame = conn.call(id, &request, deadline).map_err(|e| {
        orb.cache.discard(&conn);
        (transport_exception(&e), e.is_retryable())
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
