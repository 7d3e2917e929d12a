//! The server side: what the ORB does with each message a connection delivers.
//!
//! A Request's object key goes to the POA tree (active demultiplexing: no hashing, no
//! allocation), its operation to the servant's generated skeleton, and the outcome back as a
//! Reply in the request's GIOP version: results, a user exception, or a system exception
//! with its minor code and completion status. Oneway requests get no reply, whatever
//! happens. A LocateRequest is answered from the same POA decision. A message that does not
//! decode gets MessageError and the connection is closed; every other connection goes on
//! being served. A servant that panics costs its caller `UNKNOWN` (completed MAYBE), not the
//! server thread.

use super::{CurrentGuard, OrbShared};
use crate::buffers;
use crate::cdr::{ByteOrder, CdrEncode, CodeSetId, CodeSets, Decoder, GiopVersion};
use crate::codegen::DispatchStatus;
use crate::exception::{SystemException, SystemExceptionKind};
use crate::giop::{
    CompletionStatus, Frame, GiopError, Header, LocateReplyHeader, LocateStatus, Message,
    MessageWriter, ReplyHeader, ReplyStatus, RequestHeader, ServiceContexts, TargetAddress,
};
use crate::iop::ServiceId;
use crate::ior::IiopProfile;
use crate::poa::Decision;
use crate::transport::{CloseCause, ConnectionHandle, ConnectionId, Dialect, Handler};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Weak;
use std::time::{Duration, Instant};

/// How long a request waits for a holding POA manager before it is refused with TRANSIENT.
const HOLD_LIMIT: Duration = Duration::from_secs(30);

pub(crate) struct RequestHandler {
    orb: Weak<OrbShared>,
    /// The code sets each connection's client chose (its first request's CodeSets context).
    codesets: Mutex<HashMap<ConnectionId, CodeSets>>,
    /// Open connections, to say CloseConnection to each when the ORB shuts down.
    connections: Mutex<HashMap<ConnectionId, ConnectionHandle>>,
    /// Requests being served per connection, and whether the ORB is shutting down: a
    /// connection is closed only once its requests under way are answered.
    work: Mutex<Work>,
}

#[derive(Default)]
struct Work {
    closing: bool,
    busy: HashMap<ConnectionId, usize>,
}

/// Says CloseConnection (§15.5.1: requests not answered were not processed, so the client
/// may retry them elsewhere or later) and closes.
fn say_close(conn: &ConnectionHandle) {
    let w = match conn.dialect() {
        Dialect::Giop => MessageWriter::new(
            GiopVersion::V1_0,
            ByteOrder::NATIVE,
            &Header::CloseConnection,
        ),
        Dialect::Lite(order) => MessageWriter::lite(order, &Header::CloseConnection),
    };
    if let Some(m) = w.ok().and_then(|w| w.finish().ok()) {
        let _ = conn.send(m);
    }
    conn.close();
}

impl RequestHandler {
    pub(crate) fn new(orb: Weak<OrbShared>) -> RequestHandler {
        RequestHandler {
            orb,
            codesets: Mutex::new(HashMap::new()),
            connections: Mutex::new(HashMap::new()),
            work: Mutex::new(Work::default()),
        }
    }

    /// Sends GIOP CloseConnection on every open connection (§15.5.1: an orderly shutdown
    /// tells clients that requests not yet answered were not processed, so they retry them
    /// elsewhere or later), then closes them. A connection with requests under way is
    /// closed when the last of them has been answered, so no reply is lost; requests that
    /// arrive from now on are not served (CloseConnection tells their clients to retry).
    pub(crate) fn close_all(&self) {
        let conns: Vec<ConnectionHandle> =
            self.connections.lock().drain().map(|(_, c)| c).collect();
        let idle: Vec<ConnectionHandle> = {
            let mut work = self.work.lock();
            work.closing = true;
            conns
                .into_iter()
                .filter(|c| work.busy.get(&c.id()).copied().unwrap_or(0) == 0)
                .collect()
        };
        for conn in idle {
            say_close(&conn);
        }
    }

    /// Counts a request in on `conn`; false once the ORB is shutting down.
    fn begin(&self, conn: &ConnectionHandle) -> bool {
        let mut work = self.work.lock();
        if work.closing {
            return false;
        }
        *work.busy.entry(conn.id()).or_default() += 1;
        true
    }

    /// Counts a request out; the last one on a connection of a shutting-down ORB closes it.
    fn end(&self, conn: &ConnectionHandle) {
        let close = {
            let mut work = self.work.lock();
            let left = match work.busy.get_mut(&conn.id()) {
                Some(n) => {
                    *n = n.saturating_sub(1);
                    *n
                }
                None => 0,
            };
            if left == 0 {
                work.busy.remove(&conn.id());
            }
            left == 0 && work.closing
        };
        if close {
            say_close(conn);
        }
    }

    fn connection_codesets(
        &self,
        conn: &ConnectionHandle,
        contexts: &ServiceContexts<'_>,
    ) -> CodeSets {
        if let Some(data) = contexts.get(ServiceId::CODE_SETS) {
            if let Some(cs) = parse_codeset_context(data) {
                self.codesets.lock().insert(conn.id(), cs);
                return cs;
            }
        }
        self.codesets
            .lock()
            .get(&conn.id())
            .copied()
            .unwrap_or_default()
    }

    fn request(
        &self,
        orb: &OrbShared,
        conn: &ConnectionHandle,
        msg: &Message<'_>,
        req: &RequestHeader<'_>,
    ) {
        let response = req.response_flags.response_expected();
        let codesets = self.connection_codesets(conn, &req.service_context);
        let reply_header = Header::Reply(ReplyHeader {
            request_id: req.request_id,
            reply_status: ReplyStatus::NoException,
            service_context: ServiceContexts::EMPTY,
        });
        let buf = buffers::take(orb.options.allocator);
        let writer = match conn.dialect() {
            Dialect::Giop => {
                MessageWriter::with_buffer(buf, msg.version(), msg.order(), &reply_header)
            }
            Dialect::Lite(order) => MessageWriter::lite_with_buffer(buf, order, &reply_header),
        };
        let Ok(mut w) = writer else {
            return;
        };
        w.body().set_codesets(codesets);
        let outcome = match target_key(&req.target) {
            Some(key) => self.dispatch(orb, &key, req, msg, codesets, &mut w),
            None => Err(SystemException::new(
                SystemExceptionKind::OBJECT_NOT_EXIST,
                crate::exception::minor::OBJECT_NOT_EXIST_NO_MATCH,
                CompletionStatus::No,
            )),
        };
        if !response {
            return;
        }
        match outcome {
            Ok(DispatchStatus::NoException) => {}
            Ok(DispatchStatus::UserException) => {
                w.set_reply_status(ReplyStatus::UserException);
            }
            Err(e) => write_system_exception(&mut w, e),
        }
        let mut reply = match w.finish() {
            Ok(r) => r,
            Err(_) => return conn.close(),
        };
        if reply.len() > orb.options.max_message_size {
            // Results too large to send: the caller gets an exception instead.
            let Ok(mut w) = MessageWriter::new(msg.version(), msg.order(), &reply_header) else {
                return;
            };
            write_system_exception(
                &mut w,
                SystemException::new(
                    SystemExceptionKind::MARSHAL,
                    crate::exception::minor::MARSHAL_MESSAGE_TOO_LONG,
                    CompletionStatus::Yes,
                ),
            );
            match w.finish() {
                Ok(r) => reply = r,
                Err(_) => return conn.close(),
            }
        }
        let _ = conn.send(reply);
    }

    fn dispatch(
        &self,
        orb: &OrbShared,
        key: &[u8],
        req: &RequestHeader<'_>,
        msg: &Message<'_>,
        codesets: CodeSets,
        w: &mut MessageWriter,
    ) -> Result<DispatchStatus, SystemException> {
        let servant = match orb.poas.dispatch_decision(key) {
            Decision::Dispatch(t) => t.servant,
            Decision::Reject(e) => return Err(e),
            Decision::Hold => {
                wait_while_holding(orb, key)?;
                orb.poas.key_to_servant(key)?.servant
            }
        };
        let mut args: Decoder<'_> = msg.body_decoder();
        args.set_codesets(codesets);
        let operation: &str = &req.operation;
        match catch_unwind(AssertUnwindSafe(|| {
            servant.dispatch(operation, &mut args, w.body())
        })) {
            Ok(r) => r,
            Err(_) => Err(SystemException::new(
                SystemExceptionKind::UNKNOWN,
                0,
                CompletionStatus::Maybe,
            )),
        }
    }

    fn locate(
        &self,
        orb: &OrbShared,
        conn: &ConnectionHandle,
        msg: &Message<'_>,
        request_id: u32,
        target: &TargetAddress<'_>,
    ) {
        let version = msg.version();
        let mut exception = None;
        let status =
            match target_key(target).map(|k| orb.poas.dispatch_decision(&k).into_owned_status()) {
                Some(Ok(())) => LocateStatus::ObjectHere,
                Some(Err(e))
                    if e.kind != SystemExceptionKind::OBJECT_NOT_EXIST && version.minor >= 2 =>
                {
                    exception = Some(e);
                    LocateStatus::LocSystemException
                }
                _ => LocateStatus::UnknownObject,
            };
        let header = Header::LocateReply(LocateReplyHeader {
            request_id,
            locate_status: status,
        });
        let w = match conn.dialect() {
            Dialect::Giop => MessageWriter::new(version, msg.order(), &header),
            Dialect::Lite(order) => MessageWriter::lite(order, &header),
        };
        let Ok(mut w) = w else { return };
        if let Some(e) = exception {
            let _ = e.to_body().encode(w.body());
        }
        if let Ok(reply) = w.finish() {
            let _ = conn.send(reply);
        }
    }
}

trait DecisionStatus {
    fn into_owned_status(self) -> Result<(), SystemException>;
}

impl<S> DecisionStatus for Decision<'_, S> {
    /// Whether the object is here: a holding POA still has it.
    fn into_owned_status(self) -> Result<(), SystemException> {
        match self {
            Decision::Dispatch(_) | Decision::Hold => Ok(()),
            Decision::Reject(e) => Err(e),
        }
    }
}

/// Replaces whatever the body holds with a system exception.
fn write_system_exception(w: &mut MessageWriter, e: SystemException) {
    w.reset_body();
    w.set_reply_status(ReplyStatus::SystemException);
    // A repository id, two ulongs: cannot fail.
    let _ = e.to_body().encode(w.body());
}

/// The object key a request names, whichever addressing form it uses.
fn target_key<'a>(target: &TargetAddress<'a>) -> Option<std::borrow::Cow<'a, [u8]>> {
    use std::borrow::Cow;
    match target {
        TargetAddress::KeyAddr(k) => Some(Cow::Borrowed(*k)),
        TargetAddress::ProfileAddr(p) => IiopProfile::from_tagged(p)
            .ok()
            .map(|p| Cow::Owned(p.object_key)),
        TargetAddress::ReferenceAddr(info) => info
            .ior
            .profiles
            .get(info.selected_profile_index as usize)
            .and_then(|p| IiopProfile::from_tagged(p).ok())
            .map(|p| Cow::Owned(p.object_key)),
    }
}

/// `CONV_FRAME::CodeSetContext`: an encapsulation of the char and wchar transmission sets.
fn parse_codeset_context(data: &[u8]) -> Option<CodeSets> {
    let order = ByteOrder::from_flag(*data.first()? & 1);
    let mut dec = Decoder::new_at(data, 1, order);
    let char = CodeSetId(dec.read_ulong().ok()?);
    let wchar = CodeSetId(dec.read_ulong().ok()?);
    let known_char = [CodeSetId::ISO_8859_1, CodeSetId::UTF_8].contains(&char);
    let known_wchar = [CodeSetId::UTF_16, CodeSetId::UCS_2].contains(&wchar);
    Some(CodeSets {
        char: if known_char {
            char
        } else {
            CodeSetId::ISO_8859_1
        },
        wchar: if known_wchar {
            wchar
        } else {
            CodeSetId::UTF_16
        },
    })
}

/// Waits for a holding POA manager to change state (§11.3.2.1: requests are queued while
/// holding), up to [`HOLD_LIMIT`]; then it is TRANSIENT, as for discarding.
pub(crate) fn wait_while_holding(orb: &OrbShared, key: &[u8]) -> Result<(), SystemException> {
    let until = Instant::now() + HOLD_LIMIT;
    let mut pause = Duration::from_micros(100);
    while Instant::now() < until {
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
        match orb.poas.dispatch_decision(key) {
            Decision::Hold => continue,
            Decision::Dispatch(_) => return Ok(()),
            Decision::Reject(e) => return Err(e),
        }
    }
    Err(crate::poa::SystemException::TRANSIENT_DISCARDING)
}

fn message_error(version: GiopVersion, lite: Option<ByteOrder>) -> Option<Vec<u8>> {
    let w = match lite {
        None => MessageWriter::new(version, ByteOrder::NATIVE, &Header::MessageError),
        Some(order) => MessageWriter::lite(order, &Header::MessageError),
    };
    w.ok()?.finish().ok()
}

fn lite_order(conn: &ConnectionHandle) -> Option<ByteOrder> {
    match conn.dialect() {
        Dialect::Lite(order) => Some(order),
        Dialect::Giop => None,
    }
}

impl Handler for RequestHandler {
    fn on_frame(&self, conn: &ConnectionHandle, frame: Frame) {
        let Some(orb) = self.orb.upgrade() else {
            return conn.close();
        };
        let _current = CurrentGuard::enter(&self.orb);
        let msg = match frame.decode() {
            Ok(m) => m,
            Err(_) => {
                let version = if frame.is_lite() {
                    GiopVersion::V1_0
                } else {
                    frame.version()
                };
                // A version we do not speak is answered in the highest we do (§15.4.8).
                let version = if version.major != 1 || version.minor > 2 {
                    GiopVersion::V1_2
                } else {
                    version
                };
                if let Some(m) = message_error(version, lite_order(conn)) {
                    let _ = conn.send(m);
                }
                return conn.close();
            }
        };
        match msg.header() {
            Header::Request(req) => {
                if self.begin(conn) {
                    self.request(&orb, conn, &msg, req);
                    self.end(conn);
                }
            }
            Header::LocateRequest(l) => {
                if self.begin(conn) {
                    self.locate(&orb, conn, &msg, l.request_id, &l.target);
                    self.end(conn);
                }
            }
            // Requests are answered as they come; there is nothing to cancel. Fragments
            // arrive already joined.
            Header::CancelRequest { .. } | Header::Fragment { .. } => {}
            Header::CloseConnection | Header::MessageError => conn.close(),
            Header::Reply(_) | Header::LocateReply(_) => {
                // Only a server sends these: a client that does is confused.
                if let Some(m) = message_error(msg.version(), lite_order(conn)) {
                    let _ = conn.send(m);
                }
                conn.close();
            }
        }
    }

    fn on_protocol_error(&self, conn: &ConnectionHandle, _error: &GiopError) {
        if let Some(m) = message_error(GiopVersion::V1_0, lite_order(conn)) {
            let _ = conn.send(m);
        }
    }

    fn on_accept(&self, conn: &ConnectionHandle) {
        self.connections.lock().insert(conn.id(), conn.clone());
    }

    fn on_close(&self, conn: ConnectionId, _cause: &CloseCause) {
        self.codesets.lock().remove(&conn);
        self.connections.lock().remove(&conn);
    }
}
