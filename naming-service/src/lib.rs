//! CosNaming (Interoperable Naming Service): the servant, usable inside any process, the
//! `naming-service` daemon and the `nsadmin` tool built on it.
//!
//! - [`store`]: the naming graph and its write-ahead log;
//! - [`graph`]: CosNaming's rules over it (compound names, the exceptions);
//! - [`servant`]: the CORBA objects — contexts in a persistent POA, binding iterators;
//! - [`cos_naming`]: the stubs and skeletons idlc generates from `idl/CosNaming.idl`;
//! - [`admin`]: what `nsadmin` (and `rtorb ns`) do: list, bind, resolve, unbind…;
//! - [`daemon`]: what the daemons share at start-up (logging, "listening on");
//! - [`connect_or_start`]: embedded mode — use the naming service at an address, or start
//!   one in this process when none answers there.
#![forbid(unsafe_code)]

pub mod admin;
pub mod daemon;
pub mod graph;
pub mod servant;
pub mod store;

/// Generated from `idl/CosNaming.idl`.
#[allow(missing_docs, clippy::all)]
pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/CosNaming.rs"));
}
pub use generated::cos_naming;

pub use servant::NamingService;

use cos_naming::NamingContextExtRef;
use orb::exception::SystemExceptionKind;
use orb::{Orb, OrbError, OrbOptions};
use std::path::Path;
use std::time::Duration;

/// What can stop a naming service from starting.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Orb(#[from] OrbError),
    #[error(
        "the data directory {dir} is a file, not a directory: give --data-dir a directory \
         (it is made if missing), or move the file away"
    )]
    DataDirIsAFile { dir: String },
    #[error(
        "something at 127.0.0.1:{port} accepts connections but does not answer as a naming \
         service ({source}); stop it or choose another port"
    )]
    PortTaken {
        port: u16,
        #[source]
        source: orb::exception::SystemException,
    },
    #[error("cannot open the naming data in {dir}: {source}")]
    Store {
        dir: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<orb::exception::SystemException> for Error {
    fn from(e: orb::exception::SystemException) -> Error {
        Error::Orb(e.into())
    }
}

impl From<orb::OptionsError> for Error {
    fn from(e: orb::OptionsError) -> Error {
        Error::Orb(e.into())
    }
}

/// Opens the store in `data_dir` (reporting a torn log tail on standard error), or one in
/// memory.
pub fn open_store(data_dir: Option<&Path>) -> Result<store::Store, Error> {
    let Some(dir) = data_dir else {
        return Ok(store::Store::in_memory());
    };
    // Said plainly, where `create_dir_all` would say only "File exists".
    if dir.exists() && !dir.is_dir() {
        return Err(Error::DataDirIsAFile {
            dir: dir.display().to_string(),
        });
    }
    let (store, recovery) = store::Store::open(dir).map_err(|source| Error::Store {
        dir: dir.display().to_string(),
        source,
    })?;
    if let Some((at, why)) = recovery.truncated {
        eprintln!(
            "naming-service: {}: the log ends in a damaged record at octet {at} ({why}); \
             kept the {} records before it",
            dir.display(),
            recovery.replayed
        );
    }
    Ok(store)
}

/// A naming service started in this process by [`connect_or_start`], with the ORB it serves
/// on. Dropping it stops it.
pub struct Embedded {
    pub orb: Orb,
    pub service: NamingService,
}

impl Drop for Embedded {
    fn drop(&mut self) {
        self.orb.shutdown(true);
    }
}

/// How long [`connect_or_start`] waits for whatever listens on its port to answer: a naming
/// service answers a LocateRequest at once, so this only bounds the wait on something
/// else that took the port and never answers.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Embedded mode: the root context of the naming service on `127.0.0.1:port`, as seen from
/// `orb`; when nothing answers there, a naming service is started in this process on that
/// port first (durable in `data_dir` if given) and returned beside the reference. Bounded:
/// something on the port that accepts and never answers is an error after
/// [`PROBE_TIMEOUT`], not a hang.
pub fn connect_or_start(
    orb: &Orb,
    port: u16,
    data_dir: Option<&Path>,
) -> Result<(NamingContextExtRef, Option<Embedded>), Error> {
    let url = format!("corbaloc::127.0.0.1:{port}/NameService");
    let root = orb.string_to_object(&url)?;
    match root.with_timeout(PROBE_TIMEOUT).locate() {
        Ok(true) => return Ok((NamingContextExtRef::unchecked_narrow(root), None)),
        Ok(false) => {}
        Err(e) if e.kind == SystemExceptionKind::TRANSIENT => {}
        Err(e) if e.kind == SystemExceptionKind::TIMEOUT => {
            return Err(Error::PortTaken { port, source: e })
        }
        Err(e) => return Err(e.into()),
    }
    let mut options = OrbOptions::default();
    // A thread per connection, as the daemon uses (see there why).
    options.parse_args([
        "-ORBendPoint".into(),
        format!("giop:tcp:127.0.0.1:{port}"),
        "-ORBthreadStrategy".into(),
        "connection".into(),
    ])?;
    let naming_orb = Orb::init(options)?;
    let store = open_store(data_dir)?;
    let service = NamingService::start(&naming_orb, store)?;
    naming_orb.listen()?;
    let root = orb.string_to_object(&url)?;
    Ok((
        NamingContextExtRef::unchecked_narrow(root),
        Some(Embedded {
            orb: naming_orb,
            service,
        }),
    ))
}
