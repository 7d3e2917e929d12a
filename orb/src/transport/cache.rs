//! Client connections kept for reuse: one per (endpoint, dialect), shared by every caller,
//! their requests multiplexed by request id — plus, for callers that must not wait behind
//! other requests (calls made during an upcall), more connections each used by one caller
//! at a time ([`ConnectionCache::get_idle`]). RT-CORBA's priority bands have the same again
//! per band ([`ConnectionCache::get_banded_within`], [`ConnectionCache::get_idle_banded_within`]),
//! in the same map: a connection's [`Class`] says its dialect and band.

use super::client::{ClientConnection, ClientOptions};
use super::endpoint::{Dialect, Endpoint};
use super::TransportError;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Routes kept before the ones whose oneways have all been served are swept out.
const MAX_ONEWAY_ROUTES: usize = 1024;

/// Connections to one endpoint that carry oneway routes; objects beyond share them (the one
/// fewest objects use), so a process with many objects is not sent as many connections.
const MAX_ROUTED_CONNECTIONS: usize = 16;

/// Where oneways to one object go: see [`ConnectionCache::oneway_route`].
#[derive(Debug)]
struct Route {
    /// Which endpoint and dialect (a hash), to count and share an endpoint's routes.
    endpoint: u64,
    conn: Weak<ClientConnection>,
}

impl Route {
    fn live(&self) -> Option<Arc<ClientConnection>> {
        self.conn
            .upgrade()
            .filter(|c| !c.is_closed() && c.has_oneways_in_flight())
    }
}

/// The client connection cache. A connection found broken (closed by the server, failed) is
/// replaced by a new one the next time it is asked for; callers still holding the old one get
/// its error.
#[derive(Debug, Default)]
pub struct ConnectionCache {
    options: ClientOptions,
    /// Keyed by endpoint alone, so that a lookup borrows the caller's endpoint instead of
    /// cloning it into a key (an allocation per call); an endpoint has one shared connection
    /// per class (dialect and band) it is used in, nearly always just one.
    conns: Mutex<Conns>,
    /// Where the last oneways to each object went, keyed by a hash of endpoint, dialect, band
    /// and object key (a collision only makes two objects share a route): see
    /// [`ConnectionCache::oneway_route`].
    oneway_routes: Mutex<HashMap<u64, Route>>,
    /// Endpoints a caller can do without (a lane's own) whose last connect failed, and when
    /// they may be tried again: see [`ConnectionCache::unless_passed_over`].
    passed_over: Mutex<HashMap<Endpoint, Instant>>,
    /// Whether `passed_over` may have entries: while it has none, as nearly always, a banded
    /// call does not take its lock.
    any_passed_over: AtomicBool,
    hasher: std::collections::hash_map::RandomState,
    /// Which cache this is, for [`Remembered`]: a caller's memory names the cache it came
    /// from, so that it is never taken for another's (a reference tied to no ORB calls
    /// through the ORB of the calling thread, which may differ from call to call).
    id: CacheId,
}

/// A cache's identity, unique in the process (never reused, unlike an address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CacheId(u64);

impl Default for CacheId {
    fn default() -> CacheId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        CacheId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// A caller's memory of the shared unbanded connection a cache gave it
/// ([`ConnectionCache::remember`]), so that its next call can take that connection again
/// without the cache's lock and hash lookup ([`ConnectionCache::recall`]). Weak: it keeps no
/// connection alive, dead or not; the cache alone owns its connections.
#[derive(Clone, Debug, Default)]
pub struct Remembered {
    cache: Option<CacheId>,
    conn: Weak<ClientConnection>,
}

/// How long an endpoint a caller can do without is passed over after a connect to it failed:
/// meanwhile its calls go the other way at once, instead of each paying a refused or
/// timed-out connect first.
pub const RETRY_PASSED_OVER_AFTER: Duration = Duration::from_secs(5);

/// What calls a cached connection carries: those of one dialect and, for RT-CORBA's
/// priority-banded connections, of one band only (an index into the client's bands), so that
/// a flood queued on one band's connection cannot delay a call of another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Class {
    dialect: Dialect,
    band: Option<u16>,
}

impl Class {
    /// The ordinary connections of `dialect`, outside every band.
    fn unbanded(dialect: Dialect) -> Class {
        Class {
            dialect,
            band: None,
        }
    }
}

/// Per endpoint, its connections in the order they were made: the first of a class is the
/// shared one [`ConnectionCache::get`] gives, the others are spares for
/// [`ConnectionCache::get_idle`].
type Conns = HashMap<Endpoint, Vec<(Class, Arc<ClientConnection>)>>;

fn find(conns: &Conns, endpoint: &Endpoint, class: Class) -> Option<Arc<ClientConnection>> {
    let (_, c) = conns.get(endpoint)?.iter().find(|(k, _)| *k == class)?;
    c.is_usable().then(|| c.clone())
}

/// More connections than this to one endpoint in one dialect, and the surplus that only
/// waits for the confirmation of a oneway is closed: a caller that sends oneways during
/// upcalls would otherwise leave one behind per call.
const MAX_SPARES: usize = 8;

/// A connection one caller has to itself, from [`ConnectionCache::get_idle`]: other
/// `get_idle` callers get another until this is dropped (shared callers of
/// [`ConnectionCache::get`] may still use it; they hold nothing the caller waits for).
#[derive(Debug)]
pub struct IdleConnection(Arc<ClientConnection>);

impl std::ops::Deref for IdleConnection {
    type Target = Arc<ClientConnection>;
    fn deref(&self) -> &Arc<ClientConnection> {
        &self.0
    }
}

impl Drop for IdleConnection {
    fn drop(&mut self) {
        self.0.release();
    }
}

impl ConnectionCache {
    pub fn new(options: ClientOptions) -> ConnectionCache {
        ConnectionCache {
            options,
            conns: Mutex::new(HashMap::new()),
            oneway_routes: Mutex::new(HashMap::new()),
            passed_over: Mutex::new(HashMap::new()),
            any_passed_over: AtomicBool::new(false),
            hasher: Default::default(),
            id: CacheId::default(),
        }
    }

    /// A memory of `conn`, a connection [`ConnectionCache::get`] (or `get_within`) of this
    /// cache just gave, for [`ConnectionCache::recall`].
    pub fn remember(&self, conn: &Arc<ClientConnection>) -> Remembered {
        Remembered {
            cache: Some(self.id),
            conn: Arc::downgrade(conn),
        }
    }

    /// The connection `remembered` names, if this cache gave it and it is still there;
    /// [`ConnectionCache::recalled_usable`] then says whether the cache would give it again.
    /// Cheap (no lock, no hash): meant to be called under the caller's own lock, and the
    /// check, which may read the connection, outside it.
    pub fn recall(&self, remembered: &Remembered) -> Option<Arc<ClientConnection>> {
        if remembered.cache != Some(self.id) {
            return None;
        }
        remembered.conn.upgrade()
    }

    /// The connection `remembered` names, still weak, if this cache gave it: for a caller that
    /// keeps it to take it again later without asking the cache (it is then
    /// [`ConnectionCache::recall`] without the cache's identity checked each time).
    pub fn remembered(&self, remembered: &Remembered) -> Option<Weak<ClientConnection>> {
        (remembered.cache == Some(self.id)).then(|| remembered.conn.clone())
    }

    /// Whether a connection [`ConnectionCache::recall`] gave is the one
    /// [`ConnectionCache::get`] would give now for its endpoint and dialect: exactly when it
    /// is usable, the very check `get` makes of its shared connection. The cache replaces or
    /// drops a shared connection only once it is unusable or closed (a broken one, one
    /// discarded, removed or cleared: all closed, for good), so one still usable is still
    /// the shared one; one that is not goes back to `get`, which replaces it as ever.
    pub fn recalled_usable(&self, conn: &ClientConnection) -> bool {
        conn.is_usable()
    }

    /// The connection the last oneways to the object `key` at `endpoint` went on (those of
    /// priority band `band`, or outside every band), while one of them may still be with
    /// the server.
    ///
    /// A caller that takes idle connections ([`ConnectionCache::get_idle`]) would otherwise
    /// send each oneway on whichever connection is idle — never the one its last oneway is
    /// still on — and a server reads each connection with its own thread, so a later oneway
    /// could overtake an earlier one (an event channel's pushes to a consumer arrived out of
    /// order). Oneways to one object follow each other on one connection instead; objects
    /// still get connections of their own, so one slow to serve its oneways delays no other.
    pub fn oneway_route(
        &self,
        endpoint: &Endpoint,
        dialect: Dialect,
        band: Option<u16>,
        key: &[u8],
    ) -> Option<Arc<ClientConnection>> {
        let h = self.route_hash(endpoint, dialect, band, key);
        let mut routes = self.oneway_routes.lock();
        let live = routes.get(&h)?.live();
        if live.is_none() {
            routes.remove(&h);
        }
        live
    }

    /// For an object with no route yet: one of the endpoint's routed connections when it has
    /// [`MAX_ROUTED_CONNECTIONS`] already (the one the fewest objects use), else `None` (take
    /// an idle connection).
    pub fn crowded_route(
        &self,
        endpoint: &Endpoint,
        dialect: Dialect,
        band: Option<u16>,
    ) -> Option<Arc<ClientConnection>> {
        let eh = self.route_hash(endpoint, dialect, band, &[]);
        let routes = self.oneway_routes.lock();
        let mut used: Vec<(Arc<ClientConnection>, usize)> = Vec::new();
        for r in routes.values().filter(|r| r.endpoint == eh) {
            let Some(c) = r.live() else { continue };
            match used.iter_mut().find(|(u, _)| Arc::ptr_eq(u, &c)) {
                Some((_, n)) => *n += 1,
                None => used.push((c, 1)),
            }
        }
        if used.len() < MAX_ROUTED_CONNECTIONS {
            return None;
        }
        used.into_iter().min_by_key(|(_, n)| *n).map(|(c, _)| c)
    }

    /// Records that oneways to the object `key` at `endpoint` go on `conn` from now on.
    pub fn set_oneway_route(
        &self,
        endpoint: &Endpoint,
        dialect: Dialect,
        band: Option<u16>,
        key: &[u8],
        conn: &Arc<ClientConnection>,
    ) {
        let h = self.route_hash(endpoint, dialect, band, key);
        let eh = self.route_hash(endpoint, dialect, band, &[]);
        let mut routes = self.oneway_routes.lock();
        if routes.len() >= MAX_ONEWAY_ROUTES {
            routes.retain(|_, r| r.live().is_some());
        }
        routes.insert(
            h,
            Route {
                endpoint: eh,
                conn: Arc::downgrade(conn),
            },
        );
    }

    /// Whether oneways to some object go on `conn`: such a connection is never surplus.
    fn is_oneway_route(&self, conn: &Arc<ClientConnection>) -> bool {
        let weak = Arc::downgrade(conn);
        self.oneway_routes
            .lock()
            .values()
            .any(|r| r.conn.ptr_eq(&weak) && r.live().is_some())
    }

    fn route_hash(
        &self,
        endpoint: &Endpoint,
        dialect: Dialect,
        band: Option<u16>,
        key: &[u8],
    ) -> u64 {
        let mut h = self.hasher.build_hasher();
        endpoint.hash(&mut h);
        dialect.hash(&mut h);
        band.hash(&mut h);
        key.hash(&mut h);
        h.finish()
    }

    /// A new connection, the connect bounded by the connect timeout and by `deadline`: a
    /// call's timeout covers its connect too, so a server that does not answer SYNs (a host
    /// gone, a partition) costs the caller its timeout, not the longer connect timeout.
    fn connect(
        &self,
        endpoint: &Endpoint,
        dialect: Dialect,
        deadline: Option<Instant>,
    ) -> Result<ClientConnection, TransportError> {
        let Some(deadline) = deadline else {
            return ClientConnection::connect(endpoint, dialect, &self.options);
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(TransportError::Connect {
                endpoint: endpoint.to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the call's deadline passed before it could connect",
                ),
            });
        }
        if left >= self.options.connect_timeout {
            return ClientConnection::connect(endpoint, dialect, &self.options);
        }
        let options = ClientOptions {
            connect_timeout: left,
            ..self.options.clone()
        };
        ClientConnection::connect(endpoint, dialect, &options)
    }

    /// The open connection to `endpoint` in `dialect`, connecting if there is none or the
    /// one there broke. The connect happens outside the cache's lock, so a slow server does
    /// not hold up callers of others; two callers racing to connect keep the first one.
    pub fn get(
        &self,
        endpoint: &Endpoint,
        dialect: Dialect,
    ) -> Result<Arc<ClientConnection>, TransportError> {
        self.get_within(endpoint, dialect, None)
    }

    /// [`ConnectionCache::get`] for a call that must be answered by `deadline`: a connect
    /// gives up then, even before the connect timeout (a connect TimedOut error).
    pub fn get_within(
        &self,
        endpoint: &Endpoint,
        dialect: Dialect,
        deadline: Option<Instant>,
    ) -> Result<Arc<ClientConnection>, TransportError> {
        self.shared(endpoint, Class::unbanded(dialect), deadline)
    }

    /// `get`, for an endpoint the caller has another way to (a lane's own, beside the
    /// server's address): `None`, without trying, while a connect to it failed less than
    /// [`RETRY_PASSED_OVER_AFTER`] ago; a failure of `get` starts that time.
    pub fn unless_passed_over<T>(
        &self,
        endpoint: &Endpoint,
        get: impl FnOnce() -> Result<T, TransportError>,
    ) -> Option<T> {
        // Relaxed: a caller that misses an endpoint passed over a moment ago only tries it
        // once more, as it would have without the flag.
        if self.any_passed_over.load(Ordering::Relaxed) {
            let mut passed = self.passed_over.lock();
            if let Some(&until) = passed.get(endpoint) {
                if Instant::now() < until {
                    return None;
                }
                passed.remove(endpoint);
                if passed.is_empty() {
                    self.any_passed_over.store(false, Ordering::Relaxed);
                }
            }
        }
        match get() {
            Ok(c) => Some(c),
            Err(_) => {
                let mut passed = self.passed_over.lock();
                passed.insert(endpoint.clone(), Instant::now() + RETRY_PASSED_OVER_AFTER);
                self.any_passed_over.store(true, Ordering::Relaxed);
                None
            }
        }
    }

    /// The shared connection of priority band `band` (an index into the client's bands) to
    /// `endpoint` in `dialect`, connecting if there is none or it broke: calls of different
    /// bands go on different connections, so a flood of calls queued on one band's
    /// connection (in the socket, in the server's reader) cannot delay a call on another's.
    pub fn get_banded_within(
        &self,
        endpoint: &Endpoint,
        dialect: Dialect,
        band: u16,
        deadline: Option<Instant>,
    ) -> Result<Arc<ClientConnection>, TransportError> {
        let class = Class {
            dialect,
            band: Some(band),
        };
        self.shared(endpoint, class, deadline)
    }

    /// The shared connection of `class` to `endpoint`: see [`ConnectionCache::get`].
    fn shared(
        &self,
        endpoint: &Endpoint,
        class: Class,
        deadline: Option<Instant>,
    ) -> Result<Arc<ClientConnection>, TransportError> {
        if let Some(c) = find(&self.conns.lock(), endpoint, class) {
            return Ok(c);
        }
        let fresh = Arc::new(self.connect(endpoint, class.dialect, deadline)?);
        let mut conns = self.conns.lock();
        if let Some(c) = find(&conns, endpoint, class) {
            return Ok(c);
        }
        let same = conns.entry(endpoint.clone()).or_default();
        // The broken shared connection goes; spares stay (and are looked at when used).
        if let Some(i) = same.iter().position(|(k, _)| *k == class) {
            same.remove(i);
        }
        let at = same
            .iter()
            .position(|(k, _)| *k == class)
            .unwrap_or(same.len());
        same.insert(at, (class, fresh.clone()));
        Ok(fresh)
    }

    /// A connection to `endpoint` in `dialect` on which nothing is with the server
    /// ([`ClientConnection::is_idle`]), for the caller alone until it drops it: the shared
    /// one if idle, else a spare, else a new one.
    ///
    /// A call made while serving a request needs this. The server runs one connection's
    /// requests in order, so a request sent on a connection busy with one of the requests
    /// the caller is (indirectly) serving would wait for that request to finish — which
    /// waits for this call: a deadlock. On an idle connection it waits for nothing.
    pub fn get_idle(
        &self,
        endpoint: &Endpoint,
        dialect: Dialect,
    ) -> Result<IdleConnection, TransportError> {
        self.get_idle_within(endpoint, dialect, None)
    }

    /// [`ConnectionCache::get_idle`] for a call that must be answered by `deadline` (see
    /// [`ConnectionCache::get_within`]).
    pub fn get_idle_within(
        &self,
        endpoint: &Endpoint,
        dialect: Dialect,
        deadline: Option<Instant>,
    ) -> Result<IdleConnection, TransportError> {
        self.idle(endpoint, Class::unbanded(dialect), deadline)
    }

    /// [`ConnectionCache::get_idle_within`] among the connections of priority band `band`:
    /// idle, and only ever used by calls of the band. Idle is what a call made in an upcall
    /// needs (it must not wait behind the call that waits for it); of its band, so that it
    /// is read by a server thread of its band's priority (a server's reader takes the
    /// priority of the requests it reads) and on the same connections as the band's other
    /// calls, never one of another band's.
    pub fn get_idle_banded_within(
        &self,
        endpoint: &Endpoint,
        dialect: Dialect,
        band: u16,
        deadline: Option<Instant>,
    ) -> Result<IdleConnection, TransportError> {
        let class = Class {
            dialect,
            band: Some(band),
        };
        self.idle(endpoint, class, deadline)
    }

    /// An idle connection of `class` to `endpoint`: see [`ConnectionCache::get_idle`].
    fn idle(
        &self,
        endpoint: &Endpoint,
        class: Class,
        deadline: Option<Instant>,
    ) -> Result<IdleConnection, TransportError> {
        let candidates: Vec<Arc<ClientConnection>> = match self.conns.lock().get(endpoint) {
            Some(same) => same
                .iter()
                .filter(|(k, c)| *k == class && c.try_claim())
                .map(|(_, c)| c.clone())
                .collect(),
            None => Vec::new(),
        };
        let mut found = None;
        for c in candidates {
            let c = IdleConnection(c);
            // Checked outside the cache's lock: it may read the socket.
            if found.is_none() && c.is_usable() {
                found = Some(c);
            } else if c.is_closed() {
                self.discard(&c);
            }
        }
        if let Some(c) = found {
            return Ok(c);
        }
        let fresh = Arc::new(self.connect(endpoint, class.dialect, deadline)?);
        let claimed = fresh.try_claim();
        debug_assert!(claimed, "a new connection is idle");
        let mut surplus = Vec::new();
        {
            let mut conns = self.conns.lock();
            let same = conns.entry(endpoint.clone()).or_default();
            same.retain(|(_, c)| !c.is_closed());
            same.push((class, fresh.clone()));
            let mut count = same.iter().filter(|(k, _)| *k == class).count();
            let mut i = 0;
            while count > MAX_SPARES && i < same.len() {
                let (k, c) = &same[i];
                // Never the shared one (the first), nor one a caller uses.
                let first = same.iter().position(|(k2, _)| k2 == k) == Some(i);
                if *k == class
                    && !first
                    && !Arc::ptr_eq(c, &fresh)
                    && !self.is_oneway_route(c)
                    && c.try_claim_to_close()
                {
                    surplus.push(same.remove(i).1);
                    count -= 1;
                } else {
                    i += 1;
                }
            }
        }
        for c in surplus {
            c.close();
        }
        Ok(IdleConnection(fresh))
    }

    /// Closes and forgets `conn` (found broken), leaving the endpoint's other connections.
    pub fn discard(&self, conn: &Arc<ClientConnection>) {
        {
            let mut conns = self.conns.lock();
            let endpoint = conn.endpoint();
            if let Some(same) = conns.get_mut(endpoint) {
                same.retain(|(_, c)| !Arc::ptr_eq(c, conn));
                if same.is_empty() {
                    conns.remove(endpoint);
                }
            }
        }
        conn.close();
    }

    /// Closes and forgets every connection to `endpoint` in `dialect`, of every band.
    pub fn remove(&self, endpoint: &Endpoint, dialect: Dialect) {
        let removed: Vec<_> = {
            let mut conns = self.conns.lock();
            let Some(same) = conns.get_mut(endpoint) else {
                return;
            };
            let (gone, kept) = std::mem::take(same)
                .into_iter()
                .partition(|(k, _)| k.dialect == dialect);
            *same = kept;
            if same.is_empty() {
                conns.remove(endpoint);
            }
            gone
        };
        for (_, c) in removed {
            c.close();
        }
    }

    /// How many connections are cached (broken ones included until replaced).
    pub fn len(&self) -> usize {
        self.conns.lock().values().map(Vec::len).sum::<usize>()
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
