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
    conns: Mutex<HashMap<(Endpoint, Dialect), Arc<ClientConnection>>>,
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
        let key = (endpoint.clone(), dialect);
        if let Some(c) = self.conns.lock().get(&key) {
            if !c.is_closed() {
                return Ok(c.clone());
            }
        }
        let fresh = Arc::new(ClientConnection::connect(endpoint, dialect, &self.options)?);
        let mut conns = self.conns.lock();
        match conns.get(&key) {
            Some(c) if !c.is_closed() => Ok(c.clone()),
            _ => {
                conns.insert(key, fresh.clone());
                Ok(fresh)
            }
        }
    }

    /// Closes and forgets the connection to `endpoint` in `dialect`, if any.
    pub fn remove(&self, endpoint: &Endpoint, dialect: Dialect) {
        if let Some(c) = self.conns.lock().remove(&(endpoint.clone(), dialect)) {
            c.close();
        }
    }

    /// How many connections are cached (broken ones included until replaced).
    pub fn len(&self) -> usize {
        self.conns.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Closes and forgets every connection.
    pub fn clear(&self) {
        let conns: Vec<_> = self.conns.lock().drain().map(|(_, c)| c).collect();
        for c in conns {
            c.close();
        }
    }
}
