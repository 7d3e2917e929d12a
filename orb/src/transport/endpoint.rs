//! Where a server listens and a client connects, written as omniORB writes endpoints
//! (`giop:tcp:HOST:PORT`, `giop:unix:PATH`, and rtorb's own `giop:shm:PATH`), and which
//! framing a connection speaks.
//!
//! Parsing is pure: no name is resolved here. A host name is kept as written and resolved when
//! a server binds or a client connects.

use crate::cdr::ByteOrder;
use crate::giop::Framer;
use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

/// A transport address: IIOP (GIOP over TCP), UIOP (GIOP over a Unix domain socket) or
/// SHMIOP (GIOP through shared-memory rings set up over a Unix domain socket).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// `giop:tcp:HOST:PORT`. An empty host means every interface (servers only); port 0 asks
    /// the system for an ephemeral port (servers only). An IPv6 address is written in
    /// brackets (`giop:tcp:[::1]:2809`) and kept here without them.
    Iiop { host: String, port: u16 },
    /// `giop:unix:PATH`.
    Uiop { path: PathBuf },
    /// `giop:shm:PATH`: the Unix socket a SHMIOP connection is set up over (and whose end
    /// tells that the peer died). Only between rtorb processes of one host. An empty path
    /// asks a server for a fresh socket in the temporary directory (as port 0 does for TCP).
    Shmiop { path: PathBuf },
}

/// Why an endpoint string was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    #[error("endpoint {0:?} does not start with \"giop:\"")]
    NotGiop(String),
    #[error("endpoint transport {0:?} is not supported (only tcp, unix and shm are)")]
    UnsupportedTransport(String),
    #[error("endpoint {0:?} has no port (giop:tcp:HOST:PORT)")]
    MissingPort(String),
    #[error("endpoint {0:?} has an invalid port")]
    InvalidPort(String),
    #[error("endpoint {0:?} has an unterminated or invalid [IPv6] address")]
    InvalidIpv6(String),
    #[error("endpoint {0:?} has an empty Unix socket path")]
    EmptyPath(String),
}

impl Endpoint {
    /// A TCP endpoint for a socket address (IPv6 addresses without brackets).
    pub fn tcp(addr: SocketAddr) -> Endpoint {
        Endpoint::Iiop {
            host: addr.ip().to_string(),
            port: addr.port(),
        }
    }

    /// A Unix domain socket endpoint.
    pub fn unix(path: impl Into<PathBuf>) -> Endpoint {
        Endpoint::Uiop { path: path.into() }
    }

    /// Parses `giop:tcp:HOST:PORT`, `giop:unix:PATH` or `giop:shm:PATH` (the scheme and
    /// transport in any case).
    ///
    /// Like omniORB, `giop:tcp::PORT` (no host) and `giop:tcp:HOST:` (no port) are accepted and
    /// mean every interface and an ephemeral port.
    pub fn parse(s: &str) -> Result<Endpoint, EndpointError> {
        let mut parts = s.splitn(3, ':');
        let scheme = parts.next().unwrap_or("");
        if !scheme.eq_ignore_ascii_case("giop") {
            return Err(EndpointError::NotGiop(s.to_owned()));
        }
        let transport = parts.next().unwrap_or("");
        let rest = parts.next().unwrap_or("");
        if transport.eq_ignore_ascii_case("tcp") {
            let (host, port) = split_host_port(s, rest)?;
            Ok(Endpoint::Iiop { host, port })
        } else if transport.eq_ignore_ascii_case("unix") {
            if rest.is_empty() {
                return Err(EndpointError::EmptyPath(s.to_owned()));
            }
            Ok(Endpoint::Uiop { path: rest.into() })
        } else if transport.eq_ignore_ascii_case("shm") {
            Ok(Endpoint::Shmiop { path: rest.into() })
        } else {
            Err(EndpointError::UnsupportedTransport(transport.to_owned()))
        }
    }

    /// Resolves a TCP endpoint's host (a blocking name look-up for a host name) to socket
    /// addresses; an empty host is the IPv4 wildcard address.
    pub(crate) fn socket_addrs(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        if host.is_empty() {
            return Ok(vec![SocketAddr::new(IpAddr::from([0, 0, 0, 0]), port)]);
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        Ok((host, port).to_socket_addrs()?.collect())
    }
}

fn split_host_port(whole: &str, rest: &str) -> Result<(String, u16), EndpointError> {
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return Err(EndpointError::InvalidIpv6(whole.to_owned()));
        };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(EndpointError::InvalidIpv6(whole.to_owned()));
        }
        let Some(port) = after.strip_prefix(':') else {
            return Err(EndpointError::MissingPort(whole.to_owned()));
        };
        (addr, port)
    } else {
        let Some((host, port)) = rest.rsplit_once(':') else {
            return Err(EndpointError::MissingPort(whole.to_owned()));
        };
        // An unbracketed IPv6 address would be ambiguous with the port separator.
        if host.contains(':') {
            return Err(EndpointError::InvalidIpv6(whole.to_owned()));
        }
        (host, port)
    };
    let port = if port.is_empty() {
        0
    } else {
        if !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(EndpointError::InvalidPort(whole.to_owned()));
        }
        port.parse::<u16>()
            .map_err(|_| EndpointError::InvalidPort(whole.to_owned()))?
    };
    Ok((host.to_owned(), port))
}

impl std::str::FromStr for Endpoint {
    type Err = EndpointError;

    fn from_str(s: &str) -> Result<Endpoint, EndpointError> {
        Endpoint::parse(s)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Iiop { host, port } if host.contains(':') => {
                write!(f, "giop:tcp:[{host}]:{port}")
            }
            Endpoint::Iiop { host, port } => write!(f, "giop:tcp:{host}:{port}"),
            Endpoint::Uiop { path } => write!(f, "giop:unix:{}", path.display()),
            Endpoint::Shmiop { path } => write!(f, "giop:shm:{}", path.display()),
        }
    }
}

/// The framing a connection speaks for its whole life, chosen by configuration on both sides
/// and never guessed from the bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// GIOP 1.0–1.2: every message says its own version and byte order. What any ORB speaks.
    #[default]
    Giop,
    /// GIOP-lite in the given byte order: only between two rtorb ORBs configured for it.
    Lite(ByteOrder),
}

impl Dialect {
    /// GIOP-lite in this machine's byte order, the cheapest for two peers alike.
    pub const LITE_NATIVE: Dialect = Dialect::Lite(ByteOrder::NATIVE);

    /// A framer for this dialect with the given message size limit.
    pub fn framer(self, max_message_size: usize) -> Framer {
        match self {
            Dialect::Giop => Framer::giop(),
            Dialect::Lite(order) => Framer::lite(order),
        }
        .with_max_message_size(max_message_size)
    }

    pub fn is_lite(self) -> bool {
        matches!(self, Dialect::Lite(_))
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dialect::Giop => f.write_str("GIOP"),
            Dialect::Lite(ByteOrder::BigEndian) => f.write_str("GIOP-lite (big-endian)"),
            Dialect::Lite(ByteOrder::LittleEndian) => f.write_str("GIOP-lite (little-endian)"),
        }
    }
}
