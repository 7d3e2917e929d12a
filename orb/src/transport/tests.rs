//! Unit tests of the pure parts: endpoint strings, dialects, error classification.

use super::*;
use crate::cdr::ByteOrder;
use std::path::PathBuf;

#[test]
fn parses_tcp_endpoints() {
    assert_eq!(
        Endpoint::parse("giop:tcp:127.0.0.1:2809").unwrap(),
        Endpoint::Iiop {
            host: "127.0.0.1".into(),
            port: 2809
        }
    );
    assert_eq!(
        Endpoint::parse("GIOP:TCP:example.org:0").unwrap(),
        Endpoint::Iiop {
            host: "example.org".into(),
            port: 0
        }
    );
    assert_eq!(
        Endpoint::parse("giop:tcp:[::1]:65535").unwrap(),
        Endpoint::Iiop {
            host: "::1".into(),
            port: 65535
        }
    );
    // omniORB's shorthands: no host (every interface), no port (ephemeral).
    assert_eq!(
        Endpoint::parse("giop:tcp::2809").unwrap(),
        Endpoint::Iiop {
            host: String::new(),
            port: 2809
        }
    );
    assert_eq!(
        Endpoint::parse("giop:tcp:localhost:").unwrap(),
        Endpoint::Iiop {
            host: "localhost".into(),
            port: 0
        }
    );
}

#[test]
fn parses_unix_endpoints() {
    assert_eq!(
        Endpoint::parse("giop:unix:/tmp/rtorb/sock").unwrap(),
        Endpoint::Uiop {
            path: PathBuf::from("/tmp/rtorb/sock")
        }
    );
    // A path may hold colons; only the first two separate the scheme.
    assert_eq!(
        Endpoint::parse("giop:unix:/tmp/a:b").unwrap(),
        Endpoint::unix("/tmp/a:b")
    );
}

#[test]
fn parses_shm_endpoints() {
    assert_eq!(
        Endpoint::parse("giop:shm:/run/rtorb/shm.sock").unwrap(),
        Endpoint::Shmiop {
            path: PathBuf::from("/run/rtorb/shm.sock")
        }
    );
    // No path: a server picks a fresh one, as port 0 picks a port.
    assert_eq!(
        Endpoint::parse("GIOP:SHM:").unwrap(),
        Endpoint::Shmiop {
            path: PathBuf::new()
        }
    );
}

#[test]
fn refuses_malformed_endpoints() {
    use EndpointError as E;
    type Check = fn(&EndpointError) -> bool;
    let cases: &[(&str, Check)] = &[
        ("corbaloc:iiop:host:1", |e| matches!(e, E::NotGiop(_))),
        ("giop:ssl:host:1", |e| {
            matches!(e, E::UnsupportedTransport(_))
        }),
        ("giop:tcp:host", |e| matches!(e, E::MissingPort(_))),
        ("giop:tcp:host:65536", |e| matches!(e, E::InvalidPort(_))),
        ("giop:tcp:host:+1", |e| matches!(e, E::InvalidPort(_))),
        ("giop:tcp:host:12x", |e| matches!(e, E::InvalidPort(_))),
        ("giop:tcp:[::1:80", |e| matches!(e, E::InvalidIpv6(_))),
        ("giop:tcp:[nothost]:80", |e| matches!(e, E::InvalidIpv6(_))),
        ("giop:tcp:[::1]80", |e| matches!(e, E::MissingPort(_))),
        ("giop:tcp:::1:80", |e| matches!(e, E::InvalidIpv6(_))),
        ("giop:unix:", |e| matches!(e, E::EmptyPath(_))),
        ("giop", |e| matches!(e, E::UnsupportedTransport(_))),
        ("", |e| matches!(e, E::NotGiop(_))),
    ];
    for (s, check) in cases {
        let e = Endpoint::parse(s).unwrap_err();
        assert!(check(&e), "{s:?} gave {e:?}");
    }
}

#[test]
fn endpoints_print_as_they_parse() {
    for s in [
        "giop:tcp:127.0.0.1:2809",
        "giop:tcp:[::1]:0",
        "giop:tcp:[fe80::1]:1",
        "giop:tcp:host.example:65535",
        "giop:tcp::2809",
        "giop:unix:/tmp/x.sock",
        "giop:shm:/tmp/y.sock",
    ] {
        let e: Endpoint = s.parse().unwrap();
        assert_eq!(e.to_string(), s);
        assert_eq!(Endpoint::parse(&e.to_string()).unwrap(), e);
    }
    assert_eq!(
        Endpoint::tcp("[::1]:7".parse().unwrap()).to_string(),
        "giop:tcp:[::1]:7"
    );
}

#[test]
fn dialects_make_their_framers() {
    let f = Dialect::Giop.framer(1000);
    assert_eq!(f.lite_order(), None);
    assert_eq!(f.max_message_size(), 1000);
    let f = Dialect::Lite(ByteOrder::BigEndian).framer(64);
    assert_eq!(f.lite_order(), Some(ByteOrder::BigEndian));
    assert_eq!(Dialect::default(), Dialect::Giop);
    assert!(Dialect::LITE_NATIVE.is_lite());
}

#[test]
fn errors_say_how_far_a_request_got() {
    use crate::giop::CompletionStatus as C;
    let closed = |sent, cause| TransportError::Closed { sent, cause };
    assert_eq!(closed(false, CloseCause::PeerClosed).completion(), C::No);
    assert!(closed(false, CloseCause::PeerClosed).is_retryable());
    assert_eq!(closed(true, CloseCause::PeerClosed).completion(), C::Maybe);
    assert!(!closed(true, CloseCause::PeerClosed).is_retryable());
    // CloseConnection promises the unanswered requests were not processed.
    assert_eq!(
        closed(true, CloseCause::CloseConnection).completion(),
        C::No
    );
    assert!(closed(true, CloseCause::CloseConnection).is_retryable());
    assert_eq!(TransportError::Timeout.completion(), C::Maybe);
    assert!(!TransportError::Timeout.is_retryable());
}
