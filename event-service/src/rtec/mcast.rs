//! UDP multicast federation (TAO's `TAO_ECG_UDP_Sender` / `TAO_ECG_UDP_Receiver` with
//! `TAO_ECG_Mcast_EH` and the simple address server): channels in many processes share
//! events over multicast groups, one group per event type as an [`AddressTable`] says.
//!
//! - [`UdpSender`]: a consumer of the local channel (marked `is_gateway`) subscribed to the
//!   types its table routes; each pushed `EventSet` is marshalled in CDR and sent, cut into
//!   datagrams when it is larger than one, to the group of its events' type.
//! - [`UdpReceiver`]: an observer of the local channel; it joins the groups of the types its
//!   local consumers subscribe to (and leaves the others), reassembles what comes, and
//!   pushes it into the local channel as a supplier, with `ttl` one less (events whose ttl is
//!   spent are dropped, as by the IIOP gateway, so senders and receivers in a loop stop).
//!
//! Each datagram is [`HEADER_LEN`] octets of header, then a piece of the CDR message:
//!
//! | octets | field |
//! |---|---|
//! | 0–1 | `b"EC"` |
//! | 2 | version, 1 |
//! | 3 | flags: bit 0 set = little-endian (the header's other fields and the CDR) |
//! | 4–7 | sequence number of the message (per sender) |
//! | 8–11 | total length of the message |
//! | 12–15 | offset of this piece in the message |
//! | 16–19 | fragment number |
//! | 20–23 | fragment count |
//!
//! The reassembly ([`Reassembler`]) has no clock and no socket (time is passed in), so it is
//! tested with byte vectors. What it must never do: allocate for a message before its
//! header has been checked against the limits, keep more than `max_buffered` octets of
//! partial messages, or deliver a message twice.

#![forbid(unsafe_code)]

use super::gateway::activate;
use super::idl::rtec_event_channel_admin::{
    observer, ConsumerAdmin, ConsumerQos, EventChannel, EventChannelRef, Observer, ObserverRef,
    ProxyPushConsumer, ProxyPushConsumerRef, ProxyPushSupplier, ProxyPushSupplierRef,
    SupplierAdmin, SupplierQos,
};
use super::idl::rtec_event_comm::{
    push_consumer, Event, PushConsumer, PushConsumerRef, PushSupplier, PushSupplierRef,
};
use super::{is_designator, ConsumerQosBuilder, SupplierQosBuilder, ACE_ES_EVENT_ANY};
use orb::cdr::{ByteOrder, CdrDecode, CdrEncode, Decoder, Encoder};
use orb::exception::SystemException;
use orb::poa::ObjectId;
use orb::Orb;
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Octets of header in front of each datagram's piece of message.
pub const HEADER_LEN: usize = 24;
const MAGIC: &[u8; 2] = b"EC";
const VERSION: u8 = 1;

// ---- the address server ---------------------------------------------------------------------

/// Which multicast group (and port) carries which event type (TAO's address server).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressTable {
    by_type: BTreeMap<i32, SocketAddrV4>,
    default: Option<SocketAddrV4>,
}

impl AddressTable {
    pub fn new() -> AddressTable {
        AddressTable::default()
    }

    /// Events of type `ty` go to `group`.
    pub fn route(mut self, ty: i32, group: SocketAddrV4) -> Self {
        self.by_type.insert(ty, group);
        self
    }

    /// Types no route names go to `group` (without one, they are not sent).
    pub fn default_route(mut self, group: SocketAddrV4) -> Self {
        self.default = Some(group);
        self
    }

    pub fn get(&self, ty: i32) -> Option<SocketAddrV4> {
        self.by_type.get(&ty).copied().or(self.default)
    }

    /// Every group the table names.
    pub fn groups(&self) -> BTreeSet<SocketAddrV4> {
        self.by_type.values().copied().chain(self.default).collect()
    }

    /// The groups a consumer subscribed to these `(source, type)`s needs.
    fn groups_for(&self, subscriptions: &BTreeSet<(i32, i32)>) -> BTreeSet<SocketAddrV4> {
        let mut out = BTreeSet::new();
        for &(_, ty) in subscriptions {
            if ty == ACE_ES_EVENT_ANY {
                return self.groups();
            }
            out.extend(self.get(ty));
        }
        out
    }
}

// ---- the wire -------------------------------------------------------------------------------

/// A datagram's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentHeader {
    pub order: ByteOrder,
    pub sequence: u32,
    pub total: u32,
    pub offset: u32,
    pub index: u32,
    pub count: u32,
}

impl FragmentHeader {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(self.order.flag());
        for v in [
            self.sequence,
            self.total,
            self.offset,
            self.index,
            self.count,
        ] {
            out.extend_from_slice(&match self.order {
                ByteOrder::BigEndian => v.to_be_bytes(),
                ByteOrder::LittleEndian => v.to_le_bytes(),
            });
        }
    }

    /// The header and the piece of message that follows it; `None` for what is not ours.
    pub fn parse(datagram: &[u8]) -> Option<(FragmentHeader, &[u8])> {
        if datagram.len() < HEADER_LEN || &datagram[..2] != MAGIC || datagram[2] != VERSION {
            return None;
        }
        let order = ByteOrder::from_flag(datagram[3]);
        let word = |i: usize| {
            let b: [u8; 4] = datagram[4 + 4 * i..8 + 4 * i].try_into().unwrap_or([0; 4]);
            match order {
                ByteOrder::BigEndian => u32::from_be_bytes(b),
                ByteOrder::LittleEndian => u32::from_le_bytes(b),
            }
        };
        let h = FragmentHeader {
            order,
            sequence: word(0),
            total: word(1),
            offset: word(2),
            index: word(3),
            count: word(4),
        };
        Some((h, &datagram[HEADER_LEN..]))
    }
}

/// Cuts a message into datagrams of at most `max_datagram` octets.
pub fn fragment(
    sequence: u32,
    order: ByteOrder,
    message: &[u8],
    max_datagram: usize,
) -> Vec<Vec<u8>> {
    let piece = max_datagram.saturating_sub(HEADER_LEN).max(1);
    let count = message.len().div_ceil(piece).max(1);
    (0..count)
        .map(|i| {
            let start = i * piece;
            let end = (start + piece).min(message.len());
            let mut d = Vec::with_capacity(HEADER_LEN + end - start);
            FragmentHeader {
                order,
                sequence,
                total: message.len() as u32,
                offset: start as u32,
                index: i as u32,
                count: count as u32,
            }
            .write(&mut d);
            d.extend_from_slice(&message[start..end]);
            d
        })
        .collect()
}

/// An `EventSet` in CDR.
pub fn encode_events(events: &[Event], order: ByteOrder) -> Option<Vec<u8>> {
    let mut enc = Encoder::new(order);
    events.encode(&mut enc).ok()?;
    Some(enc.into_vec())
}

/// An `EventSet` from CDR; `None` unless the whole message is one.
pub fn decode_events(message: &[u8], order: ByteOrder) -> Option<Vec<Event>> {
    let mut dec = Decoder::new(message, order);
    let events = Vec::<Event>::decode(&mut dec).ok()?;
    dec.expect_end().ok()?;
    Some(events)
}

// ---- reassembly -----------------------------------------------------------------------------

/// Bounds on what a [`Reassembler`] keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReassemblyLimits {
    /// A message incomplete for this long is given up (a fragment was lost).
    pub timeout: Duration,
    /// The largest message accepted.
    pub max_message: u32,
    /// Octets of incomplete messages kept at most; the oldest are given up first.
    pub max_buffered: usize,
    /// Incomplete messages kept at most.
    pub max_partial: usize,
    /// Sequence numbers remembered per sender, to drop repeated messages.
    pub window: usize,
    /// Senders remembered.
    pub max_senders: usize,
}

impl Default for ReassemblyLimits {
    fn default() -> Self {
        ReassemblyLimits {
            timeout: Duration::from_secs(1),
            max_message: 1 << 20,
            max_buffered: 8 << 20,
            max_partial: 64,
            window: 1024,
            max_senders: 256,
        }
    }
}

/// Counters of a [`Reassembler`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    pub datagrams: u64,
    /// Messages made whole.
    pub completed: u64,
    /// Datagrams that were not ours, or contradicted their message's other fragments.
    pub malformed: u64,
    /// Fragments (or whole messages) received again.
    pub duplicates: u64,
    /// Incomplete messages given up after the timeout.
    pub expired: u64,
    /// Incomplete messages given up to stay within the limits.
    pub evicted: u64,
}

/// What [`Reassembler::accept`] made of a datagram.
#[derive(Debug, PartialEq, Eq)]
pub enum Accepted {
    /// A whole message, in this byte order.
    Complete(ByteOrder, Vec<u8>),
    Pending,
    Duplicate,
    Malformed,
}

struct Partial {
    order: ByteOrder,
    total: u32,
    have: Vec<bool>,
    /// The size of every fragment but the last (known from the first of them seen): each
    /// must sit at `index * piece`, and the last end the message, so that the pieces tile
    /// it exactly (no overlap passes for data, no hole for a whole message).
    piece: Option<usize>,
    last_offset: Option<usize>,
    filled: usize,
    buf: Vec<u8>,
    started: Instant,
}

#[derive(Default)]
struct Seen {
    set: HashSet<u32>,
    order: VecDeque<u32>,
}

/// Puts messages together from their fragments, per sender and sequence number.
pub struct Reassembler {
    limits: ReassemblyLimits,
    partial: HashMap<(SocketAddr, u32), Partial>,
    buffered: usize,
    seen: HashMap<SocketAddr, Seen>,
    seen_order: VecDeque<SocketAddr>,
    stats: ReassemblyStats,
}

impl Reassembler {
    pub fn new(limits: ReassemblyLimits) -> Reassembler {
        Reassembler {
            limits,
            partial: HashMap::new(),
            buffered: 0,
            seen: HashMap::new(),
            seen_order: VecDeque::new(),
            stats: ReassemblyStats::default(),
        }
    }

    pub fn stats(&self) -> &ReassemblyStats {
        &self.stats
    }

    /// Octets held for incomplete messages.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    fn was_seen(&self, from: SocketAddr, seq: u32) -> bool {
        self.seen.get(&from).is_some_and(|s| s.set.contains(&seq))
    }

    fn mark_seen(&mut self, from: SocketAddr, seq: u32) {
        if !self.seen.contains_key(&from) {
            if self.seen_order.len() >= self.limits.max_senders {
                if let Some(old) = self.seen_order.pop_front() {
                    self.seen.remove(&old);
                }
            }
            self.seen_order.push_back(from);
        }
        let s = self.seen.entry(from).or_default();
        if s.set.insert(seq) {
            s.order.push_back(seq);
            if s.order.len() > self.limits.window {
                if let Some(old) = s.order.pop_front() {
                    s.set.remove(&old);
                }
            }
        }
    }

    fn give_up(&mut self, key: (SocketAddr, u32)) {
        if let Some(p) = self.partial.remove(&key) {
            self.buffered -= p.buf.len();
        }
    }

    /// Takes one datagram from `from`, received at `now`.
    pub fn accept(&mut self, from: SocketAddr, datagram: &[u8], now: Instant) -> Accepted {
        self.stats.datagrams += 1;
        let Some((h, piece)) = FragmentHeader::parse(datagram) else {
            self.stats.malformed += 1;
            return Accepted::Malformed;
        };
        let fits = h.count >= 1
            && h.index < h.count
            && h.total <= self.limits.max_message
            && (h.count as u64) <= (h.total as u64).max(1)
            && (h.offset as u64) + (piece.len() as u64) <= h.total as u64;
        if !fits {
            self.stats.malformed += 1;
            return Accepted::Malformed;
        }
        if self.was_seen(from, h.sequence) {
            self.stats.duplicates += 1;
            return Accepted::Duplicate;
        }
        if h.count == 1 {
            if piece.len() != h.total as usize {
                self.stats.malformed += 1;
                return Accepted::Malformed;
            }
            self.mark_seen(from, h.sequence);
            self.stats.completed += 1;
            return Accepted::Complete(h.order, piece.to_vec());
        }
        let key = (from, h.sequence);
        if !self.partial.contains_key(&key) {
            // Room first, oldest out: memory stays bounded whatever senders do.
            let need = h.total as usize;
            if need > self.limits.max_buffered {
                self.stats.malformed += 1;
                return Accepted::Malformed;
            }
            while !self.partial.is_empty()
                && (self.partial.len() >= self.limits.max_partial
                    || self.buffered + need > self.limits.max_buffered)
            {
                let oldest = self
                    .partial
                    .iter()
                    .min_by_key(|(_, p)| p.started)
                    .map(|(k, _)| *k);
                if let Some(k) = oldest {
                    self.give_up(k);
                    self.stats.evicted += 1;
                }
            }
            self.buffered += need;
            self.partial.insert(
                key,
                Partial {
                    order: h.order,
                    total: h.total,
                    have: vec![false; h.count as usize],
                    piece: None,
                    last_offset: None,
                    filled: 0,
                    buf: vec![0; need],
                    started: now,
                },
            );
        }
        let Some(p) = self.partial.get_mut(&key) else {
            return Accepted::Malformed;
        };
        if p.total != h.total || p.have.len() != h.count as usize || p.order != h.order {
            self.stats.malformed += 1;
            return Accepted::Malformed;
        }
        if p.have[h.index as usize] {
            self.stats.duplicates += 1;
            return Accepted::Duplicate;
        }
        let at = h.offset as usize;
        let last = h.index + 1 == h.count;
        let placed = if last {
            at + piece.len() == h.total as usize
                && p.piece.is_none_or(|n| at == (h.index as usize) * n)
        } else {
            let n = p.piece.unwrap_or(piece.len());
            piece.len() == n
                && n > 0
                && at == (h.index as usize) * n
                && p.last_offset.is_none_or(|l| l == (p.have.len() - 1) * n)
        };
        if !placed {
            self.stats.malformed += 1;
            return Accepted::Malformed;
        }
        if last {
            p.last_offset = Some(at);
        } else {
            p.piece = Some(piece.len());
        }
        p.have[h.index as usize] = true;
        p.buf[at..at + piece.len()].copy_from_slice(piece);
        p.filled += piece.len();
        if p.have.iter().all(|&x| x) {
            let whole = p.filled == p.total as usize;
            let order = p.order;
            let p = self.partial.remove(&key);
            let buf = p.map(|p| p.buf).unwrap_or_default();
            self.buffered -= buf.len();
            self.mark_seen(from, h.sequence);
            if !whole {
                // Pieces that overlap or leave a hole: not a message we can trust.
                self.stats.malformed += 1;
                return Accepted::Malformed;
            }
            self.stats.completed += 1;
            return Accepted::Complete(order, buf);
        }
        Accepted::Pending
    }

    /// Gives up the messages incomplete since before `now - timeout`.
    pub fn purge(&mut self, now: Instant) {
        let timeout = self.limits.timeout;
        let stale: Vec<_> = self
            .partial
            .iter()
            .filter(|(_, p)| now.duration_since(p.started) >= timeout)
            .map(|(k, _)| *k)
            .collect();
        for k in stale {
            self.give_up(k);
            self.stats.expired += 1;
        }
    }
}

// ---- the sender -----------------------------------------------------------------------------

/// How a [`UdpSender`] sends.
#[derive(Clone, Debug)]
pub struct SenderOptions {
    /// The largest datagram (header included); 1472 fits an Ethernet frame.
    pub max_datagram: usize,
    /// The CDR byte order of what is sent.
    pub order: ByteOrder,
    /// The multicast TTL (router hops) of the datagrams.
    pub hops: u32,
    /// Where the sending socket is bound (its interface and port).
    pub bind: SocketAddrV4,
    /// For tests: the datagrams (numbered from 0 in sending order) not to send, to
    /// simulate their loss.
    pub lose: BTreeSet<u64>,
}

impl Default for SenderOptions {
    fn default() -> Self {
        SenderOptions {
            max_datagram: 1472,
            order: ByteOrder::NATIVE,
            hops: 1,
            bind: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
            lose: BTreeSet::new(),
        }
    }
}

/// A [`UdpSender`]'s counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SenderStats {
    /// Events sent.
    pub events: u64,
    /// Messages (event sets, one per group) sent.
    pub messages: u64,
    pub datagrams: u64,
    /// Datagrams not sent on purpose ([`SenderOptions::lose`]).
    pub lost: u64,
    /// Events not sent: their ttl was spent, or no group carries their type.
    pub skipped: u64,
    /// Datagrams the socket refused.
    pub errors: u64,
}

/// Sends the local channel's events to multicast groups.
/// Dropping it (or [`UdpSender::shutdown`]) disconnects it from the local channel.
pub struct UdpSender {
    inner: Arc<SenderInner>,
    proxy: ProxyPushSupplierRef,
    orb: Orb,
    servant: Option<ObjectId>,
}

struct SenderInner {
    socket: UdpSocket,
    table: AddressTable,
    options: SenderOptions,
    state: Mutex<(u32, u64, SenderStats)>,
}

impl UdpSender {
    /// Connects to `local` as a consumer of every type `table` routes (every type, with a
    /// default route).
    pub fn start(
        orb: &Orb,
        local: &EventChannelRef,
        table: AddressTable,
        options: SenderOptions,
    ) -> std::io::Result<UdpSender> {
        let socket = UdpSocket::bind(options.bind)?;
        socket.set_multicast_loop_v4(true)?;
        socket.set_multicast_ttl_v4(options.hops)?;
        // Numbers start from the clock, so a restarted sender (same address, perhaps) is
        // not taken for a repeat of its former self.
        let first = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
            .unwrap_or(0);
        let inner = Arc::new(SenderInner {
            socket,
            table,
            options,
            state: Mutex::new((first, 0, SenderStats::default())),
        });
        let mut qos = ConsumerQosBuilder::new();
        let types: Vec<i32> = if inner.table.default.is_some() {
            vec![ACE_ES_EVENT_ANY]
        } else {
            inner.table.by_type.keys().copied().collect()
        };
        if types.len() > 1 {
            qos = qos.start_disjunction_group(types.len() as i32);
        }
        for ty in types {
            qos = qos.insert_type(ty, 0);
        }
        let (obj, id) = activate(
            orb,
            Arc::new(push_consumer::Tie::new(SenderConsumer(inner.clone()))),
        )
        .map_err(std::io::Error::other)?;
        let io = |e: SystemException| std::io::Error::other(format!("{e:?}"));
        let connected = local
            .for_consumers()
            .and_then(|admin| admin.obtain_push_supplier())
            .map_err(io)
            .and_then(|proxy| {
                proxy
                    .connect_push_consumer(
                        &PushConsumerRef::unchecked_narrow(obj),
                        &qos.gateway(true).build(),
                    )
                    .map_err(|e| std::io::Error::other(format!("{e:?}")))
                    .map(|()| proxy)
            });
        match connected {
            Ok(proxy) => Ok(UdpSender {
                inner,
                proxy,
                orb: orb.clone(),
                servant: Some(id),
            }),
            Err(e) => {
                let _ = orb.root_poa().deactivate_object(&id);
                Err(e)
            }
        }
    }

    pub fn stats(&self) -> SenderStats {
        self.inner.state.lock().2.clone()
    }

    /// Disconnects from the local channel (what dropping it does; this says so at the
    /// call).
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for UdpSender {
    fn drop(&mut self) {
        if let Some(id) = self.servant.take() {
            let _ = self.proxy.disconnect_push_supplier();
            let _ = self.orb.root_poa().deactivate_object(&id);
        }
    }
}

struct SenderConsumer(Arc<SenderInner>);

impl SenderInner {
    fn send(&self, events: &[Event]) {
        // One message per group, each keeping its events' order.
        let mut by_group: BTreeMap<SocketAddrV4, Vec<Event>> = BTreeMap::new();
        let mut skipped = 0;
        for e in events {
            match self.table.get(e.header.r#type) {
                Some(g) if e.header.ttl > 0 => by_group.entry(g).or_default().push(e.clone()),
                _ => skipped += 1,
            }
        }
        let mut st = self.state.lock();
        st.2.skipped += skipped;
        for (group, events) in by_group {
            let Some(message) = encode_events(&events, self.options.order) else {
                st.2.skipped += events.len() as u64;
                continue;
            };
            let seq = st.0;
            st.0 = st.0.wrapping_add(1);
            st.2.events += events.len() as u64;
            st.2.messages += 1;
            // Sent under the lock: datagrams of one message are never interleaved with
            // another's, and the loss numbering is exact.
            for d in fragment(seq, self.options.order, &message, self.options.max_datagram) {
                let n = st.1;
                st.1 += 1;
                if self.options.lose.contains(&n) {
                    st.2.lost += 1;
                    continue;
                }
                match self.socket.send_to(&d, group) {
                    Ok(_) => st.2.datagrams += 1,
                    Err(_) => st.2.errors += 1,
                }
            }
        }
    }
}

impl PushConsumer for SenderConsumer {
    fn push(&self, data: &[Event]) -> Result<(), SystemException> {
        self.0.send(data);
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        Ok(())
    }
}

// ---- the receiver ---------------------------------------------------------------------------

/// How a [`UdpReceiver`] receives.
#[derive(Clone, Debug)]
pub struct ReceiverOptions {
    /// The interface groups are joined on (unspecified: as the routing table says).
    pub interface: Ipv4Addr,
    pub limits: ReassemblyLimits,
    /// How often the receiving threads look at joins, leaves and timeouts when no
    /// datagram comes.
    pub tick: Duration,
}

impl Default for ReceiverOptions {
    fn default() -> Self {
        ReceiverOptions {
            interface: Ipv4Addr::UNSPECIFIED,
            limits: ReassemblyLimits::default(),
            tick: Duration::from_millis(20),
        }
    }
}

/// A [`UdpReceiver`]'s counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceiverStats {
    pub reassembly: ReassemblyStats,
    /// Events pushed into the local channel.
    pub forwarded: u64,
    /// Events dropped for their spent ttl.
    pub expired: u64,
    /// Messages that were not an `EventSet`.
    pub undecodable: u64,
    /// Groups joined now.
    pub joined: Vec<SocketAddrV4>,
}

/// Receives multicast events for the local channel's consumers. Dropping it (or
/// [`UdpReceiver::shutdown`]) leaves its groups and disconnects it.
pub struct UdpReceiver {
    shared: Arc<ReceiverShared>,
    threads: Vec<JoinHandle<()>>,
    observer: u32,
    local: EventChannelRef,
    orb: Orb,
    servant: Option<ObjectId>,
}

struct ReceiverShared {
    table: AddressTable,
    options: ReceiverOptions,
    /// Groups the local consumers need, as last told by the local channel.
    wanted: Mutex<BTreeSet<SocketAddrV4>>,
    joined: Mutex<BTreeSet<SocketAddrV4>>,
    stats: Mutex<ReceiverStats>,
    /// Each receiving thread's reassembly counters.
    by_port: Mutex<BTreeMap<u16, ReassemblyStats>>,
    proxy: ProxyPushConsumerRef,
    forwarded: AtomicU64,
    stop: AtomicBool,
}

impl UdpReceiver {
    /// Binds one socket per port of `table`'s groups, connects to `local` as a supplier
    /// (marked `is_gateway`) and as an observer.
    pub fn start(
        orb: &Orb,
        local: &EventChannelRef,
        table: AddressTable,
        options: ReceiverOptions,
    ) -> std::io::Result<UdpReceiver> {
        let io = |e: SystemException| std::io::Error::other(format!("{e:?}"));
        let ports: BTreeSet<u16> = table.groups().iter().map(|g| g.port()).collect();
        let mut sockets = Vec::new();
        for port in ports {
            let s = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))?;
            s.set_read_timeout(Some(options.tick))?;
            sockets.push((port, s));
        }
        let proxy = local
            .for_suppliers()
            .map_err(io)?
            .obtain_push_consumer()
            .map_err(io)?;
        proxy
            .connect_push_supplier(
                &PushSupplierRef::nil(),
                &SupplierQosBuilder::new()
                    .insert(ACE_ES_EVENT_ANY, ACE_ES_EVENT_ANY, 0, 1)
                    .gateway(true)
                    .build(),
            )
            .map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        let shared = Arc::new(ReceiverShared {
            table,
            options,
            wanted: Mutex::new(BTreeSet::new()),
            joined: Mutex::new(BTreeSet::new()),
            stats: Mutex::new(ReceiverStats::default()),
            by_port: Mutex::new(BTreeMap::new()),
            proxy,
            forwarded: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let (obj, id) = activate(
            orb,
            Arc::new(observer::Tie::new(ReceiverObserver(shared.clone()))),
        )
        .map_err(std::io::Error::other)?;
        let handle = match local.append_observer(&ObserverRef::unchecked_narrow(obj)) {
            Ok(h) => h,
            Err(e) => {
                let _ = orb.root_poa().deactivate_object(&id);
                let _ = shared.proxy.disconnect_push_consumer();
                return Err(std::io::Error::other(format!("{e:?}")));
            }
        };
        let mut threads = Vec::new();
        for (port, socket) in sockets {
            let s = shared.clone();
            threads.push(
                std::thread::Builder::new()
                    .name("rtec-udp-recv".into())
                    .spawn(move || s.run(port, &socket))?,
            );
        }
        Ok(UdpReceiver {
            shared,
            threads,
            observer: handle,
            local: local.clone(),
            orb: orb.clone(),
            servant: Some(id),
        })
    }

    pub fn stats(&self) -> ReceiverStats {
        let mut s = self.shared.stats.lock().clone();
        for r in self.shared.by_port.lock().values() {
            let t = &mut s.reassembly;
            t.datagrams += r.datagrams;
            t.completed += r.completed;
            t.malformed += r.malformed;
            t.duplicates += r.duplicates;
            t.expired += r.expired;
            t.evicted += r.evicted;
        }
        s.forwarded = self.shared.forwarded.load(Ordering::Relaxed);
        s.joined = self.shared.joined.lock().iter().copied().collect();
        s
    }

    /// Leaves every group and disconnects from the local channel.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(id) = self.servant.take() else {
            return;
        };
        self.shared.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let _ = self.local.remove_observer(self.observer);
        let _ = self.shared.proxy.disconnect_push_consumer();
        let _ = self.orb.root_poa().deactivate_object(&id);
    }
}

impl Drop for UdpReceiver {
    fn drop(&mut self) {
        self.stop();
    }
}

impl ReceiverShared {
    fn run(&self, port: u16, socket: &UdpSocket) {
        let mut reassembler = Reassembler::new(self.options.limits.clone());
        let mut joined: BTreeSet<SocketAddrV4> = BTreeSet::new();
        let mut buf = vec![0u8; 65536];
        let iface = self.options.interface;
        while !self.stop.load(Ordering::SeqCst) {
            // Joins and leaves happen here, on the socket's own thread.
            let wanted: BTreeSet<SocketAddrV4> = self
                .wanted
                .lock()
                .iter()
                .filter(|g| g.port() == port)
                .copied()
                .collect();
            if wanted != joined {
                for g in joined.difference(&wanted) {
                    let _ = socket.leave_multicast_v4(g.ip(), &iface);
                }
                for g in wanted.difference(&joined) {
                    let _ = socket.join_multicast_v4(g.ip(), &iface);
                }
                let mut all = self.joined.lock();
                all.retain(|g| g.port() != port);
                all.extend(wanted.iter().copied());
                joined = wanted;
            }
            let got = socket.recv_from(&mut buf);
            let now = Instant::now();
            if let Ok((n, from)) = got {
                if let Accepted::Complete(order, message) = reassembler.accept(from, &buf[..n], now)
                {
                    self.deliver(order, &message);
                }
            }
            reassembler.purge(now);
            self.by_port
                .lock()
                .insert(port, reassembler.stats().clone());
        }
        for g in &joined {
            let _ = socket.leave_multicast_v4(g.ip(), &iface);
        }
        self.joined.lock().retain(|g| g.port() != port);
    }

    fn deliver(&self, order: ByteOrder, message: &[u8]) {
        let Some(events) = decode_events(message, order) else {
            self.stats.lock().undecodable += 1;
            return;
        };
        let total = events.len() as u64;
        let out: Vec<Event> = events
            .into_iter()
            .filter(|e| e.header.ttl > 0)
            .map(|mut e| {
                e.header.ttl -= 1;
                e
            })
            .collect();
        let n = out.len() as u64;
        self.stats.lock().expired += total - n;
        if out.is_empty() {
            return;
        }
        if self.proxy.push(&out).is_ok() {
            self.forwarded.fetch_add(n, Ordering::Relaxed);
        }
    }
}

struct ReceiverObserver(Arc<ReceiverShared>);

impl Observer for ReceiverObserver {
    fn update_consumer(&self, sub: &ConsumerQos) -> Result<(), SystemException> {
        let pairs: BTreeSet<(i32, i32)> = sub
            .dependencies
            .iter()
            .map(|d| (d.event.header.source, d.event.header.r#type))
            .filter(|&(_, ty)| !is_designator(ty))
            .collect();
        *self.0.wanted.lock() = self.0.table.groups_for(&pairs);
        Ok(())
    }

    fn update_supplier(&self, _pub: &SupplierQos) -> Result<(), SystemException> {
        Ok(())
    }
}
