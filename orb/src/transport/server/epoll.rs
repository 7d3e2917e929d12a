//! Waiting on a mio `Poll`'s epoll instance from several threads at once: the one thing mio
//! does not offer (`Poll::poll` takes `&mut self`), and what a leader/followers pool without a
//! hand-off needs.
//!
//! Whichever pool thread is the poller at the time waits here, without holding a lock the
//! others need (see the reactor for who polls when).
//!
//! Registrations stay mio's (`Registry`, edge-triggered, the `Token` in `epoll_event.u64`);
//! this module only waits, and turns the kernel's event bits into what the reactor needs.
//! It never registers, modifies or closes a descriptor.
#![allow(unsafe_code)]

use mio::{Poll, Token};
use std::io;
use std::os::fd::AsRawFd;

/// Readiness of one registered source, from one `epoll_wait`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Readiness {
    pub token: Token,
    pub readable: bool,
    pub writable: bool,
    /// The peer closed its side or the socket failed: read until end of stream.
    pub hup: bool,
}

impl Readiness {
    /// Input to read that no event will announce (a connection handed back to the pool).
    pub fn readable(token: Token) -> Readiness {
        Readiness {
            token,
            readable: true,
            writable: false,
            hup: false,
        }
    }

    /// Nothing ready: a connection to look at because it is closing.
    pub fn closing(token: Token) -> Readiness {
        Readiness {
            token,
            readable: false,
            writable: false,
            hup: false,
        }
    }

    /// mio's reading of the bits (`sys/unix/selector/epoll.rs`), folded into the three the
    /// reactor acts on: a hang-up and an error both mean "read to the end, and close".
    fn of(event: &libc::epoll_event) -> Readiness {
        let bits = event.events as libc::c_int;
        Readiness {
            token: Token(event.u64 as usize),
            readable: bits & (libc::EPOLLIN | libc::EPOLLPRI) != 0,
            writable: bits & libc::EPOLLOUT != 0,
            hup: bits & (libc::EPOLLHUP | libc::EPOLLRDHUP | libc::EPOLLERR) != 0,
        }
    }
}

/// One thread's buffer of events.
pub(super) struct Events {
    events: Vec<libc::epoll_event>,
    /// How many the last wait filled.
    ready: usize,
}

impl Events {
    /// Room for `n` events a wait (at least one).
    pub(super) fn with_capacity(n: usize) -> Events {
        let n = n.clamp(1, libc::c_int::MAX as usize);
        Events {
            events: vec![libc::epoll_event { events: 0, u64: 0 }; n],
            ready: 0,
        }
    }

    /// How many events of those registered with `poll` are ready (at most the room), each
    /// then read with [`Events::get`]; if `block`, waits until one is. `Interrupted` when a
    /// signal came first.
    pub(super) fn wait(&mut self, poll: &Poll, block: bool) -> io::Result<usize> {
        // Why not mio's `Poll::poll`: it takes `&mut Poll`, so a pool's threads would take
        // turns behind a lock around it, and a thread that gets an event and must let another
        // poll while it serves would have to wake it through that lock — with client and
        // server on one core, two more context switches per request (that pool measured
        // 1.14–1.15× omniORB's median round trip pinned; the single reactor thread, and the
        // pool polling here, 1.06×).
        // Waiting on the descriptor directly lets whichever thread is the poller wait without
        // holding anything the others need.
        //
        // SAFETY: `poll` owns the epoll descriptor and outlives this call (it is borrowed);
        // the pointer and the count describe `self.events`, an initialised buffer of exactly
        // that many entries, which the kernel writes at most `maxevents` of; `epoll_wait` does
        // not keep the pointer after it returns.
        let n = unsafe {
            libc::epoll_wait(
                poll.as_raw_fd(),
                self.events.as_mut_ptr(),
                self.events.len() as libc::c_int,
                if block { -1 } else { 0 },
            )
        };
        // A negative count is an error; otherwise the kernel filled the first `n` entries.
        let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
        self.ready = n.min(self.events.len());
        Ok(self.ready)
    }

    /// The `i`th event of the last wait.
    pub(super) fn get(&self, i: usize) -> Readiness {
        Readiness::of(&self.events[..self.ready][i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mio::{Interest, Waker};
    use std::io::Write;

    #[test]
    fn event_bits_map_as_mio_reads_them() {
        let ev = |bits: libc::c_int, token: u64| libc::epoll_event {
            events: bits as u32,
            u64: token,
        };
        let r = Readiness::of(&ev(libc::EPOLLIN, 7));
        assert_eq!(
            r,
            Readiness {
                token: Token(7),
                readable: true,
                writable: false,
                hup: false
            }
        );
        let r = Readiness::of(&ev(libc::EPOLLOUT | libc::EPOLLERR, 9));
        assert!(r.writable && r.hup && !r.readable);
        let r = Readiness::of(&ev(libc::EPOLLIN | libc::EPOLLRDHUP, 1));
        assert!(r.readable && r.hup);
        assert!(Readiness::of(&ev(libc::EPOLLHUP, 1)).hup);
    }

    #[test]
    fn a_wait_returns_the_tokens_mio_registered_and_no_more_than_its_room() {
        let poll = Poll::new().unwrap();
        let waker = Waker::new(poll.registry(), Token(3)).unwrap();
        let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        let mut b = mio::net::UnixStream::from_std(b);
        poll.registry()
            .register(&mut b, Token(11), Interest::READABLE)
            .unwrap();
        a.write_all(b"x").unwrap();
        waker.wake().unwrap();
        let mut one = Events::with_capacity(1);
        assert_eq!(one.wait(&poll, true).unwrap(), 1);
        let first = one.get(0);
        // The other event stayed ready for the next wait (edge-triggered: delivered once).
        assert_eq!(one.wait(&poll, true).unwrap(), 1);
        let second = one.get(0);
        let mut tokens = [first.token.0, second.token.0];
        tokens.sort_unstable();
        assert_eq!(tokens, [3, 11]);
        let data = if first.token == Token(11) {
            first
        } else {
            second
        };
        assert!(data.readable && !data.writable && !data.hup);
        // Nothing more is ready: a look without waiting says so.
        assert_eq!(one.wait(&poll, false).unwrap(), 0);
    }
}
