//! The naming graph and its durability.
//!
//! Contexts are numbered (0 is the root); each holds bindings from a name component
//! `(id, kind)` to an object reference or a context — one of ours by number, or another
//! naming service's by reference. Operations here work on one context and one component;
//! walking compound names (and calling other naming services) is the servant's job.
//!
//! With a data directory every change is appended to a write-ahead log and `fsync`ed before
//! the call returns, so an acknowledged change survives `kill -9` and power loss. When the
//! log grows past a threshold its content is compacted into a snapshot (written to a
//! temporary file, synced, renamed over the old one, directory synced), and the log starts
//! empty. On start the snapshot is loaded and the log replayed; a torn or corrupt tail (a
//! crash mid-append, a damaged disk block) is reported and cut off, keeping the valid prefix.
//!
//! Records are CDR (big-endian) framed by length and CRC-32: `u32 len, u32 crc, len octets`.

use orb::cdr::{ByteOrder, DecodeError, Decoder, EncodeError, Encoder};
use orb::iop::Ior;
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

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
        store.log = Some(Log {
            dir: dir.to_owned(),
            file,
            len: at as u64,
        });
        Ok((store, recovery))
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

    /// Logs (durably) then applies.
    fn commit(&mut self, record: Record) -> Result<(), StoreError> {
        if let Some(log) = &mut self.log {
            let bytes = frame_record(&record)?;
            log.file.write_all(&bytes)?;
            log.file.sync_data()?;
            log.len += bytes.len() as u64;
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
        // Only now may the log go: the snapshot holds everything it did.
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
