//! The process's watcher of peers: a thread that waits in `epoll` for the hang-up of every
//! channel's Unix socket and wakes that channel's sleepers at once.
//!
//! A sleeper on a futex cannot also wait for a socket, and a peer killed with `SIGKILL`
//! touches no futex; without the watcher a sleeper would find out only when its sleep slice
//! ends. Only hang-ups are asked for (`EPOLLRDHUP`, edge-triggered; `EPOLLHUP` and `EPOLLERR`
//! always come), never readability, so doorbells do not wake this thread. A channel is watched
//! until its socket hangs up or it is dropped, and the thread runs only while some channel is
//! watched: it starts with the first and ends after the last, so a process with no SHMIOP
//! connection has no thread of ours. If the watcher cannot be set up, channels still notice a
//! dead peer at the end of each sleep slice.

use parking_lot::Mutex;
use rustix::event::{epoll, EventfdFlags};
use std::collections::HashMap;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

/// What the watcher does for a channel whose socket hung up.
pub(crate) trait OnHangUp: Send + Sync {
    fn hung_up(&self);
}

/// The token of the eventfd that tells the thread to look whether it should end.
const STOP: u64 = 0;

struct State {
    watched: HashMap<u64, Weak<dyn OnHangUp>>,
    /// A thread is waiting in `epoll` (or about to).
    running: bool,
}

struct Watcher {
    epoll: OwnedFd,
    stop: OwnedFd,
    state: Mutex<State>,
    next: AtomicU64,
}

/// The process's watcher, made at the first call; `None` if it could not be.
fn watcher() -> Option<&'static Watcher> {
    static WATCHER: OnceLock<Option<Watcher>> = OnceLock::new();
    WATCHER
        .get_or_init(|| {
            let epoll = epoll::create(epoll::CreateFlags::CLOEXEC).ok()?;
            let stop =
                rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK).ok()?;
            let flags = epoll::EventFlags::IN | epoll::EventFlags::ET;
            epoll::add(&epoll, &stop, epoll::EventData::new_u64(STOP), flags).ok()?;
            Some(Watcher {
                epoll,
                stop,
                state: Mutex::new(State {
                    watched: HashMap::new(),
                    running: false,
                }),
                next: AtomicU64::new(STOP + 1),
            })
        })
        .as_ref()
}

impl Watcher {
    fn run(&'static self) {
        let mut events: Vec<epoll::Event> = Vec::with_capacity(64);
        loop {
            events.clear();
            let waited = epoll::wait(
                &self.epoll,
                rustix::buffer::spare_capacity(&mut events),
                None,
            );
            if let Err(e) = waited {
                if e == rustix::io::Errno::INTR {
                    continue;
                }
                // Nothing sensible to do but stop watching: sleep slices take over.
                self.state.lock().running = false;
                return;
            }
            for ev in &events {
                let token = ev.data.u64();
                if token == STOP {
                    let mut sink = [0u8; 8];
                    let _ = rustix::io::read(&self.stop, &mut sink);
                    continue;
                }
                // Once hung up, a socket has nothing more to say: no longer watched.
                let target = self.state.lock().watched.remove(&token);
                if let Some(t) = target.and_then(|w| w.upgrade()) {
                    t.hung_up();
                }
            }
            let mut st = self.state.lock();
            if st.watched.is_empty() {
                // Decided under the lock: a channel watched from now on starts a new thread.
                st.running = false;
                return;
            }
        }
    }
}

/// A channel's registration, removed with [`Watched::remove`].
pub(crate) struct Watched {
    token: u64,
}

impl Watched {
    /// Watches `socket` for hang-ups on behalf of `target`; `None` without a watcher.
    pub(crate) fn new(socket: BorrowedFd<'_>, target: &Arc<dyn OnHangUp>) -> Option<Watched> {
        let w = watcher()?;
        let token = w.next.fetch_add(1, Ordering::Relaxed);
        {
            let mut st = w.state.lock();
            st.watched.insert(token, Arc::downgrade(target));
            if !st.running {
                let spawned = std::thread::Builder::new()
                    .name("shmring-watcher".into())
                    .spawn(move || w.run());
                if spawned.is_err() {
                    st.watched.remove(&token);
                    return None;
                }
                st.running = true;
            }
        }
        let flags = epoll::EventFlags::RDHUP | epoll::EventFlags::ET;
        if epoll::add(&w.epoll, socket, epoll::EventData::new_u64(token), flags).is_err() {
            Watched { token }.remove(socket);
            return None;
        }
        Some(Watched { token })
    }

    /// Stops watching `socket` (before it is closed); the thread ends if it was the last.
    pub(crate) fn remove(self, socket: BorrowedFd<'_>) {
        let Some(w) = watcher() else { return };
        let _ = epoll::delete(&w.epoll, socket);
        let mut st = w.state.lock();
        st.watched.remove(&self.token);
        if st.watched.is_empty() && st.running {
            let _ = rustix::io::write(&w.stop, &1u64.to_ne_bytes());
        }
    }
}
