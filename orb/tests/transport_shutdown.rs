//! Shutting a server down: every connection closed and reported, every thread it started
//! gone, its Unix socket file removed. One test in its own binary, so the process's thread
//! count belongs to it alone.

mod transport_common;

use orb::transport::{
    ClientConnection, ClientOptions, CloseCause, Dialect, Endpoint, ServerOptions, Strategy,
    TransportError,
};
use std::sync::Arc;
use transport_common::*;

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn shutdown_closes_everything_and_leaves_no_thread() {
    let dir = SocketDir::new();
    let baseline = threads();
    for strategy in [
        Strategy::Reactive,
        Strategy::ThreadPool { threads: 4 },
        ADAPTIVE,
        Strategy::ThreadPerConnection,
    ] {
        for wait in [true, false] {
            for endpoint in [
                tcp_any(),
                dir.endpoint("shutdown"),
                dir.shm_endpoint("shutdown"),
            ] {
                let handler = Echo::new();
                let (server, bound) = serve(
                    endpoint,
                    Dialect::Giop,
                    strategy,
                    &handler,
                    ServerOptions::default(),
                );
                let clients: Vec<Arc<ClientConnection>> = (0..5)
                    .map(|_| {
                        Arc::new(
                            ClientConnection::connect(
                                &bound,
                                Dialect::Giop,
                                &ClientOptions::default(),
                            )
                            .unwrap(),
                        )
                    })
                    .collect();
                // One call on each, so every connection is accepted and served, and one more
                // left waiting for a reply that shutdown will pre-empt.
                for c in &clients {
                    let id = c.next_request_id();
                    let reply = c
                        .call(id, &request(Dialect::Giop, id, "echo", b"x"), deadline())
                        .unwrap();
                    assert_eq!(reply_parts(&reply).0, id);
                }
                let waiting = clients[0].clone();
                let waiter = std::thread::spawn(move || {
                    let id = waiting.next_request_id();
                    waiting.call(id, &request(Dialect::Giop, id, "ignore", b""), deadline())
                });
                assert!(wait_until(|| handler
                    .frames
                    .load(std::sync::atomic::Ordering::SeqCst)
                    >= 6));
                assert!(threads() > baseline);

                server.shutdown(wait);
                // Again is harmless.
                server.shutdown(wait);
                let e = waiter.join().unwrap().unwrap_err();
                assert!(
                    matches!(e, TransportError::Closed { sent: true, .. }),
                    "{strategy:?}: {e:?}"
                );
                // Every connection was closed and reported, as closed by us.
                assert!(handler.wait_closes(5), "{strategy:?}");
                assert!(handler
                    .closed
                    .lock()
                    .unwrap()
                    .iter()
                    .all(|(_, c)| *c == CloseCause::Local));
                // No thread left: joined, or (without waiting) gone by themselves — checked
                // before the server is dropped, since dropping it joins.
                assert!(
                    wait_until(|| threads() == baseline),
                    "{strategy:?} wait={wait}: {} threads, {baseline} before",
                    threads()
                );
                drop(server);
                // Nothing holds the handler any more.
                assert_eq!(Arc::strong_count(&handler), 1, "{strategy:?}");
                if let Endpoint::Uiop { path } = &bound {
                    assert!(!path.exists(), "the socket file is removed");
                }
                for c in &clients {
                    let id = c.next_request_id();
                    let e = c
                        .call(id, &request(Dialect::Giop, id, "echo", b""), deadline())
                        .unwrap_err();
                    assert!(matches!(e, TransportError::Closed { .. }), "{e:?}");
                }
                assert!(handler.send_errors.lock().unwrap().is_empty());
            }
        }
    }
}
