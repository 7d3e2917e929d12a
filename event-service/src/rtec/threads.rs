//! The threads a channel starts (dispatching, timers, control), kept so that `destroy` can
//! join every one of them.

use parking_lot::Mutex;
use std::thread::{JoinHandle, ThreadId};

#[derive(Default)]
pub(crate) struct Threads {
    handles: Mutex<Vec<JoinHandle<()>>>,
}

impl Threads {
    /// Starts `f` as a channel thread (on connections of its own, as the COS channel's: a
    /// consumer blocked in one call must not hold up calls to its neighbours).
    pub(crate) fn spawn(
        &self,
        name: &str,
        f: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<()> {
        let h = crate::channel::spawn(name, f)?;
        let mut handles = self.handles.lock();
        // Consumers come and go (tpc threads end with them): forget the finished.
        handles.retain(|h| !h.is_finished());
        handles.push(h);
        Ok(())
    }

    /// Threads still running.
    pub(crate) fn live(&self) -> usize {
        self.handles
            .lock()
            .iter()
            .filter(|h| !h.is_finished())
            .count()
    }

    /// Joins every thread but the caller's (a channel may be destroyed from one of its own
    /// threads, by a consumer's callback); returns how many were joined.
    pub(crate) fn join_all(&self) -> usize {
        let me: ThreadId = std::thread::current().id();
        let mut n = 0;
        loop {
            let batch: Vec<JoinHandle<()>> = std::mem::take(&mut *self.handles.lock());
            if batch.is_empty() {
                return n;
            }
            for h in batch {
                if h.thread().id() != me {
                    let _ = h.join();
                    n += 1;
                }
            }
        }
    }
}
