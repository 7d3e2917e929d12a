//! Waiting on a mio `Poll`'s epoll instance from several threads at once: the one thing mio
//! does not offer (`Poll::poll` takes `&mut self`), and what a leader/followers pool without a
//! hand-off needs.
//!
//! Every pool thread sleeps in `epoll_wait` on the same epoll descriptor. The kernel queues
//! such waiters as exclusive, so readiness wakes one of them, not all; a thread that takes
//! fewer events than are ready leaves the rest on the ready list, and the kernel then wakes
//! another waiter for them (`ep_done_scan` in `fs/eventpoll.c`). The thread that wakes reads
//! the connection and runs its requests itself while the others stay asleep: no lock is
//! handed over and no follower is woken on the common path.
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
}

impl Events {
    /// Room for `n` events a wait (at least one). A pool waits for one at a time, so that
    /// whatever else is ready wakes another thread instead of queueing behind this one's
    /// requests; a lone reactor thread takes many per system call.
    pub(super) fn with_capacity(n: usize) -> Events {
        let n = n.clamp(1, libc::c_int::MAX as usize);
        Events {
            events: vec![libc::epoll_event { events: 0, u64: 0 }; n],
        }
    }

    /// Blocks until something registered with `poll` is ready, and returns what is.
    /// `Interrupted` when a signal came first.
    pub(super) fn wait(&mut self, poll: &Poll) -> io::Result<impl Iterator<Item = Readiness> + '_> {
        // Why not mio's `Poll::poll`: it takes `&mut Poll`, so threads sharing one poll must
        // take turns behind a lock, and the turn passes with a futex wake-up of a follower
        // that then goes back to sleep in `epoll_wait` — two context switches per request when
        // client and server share a core (the pool measured 1.6–1.7× omniORB's median round
        // trip pinned).
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
                -1,
            )
        };
        // A negative count is an error; otherwise the kernel filled the first `n` entries.
        let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
        Ok(self.events[..n].iter().map(Readiness::of))
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
        let first: Vec<Readiness> = one.wait(&poll).unwrap().collect();
        assert_eq!(first.len(), 1);
        // The other event stayed ready for the next wait (edge-triggered: delivered once).
        let second: Vec<Readiness> = one.wait(&poll).unwrap().collect();
        let mut tokens = [first[0].token.0, second[0].token.0];
        tokens.sort_unstable();
        assert_eq!(tokens, [3, 11]);
        let data = if first[0].token == Token(11) {
            first[0]
        } else {
            second[0]
        };
        assert!(data.readable && !data.writable && !data.hup);
    }
}
