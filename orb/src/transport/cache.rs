//! Client connections kept for reuse: one per (endpoint, dialect), shared by every caller,
//! their requests multiplexed by request id.

use super::client::{ClientConnection, ClientOptions};
use super::endpoint::{Dialect, Endpoint};
use super::TransportError;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// The client connection cache. A connection found broken (closed by the server, failed) is
/// replaced by a new one the next time it is asked for; callers still holding the old one get
/// its error.
#[derive(Debug, Default)]
pub struct ConnectionCache {
    options: ClientOptions,
    /// Keyed by endpoint alone, so that a lookup borrows the caller's endpoint instead of
    /// cloning it into a key (an allocation per call); an endpoint has one connection per
    /// dialect it is used in, nearly always just one.
    conns: Mutex<Conns>,
}

type Conns = HashMap<Endpoint, Vec<(Dialect, Arc<ClientConnection>)>>;

fn find(conns: &Conns, endpoint: &Endpoint, dialect: Dialect) -> Option<Arc<ClientConnection>> {
    let (_, c) = conns.get(endpoint)?.iter().find(|(d, _)| *d == dialect)?;
    c.is_usable().then(|| c.clone())
}

impl ConnectionCache {
    pub fn new(options: ClientOptions) -> ConnectionCache {
        ConnectionCache {
            options,
            conns: Mutex::new(HashMap::new()),
        }
    }

    /// The open connection to `endpoint` in `dialect`, connecting if there is none or the
    /// one there broke. The connect happens outside the cache's lock, so a slow server does
    /// not hold up callers of others; two callers racing to connect keep the first one.
    pub fn get(
        &self,
        endpoint: &Endpoint,
        dialect: Dialect,
    ) -> Result<Arc<ClientConnection>, TransportError> {
        if let Some(c) = find(&self.conns.lock(), endpoint, dialect) {
            return Ok(c);
        }
        let fresh = Arc::new(ClientConnection::connect(endpoint, dialect, &self.options)?);
        let mut conns = self.conns.lock();
        if let Some(c) = find(&conns, endpoint, dialect) {
            return Ok(c);
        }
        let same = conns.entry(endpoint.clone()).or_default();
        same.retain(|(d, _)| *d != dialect);
        same.push((dialect, fresh.clone()));
        Ok(fresh)
    }

    /// Closes and forgets the connection to `endpoint` in `dialect`, if any.
    pub fn remove(&self, endpoint: &Endpoint, dialect: Dialect) {
        let removed = {
            let mut conns = self.conns.lock();
            let Some(same) = conns.get_mut(endpoint) else {
                return;
            };
            let i = same.iter().position(|(d, _)| *d == dialect);
            let removed = i.map(|i| same.swap_remove(i).1);
            if same.is_empty() {
                conns.remove(endpoint);
            }
            removed
        };
        if let Some(c) = removed {
            c.close();
        }
    }

    /// How many connections are cached (broken ones included until replaced).
    pub fn len(&self) -> usize {
        self.conns.lock().values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Closes and forgets every connection.
    pub fn clear(&self) {
        let conns: Vec<_> = self
            .conns
            .lock()
            .drain()
            .flat_map(|(_, same)| same.into_iter().map(|(_, c)| c))
            .collect();
        for c in conns {
            c.close();
        }
    }
}
