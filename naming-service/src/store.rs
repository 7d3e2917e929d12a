//! The naming graph and its durability.
//!
//! Contexts are numbered (0 is the root); each holds bindings from a name component
//! `(id, kind)` to an object reference or a context — one of ours by number, or another
//! naming service's by reference. Operations here work on one context and one component;
//! walking compound names (and calling other naming services) is the servant's job.
//!
//! With a data directory every change is appended to a write-ahead log (under the caller's
//! lock on the store) and made durable by [`Durability::wait`] (outside it), which the
//! servant calls before it replies, so an acknowledged change survives `kill -9` and power
//! loss. The wait is a group commit: one caller at a time `fsync`s the log, for every record
//! appended so far, while the others wait for it; so concurrent changes share an `fsync`
//! instead of queueing behind one each (and the one about to sync waits a moment for a
//! batch as large as the last, when it looks like one is coming). When the log grows past
//! a threshold its content is compacted into a snapshot (written to a temporary file,
//! synced, renamed over the old one, directory synced), and the log starts empty. On start the snapshot is loaded and the log
//! replayed; a torn or corrupt tail (a crash mid-append, a damaged disk block) is reported
//! and cut off, keeping the valid prefix — which holds every record that was synced.
//!
//! Changes are visible in memory as soon as they are appended, before they are durable; a
//! reader that may have seen one waits for durability too (the servant waits for
//! [`Store::written`] after every operation, which costs an atomic load when nothing is
//! pending), so no reply ever depends on a change a crash could undo.
//!
//! Records are CDR (big-endian) framed by length and CRC-32: `u32 len, u32 crc, len octets`.

use orb::cdr::{ByteOrder, DecodeError, Decoder, EncodeError, Encoder};
use orb::iop::Ior;
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A context's number; [`ROOT`] is the root context.
pub type ContextId = u64;
pub const ROOT: ContextId = 0;

/// A name component: `(id, kind)`.
pub type Component = (String, String);

/// What a name is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bound {
    /// `bind`/`rebind`: an object.
    Object(Ior),
    /// `bind_new_context` or `bind_context` of one of our own contexts.
    LocalContext(ContextId),
    /// `bind_context` of another naming service's context.
    RemoteContext(Ior),
}

impl Bound {
    pub fn is_context(&self) -> bool {
        !matches!(self, Bound::Object(_))
    }
}

/// Why a store operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the name is already bound")]
    AlreadyBound,
    #[error("the name is not bound")]
    NotFound,
    #[error("the context is not empty")]
    NotEmpty,
    #[error("no such context")]
    NoContext,
    #[error("the root context cannot be destroyed")]
    RootContext,
    #[error("writing the naming log failed: {0}")]
    Io(#[from] io::Error),
    #[error("encoding a log record failed: {0}")]
    Encode(#[from] EncodeError),
}

/// What recovery found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Log records replayed on top of the snapshot.
    pub replayed: usize,
    /// When the log ended in a torn or corrupt record: at which octet, and why. The log was
    /// cut there.
    pub truncated: Option<(u64, String)>,
}

/// One change, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Record {
    Bind {
        context: ContextId,
        name: Component,
        bound: Bound,
    },
    Unbind {
        context: ContextId,
        name: Component,
    },
    NewContext(ContextId),
    Destroy(ContextId),
}

/// Past this many log octets the log is compacted into a snapshot.
const COMPACT_AFTER: u64 = 4 << 20;
/// A record longer than this is corruption, not data (an IOR is a few hundred octets).
const MAX_RECORD: u32 = 16 << 20;

/// The naming graph, in memory and (optionally) on disk.
pub struct Store {
    contexts: HashMap<ContextId, BTreeMap<Component, Bound>>,
    next_context: ContextId,
    log: Option<Log>,
}

struct Log {
    dir: PathBuf,
    file: File,
    len: u64,
    durability: Arc<Durability>,
}

/// Group commit of the log: who syncs, up to where, and who waits.
///
/// Records are numbered in append order (`written`); `synced` is the highest number known
/// to be on disk. A caller that needs record `n` durable either finds `synced >= n`, or
/// waits while another caller's `fsync` runs, or becomes the one that runs the next — for
/// everything written by then.
pub struct Durability {
    /// The log's file (a second handle on it), synced without the store's lock.
    file: File,
    written: AtomicU64,
    synced: AtomicU64,
    fsyncs: AtomicU64,
    /// While the next `fsync`'s caller gathers a batch: the record number it waits for (0
    /// when none does), so that the append which reaches it wakes it at once.
    gather_until: AtomicU64,
    state: parking_lot::Mutex<SyncState>,
    done: parking_lot::Condvar,
    gathered: parking_lot::Condvar,
}

/// The longest a caller about to `fsync` waits for a batch to fill.
const MAX_GATHER: Duration = Duration::from_micros(500);

#[derive(Default)]
struct SyncState {
    /// An `fsync` is running; its caller will wake the others.
    syncing: bool,
    /// How many records the last `fsync` covered, and how long it took.
    last_batch: u64,
    last_sync: Duration,
    /// Held by [`Durability::hold`]: no `fsync` starts.
    held: bool,
    /// Writing or syncing the log failed: nothing after `synced` can be made durable, so
    /// every later change fails too (after a failed `fsync` the kernel may have dropped the
    /// dirty pages; retrying could report success for data that is gone).
    failed: Option<String>,
}

/// Returned by [`Durability::hold`]: while it lives no `fsync` starts.
pub struct SyncHold<'a>(&'a Durability);

impl Drop for SyncHold<'_> {
    fn drop(&mut self) {
        self.0.state.lock().held = false;
        self.0.done.notify_all();
    }
}

impl Durability {
    fn new(file: File) -> Durability {
        Durability {
            file,
            written: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            fsyncs: AtomicU64::new(0),
            gather_until: AtomicU64::new(0),
            state: parking_lot::Mutex::new(SyncState::default()),
            done: parking_lot::Condvar::new(),
            gathered: parking_lot::Condvar::new(),
        }
    }

    /// Called after each append (under the store's lock): wakes a caller gathering a batch
    /// once the batch is full.
    fn appended(&self, seq: u64) {
        let until = self.gather_until.load(Ordering::Acquire);
        if until != 0 && seq >= until {
            let _st = self.state.lock();
            self.gathered.notify_all();
        }
    }

    /// Before an `fsync`: when the last one covered more records than are pending now,
    /// more callers are likely on their way (each client just got its reply and is sending
    /// its next change), so wait a little — a fraction of an `fsync`, at most
    /// [`MAX_GATHER`] — for as many, rather than sync one record now and the rest on the
    /// next turn. A lone client (batches of one) never waits.
    fn gather(&self, st: &mut parking_lot::MutexGuard<'_, SyncState>) {
        let synced = self.synced.load(Ordering::Acquire);
        let target = synced + st.last_batch;
        if st.last_batch <= 1 || self.written.load(Ordering::Acquire) >= target {
            return;
        }
        let deadline = Instant::now() + (st.last_sync / 4).min(MAX_GATHER);
        self.gather_until.store(target, Ordering::Release);
        while self.written.load(Ordering::Acquire) < target {
            if self.gathered.wait_until(st, deadline).timed_out() {
                break;
            }
        }
        self.gather_until.store(0, Ordering::Release);
    }

    /// Returns once record `seq` (a value of [`Store::written`]) and all before it are on
    /// disk, syncing the log if no one else is; an error if they cannot be.
    pub fn wait(&self, seq: u64) -> io::Result<()> {
        if self.synced.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        let mut st = self.state.lock();
        loop {
            if self.synced.load(Ordering::Acquire) >= seq {
                return Ok(());
            }
            if let Some(why) = &st.failed {
                return Err(io::Error::other(why.clone()));
            }
            if st.syncing || st.held {
                self.done.wait(&mut st);
                continue;
            }
            st.syncing = true;
            self.gather(&mut st);
            // Everything appended by now is in the file: this fsync covers it all, and the
            // callers who appended it are (or will be) waiting for exactly this.
            let upto = self.written.load(Ordering::Acquire);
            let from = self.synced.load(Ordering::Acquire);
            let started = Instant::now();
            let result = parking_lot::MutexGuard::unlocked(&mut st, || self.file.sync_data());
            self.fsyncs.fetch_add(1, Ordering::Relaxed);
            st.syncing = false;
            match result {
                Ok(()) => {
                    st.last_batch = upto.saturating_sub(from);
                    st.last_sync = started.elapsed();
                    self.synced.fetch_max(upto, Ordering::AcqRel);
                }
                Err(e) => st.failed = Some(format!("syncing the naming log failed: {e}")),
            }
            self.done.notify_all();
        }
    }

    /// How many `fsync`s of the log ran.
    pub fn fsyncs(&self) -> u64 {
        self.fsyncs.load(Ordering::Relaxed)
    }

    /// Records appended so far.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Acquire)
    }

    /// Records known to be on disk.
    pub fn synced(&self) -> u64 {
        self.synced.load(Ordering::Acquire)
    }

    /// Keeps any `fsync` from starting until the returned guard drops: for tests that show
    /// replies wait for durability, and that changes made meanwhile share one `fsync`.
    pub fn hold(&self) -> SyncHold<'_> {
        self.state.lock().held = true;
        SyncHold(self)
    }

    fn failed(&self) -> Option<String> {
        self.state.lock().failed.clone()
    }

    fn fail(&self, why: String) {
        self.state.lock().failed = Some(why);
        self.done.notify_all();
    }

    /// Everything written is on disk by other means (a synced snapshot).
    fn all_synced(&self) {
        let upto = self.written.load(Ordering::Acquire);
        self.synced.fetch_max(upto, Ordering::AcqRel);
        self.done.notify_all();
    }
}

impl Store {
    /// A store in memory only: nothing survives the process.
    pub fn in_memory() -> Store {
        Store {
            contexts: HashMap::from([(ROOT, BTreeMap::new())]),
            next_context: ROOT + 1,
            log: None,
        }
    }

    /// Opens (creating if needed) the store in `dir`, recovering what is there.
    pub fn open(dir: &Path) -> io::Result<(Store, Recovery)> {
        std::fs::create_dir_all(dir)?;
        let mut store = Store::in_memory();
        match std::fs::read(dir.join(SNAPSHOT)) {
            Ok(bytes) => store.load_snapshot(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", dir.join(SNAPSHOT).display()),
                )
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let log_path = dir.join(LOG);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&log_path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let mut recovery = Recovery::default();
        let mut at = 0usize;
        while at < bytes.len() {
            match read_record(&bytes[at..]) {
                Ok((record, used)) => {
                    store.apply(record);
                    recovery.replayed += 1;
                    at += used;
                }
                Err(why) => {
                    recovery.truncated = Some((at as u64, why));
                    file.set_len(at as u64)?;
                    file.sync_all()?;
                    break;
                }
            }
        }
        file.seek(SeekFrom::End(0))?;
        let durability = Arc::new(Durability::new(file.try_clone()?));
        store.log = Some(Log {
            dir: dir.to_owned(),
            file,
            len: at as u64,
            durability,
        });
        Ok((store, recovery))
    }

    /// The number of the last record appended: once [`Durability::wait`] of it returns,
    /// every change made so far is on disk. 0 in memory.
    pub fn written(&self) -> u64 {
        self.log.as_ref().map_or(0, |l| l.durability.written())
    }

    /// The log's group commit; `None` in memory.
    pub fn durability(&self) -> Option<Arc<Durability>> {
        self.log.as_ref().map(|l| l.durability.clone())
    }

    /// Makes every change so far durable (for callers that hold the store alone; the
    /// servant waits outside its lock instead).
    pub fn sync(&self) -> io::Result<()> {
        match &self.log {
            Some(l) => l.durability.wait(l.durability.written()),
            None => Ok(()),
        }
    }

    /// The bindings of `context`, if it exists.
    pub fn context(&self, context: ContextId) -> Option<&BTreeMap<Component, Bound>> {
        self.contexts.get(&context)
    }

    /// Every context's number (to activate their objects at start-up).
    pub fn context_ids(&self) -> Vec<ContextId> {
        let mut ids: Vec<_> = self.contexts.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    pub fn lookup(&self, context: ContextId, name: &Component) -> Option<&Bound> {
        self.contexts.get(&context)?.get(name)
    }

    /// Binds `name` in `context`; `rebind` replaces an existing binding of the same sort
    /// (CosNaming: rebinding an object over a context, or the reverse, is NotFound
    /// not_object/not_context, which the servant checks first).
    pub fn bind(
        &mut self,
        context: ContextId,
        name: Component,
        bound: Bound,
        rebind: bool,
    ) -> Result<(), StoreError> {
        let ctx = self.contexts.get(&context).ok_or(StoreError::NoContext)?;
        if !rebind && ctx.contains_key(&name) {
            return Err(StoreError::AlreadyBound);
        }
        self.commit(Record::Bind {
            context,
            name,
            bound,
        })
    }

    pub fn unbind(&mut self, context: ContextId, name: &Component) -> Result<(), StoreError> {
        let ctx = self.contexts.get(&context).ok_or(StoreError::NoContext)?;
        if !ctx.contains_key(name) {
            return Err(StoreError::NotFound);
        }
        self.commit(Record::Unbind {
            context,
            name: name.clone(),
        })
    }

    /// A new, empty, unbound context.
    pub fn new_context(&mut self) -> Result<ContextId, StoreError> {
        let id = self.next_context;
        self.commit(Record::NewContext(id))?;
        Ok(id)
    }

    /// Destroys an empty context (bindings of it elsewhere stay, dangling, as CosNaming
    /// leaves them).
    pub fn destroy(&mut self, context: ContextId) -> Result<(), StoreError> {
        if context == ROOT {
            return Err(StoreError::RootContext);
        }
        let ctx = self.contexts.get(&context).ok_or(StoreError::NoContext)?;
        if !ctx.is_empty() {
            return Err(StoreError::NotEmpty);
        }
        self.commit(Record::Destroy(context))
    }

    /// Appends to the log, then applies. Durable once [`Durability::wait`] of
    /// [`Store::written`] returns.
    fn commit(&mut self, record: Record) -> Result<(), StoreError> {
        if let Some(log) = &mut self.log {
            if let Some(why) = log.durability.failed() {
                return Err(StoreError::Io(io::Error::other(why)));
            }
            let bytes = frame_record(&record)?;
            if let Err(e) = log.file.write_all(&bytes) {
                // A partial record may be in the file; anything appended after it would be
                // cut off with it at recovery, so nothing more may be acknowledged.
                log.durability
                    .fail(format!("appending to the naming log failed: {e}"));
                return Err(e.into());
            }
            log.len += bytes.len() as u64;
            let seq = log.durability.written.fetch_add(1, Ordering::AcqRel) + 1;
            log.durability.appended(seq);
        }
        self.apply(record);
        if self.log.as_ref().is_some_and(|l| l.len > COMPACT_AFTER) {
            self.compact()?;
        }
        Ok(())
    }

    fn apply(&mut self, record: Record) {
        match record {
            Record::Bind {
                context,
                name,
                bound,
            } => {
                if let Some(ctx) = self.contexts.get_mut(&context) {
                    ctx.insert(name, bound);
                }
            }
            Record::Unbind { context, name } => {
                if let Some(ctx) = self.contexts.get_mut(&context) {
                    ctx.remove(&name);
                }
            }
            Record::NewContext(id) => {
                self.contexts.entry(id).or_default();
                self.next_context = self.next_context.max(id + 1);
            }
            Record::Destroy(id) => {
                self.contexts.remove(&id);
            }
        }
    }

    /// Writes the whole graph as a snapshot and empties the log.
    pub fn compact(&mut self) -> Result<(), StoreError> {
        let Some(log) = &mut self.log else {
            return Ok(());
        };
        let mut enc = Encoder::new(ByteOrder::BigEndian);
        enc.write_ulonglong(self.next_context);
        enc.write_length(self.contexts.len())?;
        let mut ids: Vec<_> = self.contexts.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            enc.write_ulonglong(id);
            let ctx = &self.contexts[&id];
            enc.write_length(ctx.len())?;
            for (name, bound) in ctx {
                write_component(&mut enc, name)?;
                write_bound(&mut enc, bound)?;
            }
        }
        let body = enc.into_vec();
        let tmp = log.dir.join(format!("{SNAPSHOT}.tmp"));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&(body.len() as u64).to_be_bytes())?;
            f.write_all(&crc32fast::hash(&body).to_be_bytes())?;
            f.write_all(&body)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, log.dir.join(SNAPSHOT))?;
        File::open(&log.dir)?.sync_all()?;
        // Only now may the log go: the snapshot holds everything it did, and everything
        // appended so far is durable in it.
        log.durability.all_synced();
        log.file.set_len(0)?;
        log.file.sync_all()?;
        log.len = 0;
        Ok(())
    }

    fn load_snapshot(&mut self, bytes: &[u8]) -> Result<(), String> {
        let (len, rest) = bytes
            .split_first_chunk::<8>()
            .ok_or("the snapshot is truncated")?;
        let (crc, body) = rest
            .split_first_chunk::<4>()
            .ok_or("the snapshot is truncated")?;
        if u64::from_be_bytes(*len) != body.len() as u64 {
            return Err("the snapshot's length does not match its size".into());
        }
        if crc32fast::hash(body) != u32::from_be_bytes(*crc) {
            return Err("the snapshot's checksum does not match".into());
        }
        let mut dec = Decoder::new(body, ByteOrder::BigEndian);
        let read = |dec: &mut Decoder<'_>| -> Result<_, DecodeError> {
            let next = dec.read_ulonglong()?;
            let n = dec.read_seq_len(12)?;
            let mut contexts = HashMap::with_capacity(n);
            for _ in 0..n {
                let id = dec.read_ulonglong()?;
                let m = dec.read_seq_len(12)?;
                let mut ctx = BTreeMap::new();
                for _ in 0..m {
                    let name = read_component(dec)?;
                    ctx.insert(name, read_bound(dec)?);
                }
                contexts.insert(id, ctx);
            }
            Ok((next, contexts))
        };
        let (next, contexts) = read(&mut dec).map_err(|e| format!("the snapshot: {e}"))?;
        self.next_context = next;
        self.contexts = contexts;
        self.contexts.entry(ROOT).or_default();
        Ok(())
    }
}

const SNAPSHOT: &str = "naming.snapshot";
const LOG: &str = "naming.log";

fn write_component(enc: &mut Encoder, (id, kind): &Component) -> Result<(), EncodeError> {
    enc.write_string(id)?;
    enc.write_string(kind)
}

fn read_component(dec: &mut Decoder<'_>) -> Result<Component, DecodeError> {
    Ok((
        dec.read_string()?.into_owned(),
        dec.read_string()?.into_owned(),
    ))
}

fn write_bound(enc: &mut Encoder, bound: &Bound) -> Result<(), EncodeError> {
    use orb::cdr::CdrEncode;
    match bound {
        Bound::Object(ior) => {
            enc.write_octet(0);
            ior.encode(enc)
        }
        Bound::LocalContext(id) => {
            enc.write_octet(1);
            enc.write_ulonglong(*id);
            Ok(())
        }
        Bound::RemoteContext(ior) => {
            enc.write_octet(2);
            ior.encode(enc)
        }
    }
}

fn read_bound(dec: &mut Decoder<'_>) -> Result<Bound, DecodeError> {
    use orb::cdr::CdrDecode;
    Ok(match dec.read_octet()? {
        0 => Bound::Object(Ior::decode(dec)?),
        1 => Bound::LocalContext(dec.read_ulonglong()?),
        2 => Bound::RemoteContext(Ior::decode(dec)?),
        _ => return Err(dec.error(orb::cdr::DecodeErrorKind::Invalid("unknown binding sort"))),
    })
}

fn frame_record(record: &Record) -> Result<Vec<u8>, EncodeError> {
    let mut enc = Encoder::new(ByteOrder::BigEndian);
    match record {
        Record::Bind {
            context,
            name,
            bound,
        } => {
            enc.write_octet(0);
            enc.write_ulonglong(*context);
            write_component(&mut enc, name)?;
            write_bound(&mut enc, bound)?;
        }
        Record::Unbind { context, name } => {
            enc.write_octet(1);
            enc.write_ulonglong(*context);
            write_component(&mut enc, name)?;
        }
        Record::NewContext(id) => {
            enc.write_octet(2);
            enc.write_ulonglong(*id);
        }
        Record::Destroy(id) => {
            enc.write_octet(3);
            enc.write_ulonglong(*id);
        }
    }
    let body = enc.into_vec();
    let mut framed = Vec::with_capacity(body.len() + 8);
    framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
    framed.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
    framed.extend_from_slice(&body);
    Ok(framed)
}

/// One record from the start of `bytes`, and the octets it took; or why it is not one.
fn read_record(bytes: &[u8]) -> Result<(Record, usize), String> {
    let (len, rest) = bytes
        .split_first_chunk::<4>()
        .ok_or("a record header is cut short")?;
    let (crc, rest) = rest
        .split_first_chunk::<4>()
        .ok_or("a record header is cut short")?;
    let len = u32::from_be_bytes(*len);
    if len > MAX_RECORD {
        return Err(format!("a record claims {len} octets"));
    }
    let body = rest
        .get(..len as usize)
        .ok_or_else(|| format!("a record of {len} octets is cut short"))?;
    if crc32fast::hash(body) != u32::from_be_bytes(*crc) {
        return Err("a record's checksum does not match".into());
    }
    let mut dec = Decoder::new(body, ByteOrder::BigEndian);
    let record = (|| -> Result<Record, DecodeError> {
        Ok(match dec.read_octet()? {
            0 => Record::Bind {
                context: dec.read_ulonglong()?,
                name: read_component(&mut dec)?,
                bound: read_bound(&mut dec)?,
            },
            1 => Record::Unbind {
                context: dec.read_ulonglong()?,
                name: read_component(&mut dec)?,
            },
            2 => Record::NewContext(dec.read_ulonglong()?),
            3 => Record::Destroy(dec.read_ulonglong()?),
            _ => return Err(dec.error(orb::cdr::DecodeErrorKind::Invalid("unknown record type"))),
        })
    })()
    .map_err(|e| format!("a record does not decode: {e}"))?;
    Ok((record, 8 + len as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(n: u8) -> Bound {
        Bound::Object(Ior {
            type_id: format!("IDL:T{n}:1.0"),
            profiles: vec![orb::iop::TaggedProfile {
                tag: orb::iop::ProfileId::INTERNET_IOP,
                data: vec![n; 8],
            }],
        })
    }

    fn c(id: &str) -> Component {
        (id.into(), String::new())
    }

    fn tempdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rtorb-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn bindings_contexts_and_their_errors() {
        let mut s = Store::in_memory();
        s.bind(ROOT, c("a"), obj(1), false).unwrap();
        assert!(matches!(
            s.bind(ROOT, c("a"), obj(2), false),
            Err(StoreError::AlreadyBound)
        ));
        s.bind(ROOT, c("a"), obj(2), true).unwrap();
        assert_eq!(s.lookup(ROOT, &c("a")), Some(&obj(2)));
        let ctx = s.new_context().unwrap();
        s.bind(ROOT, c("dir"), Bound::LocalContext(ctx), false)
            .unwrap();
        s.bind(ctx, c("x"), obj(3), false).unwrap();
        assert!(matches!(s.destroy(ctx), Err(StoreError::NotEmpty)));
        s.unbind(ctx, &c("x")).unwrap();
        assert!(matches!(s.unbind(ctx, &c("x")), Err(StoreError::NotFound)));
        s.destroy(ctx).unwrap();
        assert!(matches!(
            s.bind(ctx, c("y"), obj(1), false),
            Err(StoreError::NoContext)
        ));
        assert!(matches!(s.destroy(ROOT), Err(StoreError::RootContext)));
    }

    #[test]
    fn everything_acknowledged_survives_a_reopen_and_compaction() {
        let dir = tempdir("reopen");
        {
            let (mut s, r) = Store::open(&dir).unwrap();
            assert_eq!(r, Recovery::default());
            let ctx = s.new_context().unwrap();
            s.bind(ROOT, c("dir"), Bound::LocalContext(ctx), false)
                .unwrap();
            for i in 0..50u8 {
                s.bind(ctx, c(&format!("o{i}")), obj(i), false).unwrap();
            }
            s.unbind(ctx, &c("o7")).unwrap();
            // Dropped without any orderly close, as a killed process would.
        }
        let (mut s, r) = Store::open(&dir).unwrap();
        assert_eq!(r.replayed, 53);
        assert_eq!(r.truncated, None);
        let ctx = match s.lookup(ROOT, &c("dir")) {
            Some(Bound::LocalContext(id)) => *id,
            other => panic!("{other:?}"),
        };
        assert_eq!(s.context(ctx).unwrap().len(), 49);
        s.compact().unwrap();
        let next = s.new_context().unwrap();
        assert!(next > ctx);
        drop(s);
        let (s, r) = Store::open(&dir).unwrap();
        assert_eq!(r.replayed, 1);
        assert_eq!(s.context(ctx).unwrap().len(), 49);
        assert_eq!(s.context_ids(), vec![ROOT, ctx, next]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn records_are_numbered_and_synced_in_groups() {
        let dir = tempdir("group");
        let (mut s, _) = Store::open(&dir).unwrap();
        let d = s.durability().unwrap();
        assert_eq!((s.written(), d.synced(), d.fsyncs()), (0, 0, 0));
        // Nothing pending: waiting costs no fsync.
        d.wait(0).unwrap();
        assert_eq!(d.fsyncs(), 0);
        for i in 0..5u8 {
            s.bind(ROOT, c(&format!("o{i}")), obj(i), false).unwrap();
        }
        // A failed change appends nothing.
        assert!(s.bind(ROOT, c("o0"), obj(0), false).is_err());
        assert_eq!((s.written(), d.synced()), (5, 0));
        // One wait for the last makes all five durable with one fsync; earlier ones are
        // then already there.
        d.wait(5).unwrap();
        assert_eq!((d.synced(), d.fsyncs()), (5, 1));
        d.wait(3).unwrap();
        s.sync().unwrap();
        assert_eq!(d.fsyncs(), 1);
        // Compaction syncs everything by way of the snapshot.
        s.bind(ROOT, c("late"), obj(9), false).unwrap();
        s.compact().unwrap();
        assert_eq!(d.synced(), 6);
        s.sync().unwrap();
        assert_eq!(d.fsyncs(), 1);
        assert!(Store::in_memory().durability().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_torn_or_corrupt_log_tail_is_reported_and_cut_keeping_the_prefix() {
        let dir = tempdir("torn");
        {
            let (mut s, _) = Store::open(&dir).unwrap();
            for i in 0..3u8 {
                s.bind(ROOT, c(&format!("o{i}")), obj(i), false).unwrap();
            }
        }
        let log = dir.join(LOG);
        let full = std::fs::read(&log).unwrap();
        let one = full.len() / 3;
        // A crash in the middle of the third append.
        std::fs::write(&log, &full[..full.len() - 5]).unwrap();
        let (s, r) = Store::open(&dir).unwrap();
        assert_eq!(r.replayed, 2);
        assert_eq!(r.truncated.as_ref().unwrap().0, 2 * one as u64);
        assert!(r.truncated.unwrap().1.contains("cut short"));
        assert_eq!(s.context(ROOT).unwrap().len(), 2);
        drop(s);
        // The cut is on disk: the next start is clean.
        let (_, r) = Store::open(&dir).unwrap();
        assert_eq!((r.replayed, r.truncated), (2, None));

        // A flipped bit in the second record: only the first survives.
        let mut bad = full.clone();
        bad[one + 12] ^= 0x40;
        std::fs::write(&log, &bad).unwrap();
        let (s, r) = Store::open(&dir).unwrap();
        assert_eq!(r.replayed, 1);
        assert!(r.truncated.unwrap().1.contains("checksum"));
        assert_eq!(s.context(ROOT).unwrap().len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
