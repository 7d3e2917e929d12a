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
use crate::cdr::{ByteOrder, CdrEncode, CodeSetId, CodeSets, Decoder, Encoder, GiopVersion};
use crate::codegen::DispatchStatus;
use crate::exception::{SystemException, SystemExceptionKind};
use crate::giop::{
    CompletionStatus, Frame, GiopError, Header, LocateReplyHeader, LocateStatus, Message,
    MessageWriter, ReplyHeader, ReplyStatus, RequestHeader, ServiceContexts, TargetAddress,
};
use crate::iop::ServiceId;
use crate::ior::IiopProfile;
use crate::poa::{Decision, DispatchMemo};
use crate::rt::lanes::LanePool;
use crate::rt::{Priority, PriorityModelPolicy, RequestPriority, RtCurrent};
use crate::servant::ServantRef;
use crate::transport::{CloseCause, ConnectionHandle, ConnectionId, Dialect, Handler};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// How long a request waits for a holding POA manager before it is refused with TRANSIENT.
const HOLD_LIMIT: Duration = Duration::from_secs(30);

thread_local! {
    /// The last dispatch decision this thread took (see [`DispatchMemo`]): a connection's
    /// thread mostly serves the same object again and again, and taking the decision again
    /// from here costs a load of the POA change count and a comparison of the key, instead
    /// of the POA table's lock, the key's parse and the active object map's lookup.
    static DISPATCH_MEMO: std::cell::RefCell<DispatchMemo<ServantRef>> =
        const { std::cell::RefCell::new(DispatchMemo::new()) };
}

pub(crate) struct RequestHandler {
    orb: Weak<OrbShared>,
    /// Open connections, to say CloseConnection to each when the ORB shuts down.
    connections: Mutex<HashMap<ConnectionId, ConnectionHandle>>,
    /// The ORB is shutting down: requests that arrive from now on are not served.
    closing: AtomicBool,
    /// The ORB's RT-CORBA priority model: that of every request until some POA has one of
    /// its own or some object a priority ([`crate::poa::PoaTree::priorities_vary`]).
    priority_model: PriorityModelPolicy,
    /// With `-ORBthreadStrategy lanes`: the lanes that run requests, which the threads of
    /// the server's own address only read and hand over (those of the lanes' own endpoints
    /// run their lane's themselves: [`LaneHandler`]).
    lanes: Option<LanePool>,
    /// This handler, for the requests handed to lanes to find it again.
    me: Weak<RequestHandler>,
}

/// What the handler keeps per connection, in the connection's attachment: every request
/// reaches it from its handle, with no lock and no lookup (a lock and a map were a sixth of
/// a oneway's cost on the server).
#[derive(Default)]
struct ConnWork {
    /// Twoway requests being served: a connection is closed at shutdown only once they are
    /// answered.
    busy: AtomicUsize,
    /// The code sets the client chose (its first request's CodeSets context), packed by
    /// [`pack_codesets`]; 0 until it says.
    codesets: AtomicU64,
    /// CloseConnection was said (or is being said): once is enough.
    said_close: AtomicBool,
    /// Signalled when `busy` drops to zero, for a connection thread waiting for the
    /// requests it handed to lanes ([`Handler::on_reading_ended`]).
    idle_lock: Mutex<()>,
    idle: parking_lot::Condvar,
}

fn pack_codesets(cs: CodeSets) -> u64 {
    u64::from(cs.char.0) << 32 | u64::from(cs.wchar.0)
}

/// 0 (nothing said: no code set has id 0) is the default code sets.
fn unpack_codesets(v: u64) -> CodeSets {
    if v == 0 {
        return CodeSets::default();
    }
    CodeSets {
        char: CodeSetId((v >> 32) as u32),
        wchar: CodeSetId(v as u32),
    }
}

/// The handler's state of `conn`, made on first use (`on_accept` makes it; a connection
/// whose slot holds something else has none, and is served without code sets or counting).
fn conn_work(conn: &ConnectionHandle) -> Option<&ConnWork> {
    conn.attachment()
        .get_or_init(|| Box::<ConnWork>::default())
        .downcast_ref::<ConnWork>()
}

/// [`say_close`], unless it was said on `conn` already.
fn say_close_once(conn: &ConnectionHandle) {
    let said = conn_work(conn).is_some_and(|w| w.said_close.swap(true, Ordering::AcqRel));
    if !said {
        say_close(conn);
    }
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
    pub(crate) fn new(
        orb: Weak<OrbShared>,
        priority_model: PriorityModelPolicy,
        lanes: Option<LanePool>,
    ) -> Arc<RequestHandler> {
        Arc::new_cyclic(|me| RequestHandler {
            orb,
            connections: Mutex::new(HashMap::new()),
            closing: AtomicBool::new(false),
            priority_model,
            lanes,
            me: me.clone(),
        })
    }

    /// Lets the lanes finish the requests queued to them, then end (at shutdown, once the
    /// connections no longer deliver new ones).
    pub(crate) fn stop_lanes(&self) {
        if let Some(l) = &self.lanes {
            l.stop();
        }
    }

    /// Waits for the lanes' threads to end (all but the caller's, if it is one).
    pub(crate) fn join_lanes(&self) {
        if let Some(l) = &self.lanes {
            l.join();
        }
    }

    pub(crate) fn is_lane_thread(&self) -> bool {
        self.lanes.as_ref().is_some_and(LanePool::is_lane_thread)
    }

    /// The priority a request runs at under the ORB's model: the one it carries
    /// (`RTCorbaPriority`) under the client-propagated model, else the server's. Where POAs
    /// or objects have their own, [`RequestHandler::dispatch`] corrects it from the entry it
    /// finds the servant in (without lanes; with them, [`RequestHandler::lane_request_priority`]
    /// is used instead).
    fn request_priority(&self, req: &RequestHeader<'_>) -> Priority {
        self.request_priority_or(req, None)
    }

    /// [`RequestHandler::request_priority`], a request without the context taken to carry
    /// `unsent` (the priority its connection says: a lane's endpoint, its lane's).
    fn request_priority_or(&self, req: &RequestHeader<'_>, unsent: Option<Priority>) -> Priority {
        self.priority_model
            .request_priority(sent_priority(req).or(unsent))
    }

    /// The priority a request runs at, known before it is dispatched, to choose its lane (a
    /// request without the context taken to carry `unsent`, as for
    /// [`RequestHandler::request_priority_or`]): under its object's priority model where
    /// POAs or objects have their own (one more demultiplexing of its key, constant time),
    /// else the ORB's.
    fn lane_request_priority(
        &self,
        orb: &OrbShared,
        req: &RequestHeader<'_>,
        unsent: Option<Priority>,
    ) -> Priority {
        if !orb.poas.priorities_vary() {
            return self.request_priority_or(req, unsent);
        }
        let model = target_key(&req.target).map_or(self.priority_model, |key| {
            orb.poas.priority_model_for_key(&key)
        });
        model.request_priority(sent_priority(req).or(unsent))
    }

    /// Serves a request read by a connection thread, at priority `priority`, and counts it
    /// out (it was counted in by the reader, if `counted`).
    fn serve_request(
        &self,
        orb: &OrbShared,
        conn: &ConnectionHandle,
        msg: &Message<'_>,
        req: &RequestHeader<'_>,
        codesets: CodeSets,
        priority: Priority,
    ) {
        let counted = req.response_flags.response_expected();
        // Disabled, and so free of allocation and formatting, without a subscriber.
        let span = tracing::debug_span!(
            "request",
            operation = &*req.operation,
            request_id = req.request_id,
            peer = conn.peer(),
            giop = %msg.version(),
            transport = %conn.dialect(),
            oneway = !counted,
            priority,
            outcome = tracing::field::Empty,
        );
        let _entered = span.enter();
        let _priority = RequestPriority::enter(priority);
        self.request(orb, conn, msg, req, codesets);
        if counted {
            self.end(conn);
        }
    }

    /// A request handed to its lane: decoded again on the lane's thread (the reader checked
    /// it decodes) and served there. One that cannot be served (its ORB gone) is still
    /// counted out, or its connection's thread would wait for it for ever.
    fn serve_in_lane(
        &self,
        conn: &ConnectionHandle,
        frame: Frame,
        codesets: CodeSets,
        priority: Priority,
        counted: bool,
    ) {
        let _current = CurrentGuard::enter(&self.orb);
        match (self.orb.upgrade(), frame.decode()) {
            (Some(orb), Ok(msg)) => {
                if let Header::Request(req) = msg.header() {
                    return self.serve_request(&orb, conn, &msg, req, codesets, priority);
                }
            }
            (None, _) => conn.close(),
            (Some(_), Err(_)) => {}
        }
        if counted {
            self.end(conn);
        }
    }

    /// Sends GIOP CloseConnection on every open connection (§15.5.1: an orderly shutdown
    /// tells clients that requests not yet answered were not processed, so they retry them
    /// elsewhere or later), then closes them. A connection with requests under way is
    /// closed when the last of them has been answered, so no reply is lost; requests that
    /// arrive from now on are not served (CloseConnection tells their clients to retry).
    pub(crate) fn close_all(&self) {
        // SeqCst here and in `begin`/`end`: of this store and a request's count going to
        // zero, whichever comes second sees the other, so an idle connection is always
        // closed by one side or the other (`said_close` keeps it to one).
        self.closing.store(true, Ordering::SeqCst);
        let conns: Vec<ConnectionHandle> =
            self.connections.lock().drain().map(|(_, c)| c).collect();
        for conn in conns {
            let idle = conn_work(&conn).is_none_or(|w| w.busy.load(Ordering::SeqCst) == 0);
            if idle {
                say_close_once(&conn);
            }
        }
    }

    /// Counts a request in on `conn` (if `counted`) and tells the code sets its connection
    /// uses (those of `contexts` if it carries a CodeSets context, from now on); `None` once
    /// the ORB is shutting down.
    ///
    /// Oneways are not counted: the count is there so that shutting down closes a connection
    /// only after the replies under way are sent, and a oneway has none. A oneway being
    /// served when the ORB shuts down still runs to its end, as it would counted; only the
    /// CloseConnection may go out before it ends instead of after.
    fn begin(
        &self,
        conn: &ConnectionHandle,
        contexts: &ServiceContexts<'_>,
        counted: bool,
    ) -> Option<CodeSets> {
        let work = conn_work(conn);
        if counted {
            if let Some(w) = work {
                w.busy.fetch_add(1, Ordering::SeqCst);
            }
        }
        if self.closing.load(Ordering::SeqCst) {
            if counted {
                self.end(conn);
            }
            return None;
        }
        let chosen = contexts
            .get(ServiceId::CODE_SETS)
            .and_then(parse_codeset_context);
        // One connection's requests are served one at a time, in order: Relaxed suffices.
        Some(match (work, chosen) {
            (Some(w), Some(cs)) => {
                w.codesets.store(pack_codesets(cs), Ordering::Relaxed);
                cs
            }
            (Some(w), None) => unpack_codesets(w.codesets.load(Ordering::Relaxed)),
            (None, chosen) => chosen.unwrap_or_default(),
        })
    }

    /// Counts a request out; the last one on a connection of a shutting-down ORB closes it.
    fn end(&self, conn: &ConnectionHandle) {
        let Some(w) = conn_work(conn) else {
            return;
        };
        let left = w.busy.fetch_sub(1, Ordering::SeqCst).saturating_sub(1);
        if left == 0 && self.closing.load(Ordering::SeqCst) {
            say_close_once(conn);
        }
        if left == 0 && self.lanes.is_some() {
            let _held = w.idle_lock.lock();
            w.idle.notify_all();
        }
    }

    fn request(
        &self,
        orb: &OrbShared,
        conn: &ConnectionHandle,
        msg: &Message<'_>,
        req: &RequestHeader<'_>,
        codesets: CodeSets,
    ) {
        if !req.response_flags.response_expected() {
            return self.oneway(orb, msg, req, codesets);
        }
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
        super::fragment_if_configured(&mut w, orb.options.fragment_size);
        w.body().set_codesets(codesets);
        let outcome = self.dispatch_to_target(orb, req, msg, codesets, w.body());
        let span = tracing::Span::current();
        if !span.is_disabled() {
            match &outcome {
                Ok(DispatchStatus::NoException) => span.record("outcome", "ok"),
                Ok(DispatchStatus::UserException) => span.record("outcome", "user exception"),
                Err(e) => span.record("outcome", tracing::field::display(e)),
            };
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

    /// A oneway request: dispatched like any other, with no reply whatever happens, so its
    /// results (none, or an exception nobody hears of) go to a bare encoder rather than a
    /// Reply message whose header would be written for nothing. The encoder starts without a
    /// buffer: a oneway's skeleton writes nothing, so none is taken from the pool.
    fn oneway(
        &self,
        orb: &OrbShared,
        msg: &Message<'_>,
        req: &RequestHeader<'_>,
        codesets: CodeSets,
    ) {
        let mut out = Encoder::new(msg.order());
        out.set_version(msg.version());
        out.set_codesets(codesets);
        let _ = self.dispatch_to_target(orb, req, msg, codesets, &mut out);
    }

    fn dispatch_to_target(
        &self,
        orb: &OrbShared,
        req: &RequestHeader<'_>,
        msg: &Message<'_>,
        codesets: CodeSets,
        out: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        match target_key(&req.target) {
            Some(key) => self.dispatch(orb, &key, req, msg, codesets, out),
            None => Err(SystemException::new(
                SystemExceptionKind::OBJECT_NOT_EXIST,
                crate::exception::minor::OBJECT_NOT_EXIST_NO_MATCH,
                CompletionStatus::No,
            )),
        }
    }

    /// The servant a request for `key` goes to and the priority model it runs under, as the
    /// POA decides (and this thread's memo remembers); a holding manager is waited for.
    #[inline(never)]
    fn decide(
        &self,
        orb: &OrbShared,
        key: &[u8],
    ) -> Result<(ServantRef, PriorityModelPolicy), SystemException> {
        let decision = DISPATCH_MEMO.with(|m| match m.try_borrow_mut() {
            Ok(mut memo) => orb.poas.dispatch_decision_memo(key, &mut memo),
            // Never: nothing this thread runs while it holds the memo looks again.
            Err(_) => orb.poas.dispatch_decision(key),
        });
        Ok(match decision {
            Decision::Dispatch(t) => (t.servant, t.priority_model),
            Decision::Reject(e) => return Err(e),
            Decision::Hold => {
                wait_while_holding(orb, key)?;
                let t = orb.poas.key_to_servant(key)?;
                (t.servant, t.priority_model)
            }
        })
    }

    fn dispatch(
        &self,
        orb: &OrbShared,
        key: &[u8],
        req: &RequestHeader<'_>,
        msg: &Message<'_>,
        codesets: CodeSets,
        out: &mut Encoder,
    ) -> Result<DispatchStatus, SystemException> {
        let remembered = DISPATCH_MEMO.with(|m| {
            m.try_borrow()
                .ok()
                .and_then(|memo| orb.poas.remembered(key, &memo))
        });
        let (servant, priority_model) = match remembered {
            Some(target) => target,
            None => self.decide(orb, key)?,
        };
        // Without lanes, the request was entered at the ORB's model's priority, and its
        // object's POA, or the object, may declare another: it runs at the object's, taken
        // from the entry just found. (With lanes, its lane was chosen by its object's model
        // already: `lane_request_priority`.)
        let _declared = if self.lanes.is_none() && orb.poas.priorities_vary() {
            let p = priority_model.request_priority(sent_priority(req));
            (RtCurrent::the_priority() != Some(p)).then(|| {
                tracing::Span::current().record("priority", p);
                RequestPriority::enter(p)
            })
        } else {
            None
        };
        let mut args: Decoder<'_> = msg.body_decoder();
        args.set_codesets(codesets);
        let operation: &str = &req.operation;
        match catch_unwind(AssertUnwindSafe(|| {
            servant.dispatch(operation, &mut args, out)
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

/// The priority a request's client sent (its `RTCorbaPriority` context), if any.
fn sent_priority(req: &RequestHeader<'_>) -> Option<Priority> {
    req.service_context
        .get(ServiceId::RT_CORBA_PRIORITY)
        .and_then(crate::rt::read_priority_context)
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

impl RequestHandler {
    /// A message on a connection of the lane of priority `lane` (its own endpoint's), read
    /// by a thread of that lane: a request the lane serves runs right here, once the
    /// connection's reading is handed on (`release`), so that its next requests are read
    /// meanwhile. Any other request — a priority of another lane — is handed to that lane
    /// as on the primary endpoint; other messages are handled as there.
    fn lane_frame(
        &self,
        conn: &ConnectionHandle,
        frame: Frame,
        lane: Priority,
        release: &mut dyn FnMut(),
    ) {
        let Some(orb) = self.orb.upgrade() else {
            return conn.close();
        };
        let _current = CurrentGuard::enter(&self.orb);
        let served = match frame.decode() {
            Ok(msg) => self.serve_if_lanes(&orb, conn, &msg, lane, release),
            Err(_) => false,
        };
        if !served {
            // Not this lane's: the ordinary way, hand-off to the right lane included (with
            // the ORB and the guard this thread holds already).
            self.frame_of(&orb, conn, frame);
        }
    }

    /// Serves `msg` on this thread if it is a request of the lane of priority `lane`
    /// (handing the connection's reading on first); whether it was one.
    fn serve_if_lanes(
        &self,
        orb: &OrbShared,
        conn: &ConnectionHandle,
        msg: &Message<'_>,
        lane: Priority,
        release: &mut dyn FnMut(),
    ) -> bool {
        let (Some(lanes), Header::Request(req)) = (&self.lanes, msg.header()) else {
            return false;
        };
        // The connection says the priority of a request that carries none: it came to the
        // lane's own endpoint (RT-CORBA's priority-banded connections), so it runs at the
        // lane's priority, not the server's — under the client-propagated model; an object
        // whose server declares its priority runs it at that, as everywhere.
        let priority = self.lane_request_priority(orb, req, Some(lane));
        if lanes.lane_priority_for(priority) != lane {
            return false;
        }
        // -ORBtraceLevel 25 (as `on_frame` does for the messages it takes).
        tracing::trace!(
            target: "orb::giop",
            peer = conn.peer(),
            msg_type = "Request",
            octets = msg.as_bytes().len(),
            "message received"
        );
        let counted = req.response_flags.response_expected();
        // Counted in, and its code sets taken, in the connection's order: before the next
        // thread reads.
        if let Some(codesets) = self.begin(conn, &req.service_context, counted) {
            release();
            self.serve_request(orb, conn, msg, req, codesets, priority);
        }
        true
    }
}

/// The handler of a lane's own endpoint: requests of the lane's priority run on the
/// connection's threads, which are the lane's (named after it, at its native priority).
pub(crate) struct LaneHandler {
    requests: Arc<RequestHandler>,
    lane: Priority,
}

impl LaneHandler {
    pub(crate) fn new(requests: Arc<RequestHandler>, lane: Priority) -> Arc<LaneHandler> {
        Arc::new(LaneHandler { requests, lane })
    }
}

impl Handler for LaneHandler {
    fn on_frame(&self, conn: &ConnectionHandle, frame: Frame) {
        self.requests.lane_frame(conn, frame, self.lane, &mut || {});
    }

    fn on_frame_releasing(&self, conn: &ConnectionHandle, frame: Frame, release: &mut dyn FnMut()) {
        self.requests.lane_frame(conn, frame, self.lane, release);
    }

    fn on_connection_thread(&self) {
        crate::rt::mapping::adopt(self.lane);
        crate::rt::enter_lane(self.lane);
    }

    fn connection_thread_name(&self, id: ConnectionId) -> String {
        format!("orb-lane-{}-conn-{}", self.lane, id.0)
    }

    fn on_accept(&self, conn: &ConnectionHandle) {
        self.requests.on_accept(conn);
    }

    fn on_protocol_error(&self, conn: &ConnectionHandle, error: &GiopError) {
        self.requests.on_protocol_error(conn, error);
    }

    fn on_reading_ended(&self, conn: &ConnectionHandle) {
        self.requests.on_reading_ended(conn);
    }

    fn on_close(&self, conn: ConnectionId, cause: &CloseCause) {
        self.requests.on_close(conn, cause);
    }
}

impl RequestHandler {
    /// A message of `orb`'s, read by a thread that holds it (and its [`CurrentGuard`]).
    fn frame_of(&self, orb: &Arc<OrbShared>, conn: &ConnectionHandle, frame: Frame) {
        // -ORBtraceLevel 25: each message, as omniORB traces each send and receive.
        tracing::trace!(
            target: "orb::giop",
            peer = conn.peer(),
            msg_type = %frame.msg_type(),
            octets = frame.as_bytes().len(),
            "message received"
        );
        // Looked at where it was decoded: moving it out of the result was a copy of some
        // 200 octets per message.
        let decoded = frame.decode();
        let msg = match &decoded {
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
        if let (Some(lanes), Header::Request(req)) = (&self.lanes, msg.header()) {
            // Read here, run by the lane of the request's priority. Counted in (and its code
            // sets taken) here, in the order the connection delivers requests.
            let priority = self.lane_request_priority(orb, req, None);
            let counted = req.response_flags.response_expected();
            let Some(codesets) = self.begin(conn, &req.service_context, counted) else {
                return;
            };
            // This thread reads for a connection whose requests are of this priority (with
            // banded connections, all of them): it runs at it.
            crate::rt::mapping::adopt(lanes.lane_priority_for(priority));
            drop(decoded);
            let me = self.me.clone();
            let conn = conn.clone();
            return lanes.submit(
                priority,
                Box::new(move || {
                    if let Some(handler) = me.upgrade() {
                        handler.serve_in_lane(&conn, frame, codesets, priority, counted);
                    }
                }),
            );
        }
        match msg.header() {
            Header::Request(req) => {
                let counted = req.response_flags.response_expected();
                if let Some(codesets) = self.begin(conn, &req.service_context, counted) {
                    let priority = self.request_priority(req);
                    self.serve_request(orb, conn, msg, req, codesets, priority);
                }
            }
            Header::LocateRequest(l) => {
                if self.begin(conn, &ServiceContexts::EMPTY, true).is_some() {
                    self.locate(orb, conn, msg, l.request_id, &l.target);
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
}

impl Handler for RequestHandler {
    fn on_frame(&self, conn: &ConnectionHandle, frame: Frame) {
        let Some(orb) = self.orb.upgrade() else {
            return conn.close();
        };
        let _current = CurrentGuard::enter(&self.orb);
        self.frame_of(&orb, conn, frame);
    }

    fn on_protocol_error(&self, conn: &ConnectionHandle, _error: &GiopError) {
        if let Some(m) = message_error(GiopVersion::V1_0, lite_order(conn)) {
            let _ = conn.send(m);
        }
    }

    /// With lanes, the connection's requests are still being served elsewhere when its
    /// thread stops reading: their replies must go out before it closes the connection.
    fn on_reading_ended(&self, conn: &ConnectionHandle) {
        if self.lanes.is_none() {
            return;
        }
        if let Some(w) = conn_work(conn) {
            let mut held = w.idle_lock.lock();
            while w.busy.load(Ordering::SeqCst) > 0 {
                w.idle.wait(&mut held);
            }
        }
    }

    fn on_accept(&self, conn: &ConnectionHandle) {
        tracing::info!(
            target: "orb::connection",
            id = conn.id().0,
            peer = conn.peer(),
            dialect = %conn.dialect(),
            side = "server",
            "connection opened"
        );
        let _ = conn_work(conn);
        self.connections.lock().insert(conn.id(), conn.clone());
    }

    fn on_close(&self, conn: ConnectionId, cause: &CloseCause) {
        tracing::info!(
            target: "orb::connection",
            id = conn.0,
            cause = %cause,
            side = "server",
            "connection closed"
        );
        self.connections.lock().remove(&conn);
    }
}
