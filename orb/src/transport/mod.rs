//! Moving GIOP messages over sockets: IIOP (TCP) and UIOP (Unix domain sockets), for servers
//! and clients, with one framing per connection (GIOP, or GIOP-lite between rtorb peers).
//!
//! - [`Endpoint`] and [`Dialect`]: where to listen or connect (`giop:tcp:HOST:PORT`,
//!   `giop:unix:PATH`) and which framing the connection speaks, always chosen by configuration,
//!   never guessed from the bytes.
//! - [`Server`]: listeners and accepted connections under one of four [`Strategy`]s — a
//!   single reactor thread, a leader/followers pool over the same reactor, the reactor that
//!   grows into such a pool while handlers block ([`AdaptivePolicy`]), or a blocking thread
//!   per connection. Whole messages go up to a [`Handler`]; replies come back down through a
//!   [`ConnectionHandle`] usable from any thread.
//! - [`ClientConnection`]: one blocking connection to a server, shared by any number of
//!   calling threads; replies are matched to callers by request id, and a caller reads its own
//!   reply off the socket whenever no one else is reading (no hand-off to another thread on
//!   the fast path). [`ConnectionCache`] keeps one per (endpoint, dialect).
//!
//! ```
//! use orb::cdr::{ByteOrder, GiopVersion};
//! use orb::giop::{Frame, Header, MessageWriter, ReplyHeader, ReplyStatus, RequestHeader,
//!                 ServiceContexts};
//! use orb::transport::*;
//! use std::sync::Arc;
//!
//! /// Answers every Request with an empty Reply.
//! struct Ack;
//! impl Handler for Ack {
//!     fn on_frame(&self, conn: &ConnectionHandle, frame: Frame) {
//!         let Ok(msg) = frame.decode() else { return };
//!         if let Header::Request(r) = msg.header() {
//!             let reply = Header::Reply(ReplyHeader {
//!                 request_id: r.request_id,
//!                 reply_status: ReplyStatus::NoException,
//!                 service_context: ServiceContexts::EMPTY,
//!             });
//!             let w = MessageWriter::new(msg.version(), msg.order(), &reply).unwrap();
//!             let _ = conn.send(w.finish().unwrap());
//!         }
//!     }
//! }
//!
//! let endpoint = Endpoint::parse("giop:tcp:127.0.0.1:0")?;
//! let server = Server::bind(&[ListenerSpec::giop(endpoint)], Strategy::Reactive,
//!                           Arc::new(Ack), ServerOptions::default())?;
//! let bound = &server.endpoints()[0].endpoint; // the ephemeral port, bound
//!
//! let cache = ConnectionCache::new(ClientOptions::default());
//! let conn = cache.get(bound, Dialect::Giop)?;
//! let id = conn.next_request_id();
//! let request = MessageWriter::new(GiopVersion::V1_2, ByteOrder::NATIVE,
//!     &Header::Request(RequestHeader::new(id, b"key", "ping")))?.finish()?;
//! let reply = conn.call(id, &request, None)?;
//! assert!(matches!(reply.decode()?.header(), Header::Reply(r) if r.request_id == id));
//! server.shutdown(true);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! This layer moves whole messages and never interprets their bodies: it does not dispatch
//! requests, build replies or choose system exceptions (the POA and the invocation layer above
//! it do), and it reads a message header only to match a reply to its caller. It never panics
//! on what a peer sends, never buffers more than its limits allow (a message is bounded by the
//! framer's size limit, a server connection's pending output by
//! [`ServerOptions::max_pending_output`]), and on failure it says how far a request got so the
//! ORB can pick the right exception and completion status ([`TransportError::completion`]).
#![cfg(unix)]

mod cache;
mod client;
mod endpoint;
mod server;
mod stream;

pub use cache::{ConnectionCache, IdleConnection, Remembered, RETRY_PASSED_OVER_AFTER};
pub use client::{ClientConnection, ClientOptions, Deadline, PendingReply};
pub use endpoint::{Dialect, Endpoint, EndpointError};
pub use server::{
    AdaptivePolicy, Attachment, ConnectionHandle, ConnectionId, Handler, ListenerSpec, Server,
    ServerOptions, Strategy,
};

use crate::giop::{CompletionStatus, GiopError};
use std::fmt;
use std::io;

/// Why a connection ended, as seen by the side that reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseCause {
    /// The peer closed its end (end of stream).
    PeerClosed,
    /// The peer sent GIOP CloseConnection: it processed none of the requests it did not
    /// answer (§15.5.1), so they can be retried.
    CloseConnection,
    /// The peer sent MessageError: it could not make sense of what we sent.
    MessageError,
    /// The peer broke the framing or sent a header that does not decode.
    Protocol(GiopError),
    /// A read or write failed.
    Io(io::ErrorKind),
    /// Pending output to a peer that does not read passed the connection's limit.
    OutputLimit,
    /// This side closed it ([`ConnectionHandle::close`], [`ClientConnection::close`], or a
    /// server shutting down).
    Local,
}

impl fmt::Display for CloseCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseCause::PeerClosed => f.write_str("closed by the peer"),
            CloseCause::CloseConnection => f.write_str("the peer sent CloseConnection"),
            CloseCause::MessageError => f.write_str("the peer sent MessageError"),
            CloseCause::Protocol(e) => write!(f, "protocol error: {e}"),
            CloseCause::Io(kind) => write!(f, "I/O error: {kind}"),
            CloseCause::OutputLimit => f.write_str("output limit reached"),
            CloseCause::Local => f.write_str("closed locally"),
        }
    }
}

/// What can go wrong moving messages.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error("cannot listen on {endpoint}: {source}")]
    Bind {
        endpoint: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot connect to {endpoint}: {source}")]
    Connect {
        endpoint: String,
        #[source]
        source: io::Error,
    },
    /// No reply came before the caller's deadline. The request went out: the server may
    /// still run it (CORBA::TIMEOUT, completion MAYBE). A reply arriving later is dropped.
    #[error("no reply before the deadline")]
    Timeout,
    /// The caller's deadline came before the request could be written (the socket did not
    /// take it: a peer that stopped reading, a link that went away). The server cannot run
    /// it (CORBA::TIMEOUT, completion NO): a request cut short breaks the connection.
    #[error("the request could not be written before the deadline")]
    NotSentInTime,
    /// The connection is gone. `sent` says whether every octet of this request had been
    /// written before the failure: if so, the server may have run it (completion MAYBE,
    /// CORBA::COMM_FAILURE); if not, it cannot have (completion NO, CORBA::TRANSIENT, safe to
    /// retry on a new connection). See [`TransportError::completion`].
    #[error("connection closed ({cause}); the request was {}", if *.sent { "sent" } else { "not sent" })]
    Closed { sent: bool, cause: CloseCause },
    /// Queuing this message would put more than the connection's limit in its output queue:
    /// the peer is not reading. The connection is closed.
    #[error("sending {len} octets would leave {pending} pending, over the limit of {max}")]
    OutputLimit {
        len: usize,
        pending: usize,
        max: usize,
    },
    /// The request id is already awaited on this connection (ids must be unique per
    /// connection; [`ClientConnection::next_request_id`] allocates them).
    #[error("request id {0} is already awaited on this connection")]
    DuplicateRequestId(u32),
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        #[source]
        source: io::Error,
    },
}

impl TransportError {
    /// How far a request that failed with this error got, for the system exception the ORB
    /// raises: NO when it certainly did not run (never fully sent, or the server said with
    /// CloseConnection that it dropped it), MAYBE when it was sent and may have run.
    pub fn completion(&self) -> CompletionStatus {
        match self {
            TransportError::Timeout => CompletionStatus::Maybe,
            TransportError::Closed {
                cause: CloseCause::CloseConnection,
                ..
            } => CompletionStatus::No,
            TransportError::Closed { sent: true, .. } => CompletionStatus::Maybe,
            _ => CompletionStatus::No,
        }
    }

    /// Whether the request may be retried as is on a new connection (CORBA::TRANSIENT rather
    /// than COMM_FAILURE): it failed before the server could have run it.
    pub fn is_retryable(&self) -> bool {
        match self {
            TransportError::Connect { .. } => true,
            TransportError::Closed { .. } => self.completion() == CompletionStatus::No,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
