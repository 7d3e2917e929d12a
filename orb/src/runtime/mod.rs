//! The ORB: what ties POAs, servants, object references and transports together.
//!
//! - [`Orb`]: initialisation from [`OrbOptions`] (or `-ORB...` arguments), initial
//!   references, `string_to_object`/`object_to_string`, run and shutdown, and making
//!   references for a POA's objects.
//! - `server`: the transport [`Handler`](crate::transport::Handler) that turns Requests and
//!   LocateRequests into POA lookups and servant upcalls, and their outcomes into replies.
//! - `invoke`: the client side, from a stub's call to the reply.
//! - `collocation`: references to objects of this process called without the transport.

mod batch;
pub(crate) mod collocation;
pub(crate) mod invoke;
mod options;
mod server;

pub use options::{CollocationStrategy, OptionsError, OrbOptions};

use crate::cdr::{ByteOrder, CodeSets, GiopVersion};
use crate::exception::{minor, SystemException, SystemExceptionKind};
use crate::giop::CompletionStatus;
use crate::iop::{ComponentId, Ior, TaggedComponent};
use crate::ior::{
    parse_object_url, CodeSetComponentInfo, Component, IiopProfile, ObjectUrl, UiopProfile,
};
use crate::object::ObjectRef;
use crate::poa::{ObjectKey, Poa, PoaError, PoaTree};
use crate::servant::ServantRef;
use crate::transport::{
    ClientOptions, ConnectionCache, Dialect, Endpoint, ListenerSpec, Server, ServerOptions,
    Strategy,
};
use parking_lot::{Condvar, Mutex, RwLock};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};

/// The POA type of this ORB: POAs hold [`ServantRef`]s.
pub type OrbPoa = Poa<ServantRef>;

/// What failed while starting an ORB or resolving a reference by name or URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OrbError {
    #[error(transparent)]
    Options(#[from] OptionsError),
    #[error(transparent)]
    Transport(#[from] crate::transport::TransportError),
    /// `resolve_initial_references` of a name that is neither built in nor configured.
    #[error("no initial reference named {0:?} (give one with -ORBInitRef {0}=URL)")]
    InvalidName(String),
    /// A string that is not an object reference or URL this ORB reads.
    #[error("cannot read object reference {text:?}: {reason}")]
    BadReference { text: String, reason: String },
    #[error(transparent)]
    System(#[from] SystemException),
    #[error(transparent)]
    Poa(#[from] PoaError),
}

/// Where requests for a reference go: the profile chosen from its IOR, or the IOR a
/// `LOCATION_FORWARD` named.
#[derive(Debug)]
pub(crate) struct Binding {
    pub(crate) endpoint: Endpoint,
    pub(crate) dialect: Dialect,
    pub(crate) key: Vec<u8>,
    /// The GIOP version requests use: the lower of the profile's and this ORB's maximum.
    pub(crate) version: GiopVersion,
    /// The code sets the client transmits in, negotiated from the IOR's `TAG_CODE_SETS`.
    pub(crate) codesets: CodeSets,
    /// The server's RT-CORBA priority model, from the IOR's `TAG_POLICIES` (`None`: a
    /// server that declares none, which may still be an RT server of the client-propagated
    /// model, so the caller's priority is sent to it all the same).
    pub(crate) server_policy: Option<crate::rt::PriorityModelPolicy>,
    /// The endpoints of the server's RT-CORBA lanes with their priorities, increasing, from
    /// the IOR's `TAG_RTORB_LANES` (empty without, and for any transport but IIOP, plain
    /// or lite): a call in a priority band goes to its lane's, in plain GIOP.
    pub(crate) lane_endpoints: Vec<(crate::rt::Priority, Endpoint)>,
    /// When this binding was chosen because a cheaper local transport its IOR offers
    /// (SHMIOP, UIOP) could not be connected; `None` for the IOR's best choice (and for a
    /// forwarded binding). `transport::RETRY_PASSED_OVER_AFTER` after that, the reference
    /// chooses again at its next call.
    pub(crate) passed_over_local: Option<std::time::Instant>,
}

/// Everything an [`Orb`] handle shares.
pub(crate) struct OrbShared {
    pub(crate) options: OrbOptions,
    pub(crate) poas: PoaTree<ServantRef>,
    pub(crate) cache: ConnectionCache,
    /// The listeners, bound at the first need for a reference to a local object.
    server: OnceLock<Result<ServerState, String>>,
    initial_refs: RwLock<HashMap<String, ObjectRef>>,
    shutdown: Mutex<bool>,
    shutdown_cv: Condvar,
    /// With `-ORBonewayBatchMicros`: the oneways waiting to be written.
    pub(crate) oneways: Option<batch::OnewayBatcher>,
    /// Held while the server's threads are joined, and true once they have been: whoever
    /// completes the shutdown ([`Orb::shutdown`] with `wait`, or [`Orb::run`]) does it under
    /// this lock, so the other waits for it rather than returning early.
    shutdown_complete: Mutex<bool>,
}

impl OrbShared {
    /// Whether [`Orb::shutdown`] was called: it serves no more.
    fn is_shut_down(&self) -> bool {
        *self.shutdown.lock()
    }
}

impl Drop for OrbShared {
    fn drop(&mut self) {
        // Before the connection cache goes: buffered oneways are written, not dropped.
        if let Some(b) = &self.oneways {
            b.stop();
        }
        // References collocated with this ORB's objects must see that it is gone.
        crate::poa::note_change();
    }
}

struct ServerState {
    server: Server,
    handler: Arc<server::RequestHandler>,
    /// The GIOP listeners as `(host, port)` for IIOP profiles.
    iiop: Vec<(String, u16)>,
    /// GIOP-lite listeners, advertised in our own tagged component.
    lite: Vec<(String, u16)>,
    /// Unix socket listeners, advertised in UIOP profiles.
    unix: Vec<String>,
    /// SHMIOP listeners' socket paths, advertised in our component of the IIOP profiles.
    shm: Vec<String>,
    /// RT-CORBA lanes' own listeners (one per lane), whose connections the lane's threads
    /// serve themselves; advertised in our `TAG_RTORB_LANES` component.
    lane_servers: Vec<Server>,
    lane_endpoints: Vec<crate::rt::LaneEndpoint>,
}

/// An ORB. Clones are handles to the same ORB; it shuts down when [`Orb::shutdown`] is called
/// or the last handle goes.
#[derive(Clone)]
pub struct Orb {
    pub(crate) shared: Arc<OrbShared>,
}

/// SIGINT and SIGTERM watched for an ORB ([`Orb::watch_signals`]): either shuts it down.
/// Dropping it stops watching.
pub struct SignalWatch {
    orb: Orb,
    handle: signal_hook::iterator::Handle,
    watcher: Option<std::thread::JoinHandle<Option<i32>>>,
}

impl SignalWatch {
    /// [`Orb::run`]: serves until a watched signal or [`Orb::shutdown`] ends it, and returns
    /// once the shutdown has completed, with the signal that caused it, if one did.
    pub fn run(mut self) -> Result<Option<i32>, OrbError> {
        let ran = self.orb.run();
        ran.map(|()| self.stop())
    }

    /// Ends the watcher thread (its `forever()` when no signal came) and gives what it saw.
    fn stop(&mut self) -> Option<i32> {
        self.handle.close();
        self.watcher.take().and_then(|w| w.join().unwrap_or(None))
    }
}

impl Drop for SignalWatch {
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for SignalWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalWatch").finish_non_exhaustive()
    }
}

fn signal_error(source: std::io::Error) -> OrbError {
    OrbError::Transport(crate::transport::TransportError::Io {
        what: "watching for SIGINT and SIGTERM",
        source,
    })
}

/// Tagged component of ours (vendor range, "RTO\x02"): the GIOP-lite listeners of an rtorb
/// server, as an encapsulated sequence of `(string host, ushort port)`. Other ORBs skip it.
pub const TAG_RTORB_LITE: ComponentId = ComponentId(0x5254_4f02);

/// Tagged component of ours (vendor range, "RTO\x03"), in the IIOP profiles of an rtorb
/// server with a SHMIOP listener: the identity of the host the listener is on (the kernel's
/// boot id) and the listener's Unix socket path, as an encapsulated
/// `struct { string host_id; string path; }`. An rtorb client whose boot id matches sets up
/// shared-memory rings over that socket; other ORBs skip the component and use IIOP.
pub const TAG_RTORB_SHMIOP: ComponentId = ComponentId::RTORB_SHMIOP;

static ORBS: RwLock<Vec<Weak<OrbShared>>> = RwLock::new(Vec::new());

/// What a thread knows of the ORB it serves or decodes for; one thread-local, so that a
/// request's [`CurrentGuard`] sets and restores it in one access each way.
struct ThreadOrb {
    /// The ORB whose server thread this is, while it dispatches a request.
    current: Option<Weak<OrbShared>>,
    /// The ORB whose message this thread decodes now: the request a server thread
    /// dispatches, or the reply to the thread's latest call. References decoded from the
    /// message are tied to it, so that in a process with several ORBs a reference goes
    /// through the ORB it came from (not whichever ORB `Orb::current` finds).
    decoding: Option<Weak<OrbShared>>,
    /// The two handles the thread's last [`CurrentGuard`] set, taken back when it ended: the
    /// next request of the same ORB (a connection's thread serves one ORB all its life) sets
    /// them again without cloning and dropping a `Weak` each time, four atomic
    /// read-modify-writes per request. Nothing reads them; a weak handle keeps no ORB alive.
    spare: SpareHandles,
}

/// `current`'s and `decoding`'s handles, kept between two requests.
type SpareHandles = (Option<Weak<OrbShared>>, Option<Weak<OrbShared>>);

thread_local! {
    static THREAD_ORB: std::cell::RefCell<ThreadOrb> = const {
        std::cell::RefCell::new(ThreadOrb {
            current: None,
            decoding: None,
            spare: (None, None),
        })
    };
}

/// The ORB references decoded now belong to (see [`ThreadOrb::decoding`]), if known and still
/// there: a thread that decoded a reply of an ORB since dropped, and now decodes something
/// else (an `any`'s value into its Rust type), must not tie references to the dropped ORB.
pub(crate) fn decoding_orb() -> Option<Weak<OrbShared>> {
    THREAD_ORB.with(|t| t.borrow().decoding.clone().filter(|w| w.strong_count() > 0))
}

/// Called with the reply to a call through `orb`: what the caller decodes next is from it.
pub(crate) fn decoding_reply_of(orb: &Arc<OrbShared>) {
    THREAD_ORB.with(|t| {
        let c = &mut t.borrow_mut().decoding;
        if !c
            .as_ref()
            .is_some_and(|w| w.strong_count() > 0 && std::ptr::eq(w.as_ptr(), Arc::as_ptr(orb)))
        {
            *c = Some(Arc::downgrade(orb));
        }
    });
}

impl Orb {
    /// Starts an ORB. Servers start listening when the first reference to a local object is
    /// made (or [`Orb::run`] is called), on [`OrbOptions::endpoints`].
    pub fn init(options: OrbOptions) -> Result<Orb, OrbError> {
        let client = ClientOptions {
            connect_timeout: options.connect_timeout,
            max_message_size: options.max_message_size,
            allocator: options.allocator,
            shm_ring_size: options.shm_ring_size,
            ..ClientOptions::default()
        };
        crate::rt::mapping::set_policy(options.priority_mapping);
        // POAs created without a PriorityModelPolicy (the RootPOA among them) have the ORB's.
        let poas = PoaTree::with_default_priority_model(options.priority_model);
        poas.root()
            .manager()
            .activate()
            .expect("a new POA manager is not inactive");
        let shared = Arc::new(OrbShared {
            cache: ConnectionCache::new(client),
            poas,
            server: OnceLock::new(),
            initial_refs: RwLock::new(HashMap::new()),
            shutdown: Mutex::new(false),
            shutdown_cv: Condvar::new(),
            oneways: options.oneway_batch.map(batch::OnewayBatcher::new),
            shutdown_complete: Mutex::new(false),
            options,
        });
        let orb = Orb { shared };
        for (name, url) in orb.shared.options.init_refs.clone() {
            let obj = orb.string_to_object(&url)?;
            orb.shared.initial_refs.write().insert(name, obj);
        }
        let mut all = ORBS.write();
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&orb.shared));
        Ok(orb)
    }

    /// [`Orb::init`] from command-line arguments: `-ORB<option> <value>` pairs are taken
    /// out of `args` (omniORB's spelling, see [`OrbOptions::parse_args`]); the rest is
    /// returned for the program.
    pub fn init_from_args(
        args: impl IntoIterator<Item = String>,
    ) -> Result<(Orb, Vec<String>), OrbError> {
        let mut options = OrbOptions::from_env()?;
        let rest = options.parse_args(args)?;
        Ok((Orb::init(options)?, rest))
    }

    pub fn options(&self) -> &OrbOptions {
        &self.shared.options
    }

    /// The RootPOA (its manager is active from the start, so objects serve at once).
    pub fn root_poa(&self) -> OrbPoa {
        self.shared.poas.root()
    }

    /// The POA tree, for its well-known keys (`corbaloc:` objects).
    pub fn poa_tree(&self) -> &PoaTree<ServantRef> {
        &self.shared.poas
    }

    /// `resolve_initial_references`: `RootPOA`, then names given with `-ORBInitRef` or
    /// [`Orb::register_initial_reference`], then `-ORBDefaultInitRef` + `/name`.
    pub fn resolve_initial_references(&self, name: &str) -> Result<ObjectRef, OrbError> {
        if let Some(obj) = self.shared.initial_refs.read().get(name) {
            return Ok(obj.clone());
        }
        if let Some(base) = &self.shared.options.default_init_ref {
            let url = format!("{}/{}", base.trim_end_matches('/'), name);
            return self.string_to_object(&url);
        }
        Err(OrbError::InvalidName(name.to_owned()))
    }

    /// Names `obj` for [`Orb::resolve_initial_references`] (`register_initial_reference`).
    pub fn register_initial_reference(&self, name: &str, obj: ObjectRef) {
        self.shared
            .initial_refs
            .write()
            .insert(name.to_owned(), obj);
    }

    /// `string_to_object`: `IOR:`, `corbaloc:`, `corbaname:` (resolved through the naming
    /// context it names) or `file://PATH` (a file holding one of those).
    pub fn string_to_object(&self, text: &str) -> Result<ObjectRef, OrbError> {
        let bad = |reason: String| OrbError::BadReference {
            text: text.to_owned(),
            reason,
        };
        let trimmed = text.trim();
        if let Some(path) = trimmed.strip_prefix("file://") {
            let content = std::fs::read_to_string(path)
                .map_err(|e| bad(format!("cannot read {path}: {e}")))?;
            return self.string_to_object(content.trim());
        }
        match parse_object_url(trimmed).map_err(|e| bad(e.to_string()))? {
            ObjectUrl::Ior(ior) => Ok(self.reference_from_ior(ior)),
            ObjectUrl::Corbaloc(loc) => {
                if loc.is_rir() {
                    let name = String::from_utf8(loc.key.clone())
                        .map_err(|_| bad("a rir: key is not UTF-8".into()))?;
                    return self.resolve_initial_references(&name);
                }
                let ior = loc
                    .to_ior(ByteOrder::NATIVE)
                    .map_err(|e| bad(e.to_string()))?;
                Ok(self.reference_from_ior(ior))
            }
            ObjectUrl::Corbaname(name) => {
                let context = if name.context.is_rir() {
                    let key = String::from_utf8(name.context.key.clone())
                        .map_err(|_| bad("a rir: key is not UTF-8".into()))?;
                    self.resolve_initial_references(if key.is_empty() {
                        "NameService"
                    } else {
                        &key
                    })?
                } else {
                    let ior = name
                        .context
                        .to_ior(ByteOrder::NATIVE)
                        .map_err(|e| bad(e.to_string()))?;
                    self.reference_from_ior(ior)
                };
                if name.string_name.is_empty() {
                    return Ok(context);
                }
                Ok(invoke::resolve_name(&context, &name.string_name)?)
            }
        }
    }

    /// `object_to_string`: the stringified IOR.
    pub fn object_to_string(&self, obj: &ObjectRef) -> Result<String, OrbError> {
        obj.to_ior_string()
            .map_err(|e| OrbError::System(SystemException::from(e)))
    }

    /// A reference of this ORB to the object `ior` designates.
    pub fn reference_from_ior(&self, ior: Ior) -> ObjectRef {
        ObjectRef::with_orb(ior, Some(Arc::downgrade(&self.shared)))
    }

    /// Activates `servant` in `poa` (with a system id) and returns a reference to it.
    pub fn activate(&self, poa: &OrbPoa, servant: ServantRef) -> Result<ObjectRef, OrbError> {
        let type_id = servant.repository_id();
        let id = poa.activate_object(servant)?;
        let key = poa.id_to_reference(&id)?;
        self.key_to_reference(key, type_id)
    }

    /// Activates `servant` in `poa` under `id` and returns a reference to it.
    pub fn activate_with_id(
        &self,
        poa: &OrbPoa,
        id: &[u8],
        servant: ServantRef,
    ) -> Result<ObjectRef, OrbError> {
        let type_id = servant.repository_id();
        poa.activate_object_with_id(id, servant)?;
        let key = poa.id_to_reference(id)?;
        self.key_to_reference(key, type_id)
    }

    /// `servant_to_reference` as an object reference.
    pub fn servant_to_reference(
        &self,
        poa: &OrbPoa,
        servant: &ServantRef,
    ) -> Result<ObjectRef, OrbError> {
        let key = poa.servant_to_reference(servant)?;
        self.key_to_reference(key, servant.repository_id())
    }

    /// `id_to_reference` as an object reference of type `type_id`.
    pub fn id_to_reference(
        &self,
        poa: &OrbPoa,
        id: &[u8],
        type_id: &str,
    ) -> Result<ObjectRef, OrbError> {
        let key = poa.id_to_reference(id)?;
        self.key_to_reference(key, type_id)
    }

    /// `create_reference_with_id`: a reference to an object that need not be active yet.
    pub fn create_reference_with_id(
        &self,
        poa: &OrbPoa,
        id: &[u8],
        type_id: &str,
    ) -> Result<ObjectRef, OrbError> {
        let key = poa.create_reference_with_id(id)?;
        self.key_to_reference(key, type_id)
    }

    /// `RTPortableServer::POA::activate_object_with_priority`: activates `servant` in `poa`
    /// (with a system id), its requests to run at `priority` whatever their clients', and
    /// returns a reference that declares it. `poa` must have the SERVER_DECLARED priority
    /// model and NO_IMPLICIT_ACTIVATION (WrongPolicy), `priority` be 0 ..= 32767 (BAD_PARAM).
    pub fn activate_with_priority(
        &self,
        poa: &OrbPoa,
        servant: ServantRef,
        priority: crate::rt::Priority,
    ) -> Result<ObjectRef, OrbError> {
        let type_id = servant.repository_id();
        let id = poa.activate_object_with_priority(servant, priority)?;
        let key = poa.id_to_reference(&id)?;
        self.key_to_reference(key, type_id)
    }

    /// `RTPortableServer::POA::activate_object_with_id_and_priority`, returning a reference
    /// (see [`Orb::activate_with_priority`]).
    pub fn activate_with_id_and_priority(
        &self,
        poa: &OrbPoa,
        id: &[u8],
        servant: ServantRef,
        priority: crate::rt::Priority,
    ) -> Result<ObjectRef, OrbError> {
        let type_id = servant.repository_id();
        poa.activate_object_with_id_and_priority(id, servant, priority)?;
        let key = poa.id_to_reference(id)?;
        self.key_to_reference(key, type_id)
    }

    /// `RTPortableServer::POA::create_reference_with_priority`: a reference of type
    /// `type_id` to an object not yet active (a new system id) that declares `priority`.
    /// Activate it with the same priority ([`Orb::activate_with_id_and_priority`]): activated
    /// without one, it runs at its POA's. Same rules as [`Orb::activate_with_priority`].
    pub fn create_reference_with_priority(
        &self,
        poa: &OrbPoa,
        type_id: &str,
        priority: crate::rt::Priority,
    ) -> Result<ObjectRef, OrbError> {
        let key = poa.create_reference_with_priority(priority)?;
        let declared = crate::rt::PriorityModelPolicy {
            server_priority: priority,
            ..poa.priority_model()
        };
        self.reference_declaring(key, type_id, declared)
    }

    /// `RTPortableServer::POA::create_reference_with_id_and_priority` (see
    /// [`Orb::create_reference_with_priority`]).
    pub fn create_reference_with_id_and_priority(
        &self,
        poa: &OrbPoa,
        id: &[u8],
        type_id: &str,
        priority: crate::rt::Priority,
    ) -> Result<ObjectRef, OrbError> {
        let key = poa.create_reference_with_id_and_priority(id, priority)?;
        let declared = crate::rt::PriorityModelPolicy {
            server_priority: priority,
            ..poa.priority_model()
        };
        self.reference_declaring(key, type_id, declared)
    }

    /// `reference_to_servant`.
    pub fn reference_to_servant(
        &self,
        poa: &OrbPoa,
        obj: &ObjectRef,
    ) -> Result<ServantRef, OrbError> {
        let key = collocation::object_key(obj).ok_or(PoaError::WrongAdapter)?;
        Ok(poa.reference_to_servant(&key)?)
    }

    /// Binds `servant` under a plain key (`NameService`), so that
    /// `corbaloc:iiop:host:port/KEY` reaches it, and returns a reference to it.
    pub fn register_well_known(
        &self,
        key: &str,
        servant: ServantRef,
    ) -> Result<ObjectRef, OrbError> {
        let type_id = servant.repository_id();
        self.shared
            .poas
            .register_well_known(key.as_bytes(), servant)?;
        self.key_to_reference(key.as_bytes().to_vec(), type_id)
    }

    /// The IOR of an object of this ORB: one IIOP profile per GIOP listener, each with the
    /// code sets component, and the GIOP-lite listeners in ours; with the RT-CORBA priority
    /// model of the key's POA (and the object's own priority, if it is active with one).
    pub fn key_to_reference(&self, key: ObjectKey, type_id: &str) -> Result<ObjectRef, OrbError> {
        let declared = self.shared.poas.priority_model_for_key(&key);
        self.reference_declaring(key, type_id, declared)
    }

    /// [`Orb::key_to_reference`], declaring the priority model `declared`.
    fn reference_declaring(
        &self,
        key: ObjectKey,
        type_id: &str,
        declared: crate::rt::PriorityModelPolicy,
    ) -> Result<ObjectRef, OrbError> {
        let state = self.server()?;
        // No TAG_ORB_TYPE: rtorb has no vendor tag of its own from the OMG, and claiming
        // another ORB's would make peers apply that ORB's quirks to us. The component is
        // optional; omniORB and rtorb read our references the same without it.
        let mut components = vec![Component::CodeSets(CodeSetComponentInfo::omniorb_default())
            .to_tagged(ByteOrder::NATIVE)
            .map_err(SystemException::from)?];
        if !state.lite.is_empty() {
            components.push(lite_component(&state.lite)?);
        }
        // RT-CORBA servers say how they prioritise the object's requests (TAG_POLICIES);
        // others (client-propagated, priority 0, no lanes) add nothing, so their IORs stay as
        // they were.
        if self.shared.options.lanes.is_some()
            || declared != crate::rt::PriorityModelPolicy::default()
        {
            components.push(declared.to_component());
        }
        if !state.lane_endpoints.is_empty() {
            components.push(
                crate::rt::lane_endpoints::lanes_component(&state.lane_endpoints)
                    .map_err(SystemException::from)?,
            );
        }
        if let Some(host) = local_boot_id() {
            for path in &state.shm {
                components.push(shmiop_component(host, path)?);
            }
        }
        let version = self.shared.options.giop_version;
        let mut profiles = Vec::with_capacity(state.iiop.len());
        for (host, port) in &state.iiop {
            let mut p = IiopProfile::new(version, host.clone(), *port, key.clone());
            if version.minor > 0 {
                p.components = components.clone();
            }
            profiles.push(
                p.to_tagged(ByteOrder::NATIVE)
                    .map_err(SystemException::from)?,
            );
        }
        // UIOP first: a client of ours on the same host prefers it, others skip it.
        let mut uiop = Vec::with_capacity(state.unix.len());
        for path in &state.unix {
            let p = UiopProfile {
                version,
                host: local_host_id().to_owned(),
                path: path.clone(),
                object_key: key.clone(),
            };
            uiop.push(
                p.to_tagged(ByteOrder::NATIVE)
                    .map_err(SystemException::from)?,
            );
        }
        uiop.extend(profiles);
        let ior = Ior {
            type_id: type_id.to_owned(),
            profiles: uiop,
        };
        Ok(self.reference_from_ior(ior))
    }

    /// Starts listening now, if not yet: the endpoints bound (ephemeral ports resolved).
    pub fn listen(&self) -> Result<Vec<Endpoint>, OrbError> {
        let state = self.server()?;
        Ok(state
            .server
            .endpoints()
            .iter()
            .map(|l| l.endpoint.clone())
            .collect())
    }

    fn server(&self) -> Result<&ServerState, OrbError> {
        let state = self
            .shared
            .server
            .get_or_init(|| self.start_server().map_err(|e| e.to_string()));
        state.as_ref().map_err(|e| {
            OrbError::Transport(crate::transport::TransportError::Io {
                what: "starting the ORB's listeners",
                source: std::io::Error::other(e.clone()),
            })
        })
    }

    fn start_server(&self) -> Result<ServerState, OrbError> {
        let o = &self.shared.options;
        let mut specs: Vec<ListenerSpec> = o
            .endpoints
            .iter()
            .cloned()
            .map(ListenerSpec::giop)
            .collect();
        specs.extend(
            o.lite_endpoints
                .iter()
                .cloned()
                .map(|e| ListenerSpec::lite(e, ByteOrder::NATIVE)),
        );
        let lanes = match &o.lanes {
            Some(lanes) => Some(
                crate::rt::lanes::LanePool::start(lanes, o.allocator).map_err(|source| {
                    crate::transport::TransportError::Io {
                        what: "starting the threads of the RT-CORBA lanes",
                        source,
                    }
                })?,
            ),
            None => None,
        };
        let handler =
            server::RequestHandler::new(Arc::downgrade(&self.shared), o.priority_model, lanes);
        let server_options = ServerOptions {
            max_message_size: o.max_message_size,
            allocator: o.allocator,
            // Lanes' readers keep their wake-up preemption: their priority is the point.
            batch_oneway_readers: o.batch_oneway_readers && o.lanes.is_none(),
            ..ServerOptions::default()
        };
        let server = Server::bind(&specs, o.strategy, handler.clone(), server_options)?;
        let mut iiop = Vec::new();
        let mut lite = Vec::new();
        let mut unix = Vec::new();
        let mut shm = Vec::new();
        for l in server.endpoints() {
            if let Endpoint::Uiop { path } = &l.endpoint {
                if l.dialect == Dialect::Giop {
                    unix.push(path.display().to_string());
                }
            }
            if let Endpoint::Shmiop { path } = &l.endpoint {
                if l.dialect == Dialect::Giop {
                    shm.push(path.display().to_string());
                }
            }
            if let Endpoint::Iiop { host, port } = &l.endpoint {
                // A listener on every interface is published under the loopback address
                // unless told otherwise.
                let host = match (&o.publish_host, host.as_str()) {
                    (Some(h), _) => h.clone(),
                    (None, "") => "127.0.0.1".to_owned(),
                    (None, h) => h.to_owned(),
                };
                match l.dialect {
                    Dialect::Giop => iiop.push((host, *port)),
                    Dialect::Lite(_) => lite.push((host, *port)),
                }
            }
        }
        let (lane_servers, lane_endpoints) = self.start_lane_listeners(&handler, &server)?;
        if !shm.is_empty() && iiop.is_empty() {
            // The component rides in IIOP profiles: without one, nobody learns of it.
            tracing::warn!(target: "orb::connection", "SHMIOP listeners are advertised in the \
                IIOP profiles of references, and this ORB has no TCP endpoint: add one \
                (-ORBendPoint giop:tcp:HOST:PORT) or clients cannot find the shared memory");
        }
        Ok(ServerState {
            server,
            handler,
            iiop,
            lite,
            unix,
            shm,
            lane_servers,
            lane_endpoints,
        })
    }

    /// With lanes (and `-ORBlaneEndpoints` not off), a listener per lane on the host of the
    /// first IIOP listener, at an ephemeral port, whose connections have up to the lane's
    /// thread count of threads of the lane, each reading and running its requests.
    fn start_lane_listeners(
        &self,
        handler: &Arc<server::RequestHandler>,
        main: &Server,
    ) -> Result<(Vec<Server>, Vec<crate::rt::LaneEndpoint>), OrbError> {
        let o = &self.shared.options;
        let (Some(lanes), true) = (&o.lanes, o.lane_endpoints) else {
            return Ok((Vec::new(), Vec::new()));
        };
        let Some(host) = main
            .endpoints()
            .iter()
            .find_map(|l| match (&l.endpoint, l.dialect) {
                (Endpoint::Iiop { host, .. }, Dialect::Giop) => Some(host.clone()),
                _ => None,
            })
        else {
            // No IIOP profile to advertise them in.
            return Ok((Vec::new(), Vec::new()));
        };
        let published = match (&o.publish_host, host.as_str()) {
            (Some(h), _) => h.clone(),
            (None, "") => "127.0.0.1".to_owned(),
            (None, h) => h.to_owned(),
        };
        let mut servers = Vec::with_capacity(lanes.len());
        let mut endpoints = Vec::with_capacity(lanes.len());
        for lane in lanes {
            let options = ServerOptions {
                max_message_size: o.max_message_size,
                allocator: o.allocator,
                connection_threads: lane.max_threads() as usize,
                batch_oneway_readers: false,
                ..ServerOptions::default()
            };
            let spec = ListenerSpec::giop(Endpoint::Iiop {
                host: host.clone(),
                port: 0,
            });
            let lane_handler = server::LaneHandler::new(handler.clone(), lane.lane_priority);
            // On failure the servers started so far stop as they drop.
            let server = Server::bind(
                &[spec],
                Strategy::ThreadPerConnection,
                lane_handler,
                options,
            )?;
            if let Some(Endpoint::Iiop { port, .. }) =
                server.endpoints().first().map(|l| &l.endpoint)
            {
                endpoints.push(crate::rt::LaneEndpoint {
                    priority: lane.lane_priority,
                    host: published.clone(),
                    port: *port,
                });
            }
            servers.push(server);
        }
        Ok((servers, endpoints))
    }

    /// Whether `(host, port)` is one of this ORB's GIOP or GIOP-lite listeners.
    pub(crate) fn is_own_address(shared: &OrbShared, host: &str, port: u16) -> bool {
        match shared.server.get() {
            Some(Ok(s)) => s
                .iiop
                .iter()
                .chain(&s.lite)
                .any(|(h, p)| *p == port && h == host),
            _ => false,
        }
    }

    /// Serves requests until [`Orb::shutdown`] (`ORB::run`). Requests are served by the
    /// server's own threads; this waits for the shutdown, and returns only once it has
    /// completed (CORBA 3.0 §4.2.3.3): listeners closed and every request under way
    /// answered, even when the shutdown was asked for without waiting (as a servant must,
    /// from inside an upcall).
    pub fn run(&self) -> Result<(), OrbError> {
        self.server()?;
        {
            let mut down = self.shared.shutdown.lock();
            while !*down {
                self.shared.shutdown_cv.wait(&mut down);
            }
        }
        self.complete_shutdown();
        Ok(())
    }

    /// [`Orb::run`] until the process gets SIGINT or SIGTERM, then a clean shutdown: the
    /// listeners closed, requests under way answered, the server's threads joined. Returns
    /// the signal that ended it (`None` when [`Orb::shutdown`] did), so that a daemon's
    /// `main` can return normally and run its destructors (flushing logs, closing files)
    /// instead of dying mid-write. Same as `orb.watch_signals()?.run()`; a program that
    /// announces it is ready should watch first and announce then (see
    /// [`Orb::watch_signals`]).
    pub fn run_until_signal(&self) -> Result<Option<i32>, OrbError> {
        self.watch_signals()?.run()
    }

    /// From now on, SIGINT and SIGTERM shut this ORB down cleanly instead of killing the
    /// process; [`SignalWatch::run`] serves until then. Watch before telling the world the
    /// server is up (a "listening on" line, a PID file): a signal sent right after would
    /// otherwise find the default action, and kill the process mid-start. While watched,
    /// those two signals no longer kill the process; afterwards their handlers stay
    /// registered but unused (`signal-hook` cannot restore the default action safely), so a
    /// program that wants to be killable by them again should exit.
    pub fn watch_signals(&self) -> Result<SignalWatch, OrbError> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals =
            signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).map_err(signal_error)?;
        let handle = signals.handle();
        let orb = self.clone();
        let watcher = std::thread::Builder::new()
            .name("orb-signals".into())
            .spawn(move || {
                let got = signals.forever().next();
                if let Some(sig) = got {
                    tracing::info!(signal = sig, "signal received: shutting down");
                    orb.shutdown(false);
                }
                got
            })
            .map_err(signal_error)?;
        Ok(SignalWatch {
            orb: self.clone(),
            handle,
            watcher: Some(watcher),
        })
    }

    /// `work_pending`/`perform_work`: the server's threads do the work, so there is never
    /// work for the caller's thread; returns whether the ORB still runs.
    pub fn perform_work(&self) -> bool {
        !self.shared.is_shut_down()
    }

    /// Stops serving: closes the listeners and connections (waiting for requests under way
    /// when `wait`) and wakes [`Orb::run`]. Invocations made afterwards still work as a
    /// client.
    pub fn shutdown(&self, wait: bool) {
        {
            let mut down = self.shared.shutdown.lock();
            *down = true;
            self.shared.shutdown_cv.notify_all();
        }
        // Oneways this ORB made are written before its connections close.
        if let Some(b) = &self.shared.oneways {
            b.stop();
        }
        if let Some(Ok(state)) = self.shared.server.get() {
            state.handler.close_all();
            state.server.shutdown(false);
            for l in &state.lane_servers {
                l.shutdown(false);
            }
            state.handler.stop_lanes();
        }
        self.shared.cache.clear();
        if wait {
            self.complete_shutdown();
        }
    }

    /// Waits for the server's threads (all but the caller's own, if it is one of them), once.
    fn complete_shutdown(&self) {
        let mut complete = if self.is_server_thread() {
            // Another thread completing the shutdown may be joining this one: waiting for it
            // would deadlock, and a server thread cannot see the end of the shutdown anyway.
            match self.shared.shutdown_complete.try_lock() {
                Some(c) => c,
                None => return,
            }
        } else {
            self.shared.shutdown_complete.lock()
        };
        if *complete {
            return;
        }
        if let Some(Ok(state)) = self.shared.server.get() {
            state.server.shutdown(true);
            for l in &state.lane_servers {
                l.shutdown(true);
            }
            state.handler.join_lanes();
        }
        *complete = true;
    }

    /// Whether the calling thread is one of this ORB's server threads.
    pub fn is_server_thread(&self) -> bool {
        matches!(self.shared.server.get(), Some(Ok(s))
            if s.server.is_server_thread()
                || s.lane_servers.iter().any(Server::is_server_thread)
                || s.handler.is_lane_thread())
    }

    /// The ORB a reference without one of its own uses: the server thread's ORB, else the
    /// first live ORB of the process.
    pub(crate) fn current() -> Option<Arc<OrbShared>> {
        if let Some(orb) = THREAD_ORB.with(|t| t.borrow().current.as_ref().and_then(Weak::upgrade))
        {
            return Some(orb);
        }
        ORBS.read().iter().find_map(Weak::upgrade)
    }

    /// The ORB of a reference: its own, or [`Orb::current`] for a reference made without one.
    /// A reference whose own ORB is gone stays with it (BAD_INV_ORDER): quietly calling through
    /// another ORB would use that ORB's connections, options and collocation table.
    pub(crate) fn of(obj: &ObjectRef) -> Result<Arc<OrbShared>, SystemException> {
        let orb = match obj.inner().and_then(|r| r.orb.as_ref()) {
            Some(own) => own.upgrade(),
            None => Orb::current(),
        };
        orb.ok_or(SystemException::new(
            SystemExceptionKind::BAD_INV_ORDER,
            minor::BAD_INV_ORDER_ORB_HAS_SHUTDOWN,
            CompletionStatus::No,
        ))
    }
}

/// Sends the message `w` writes in fragments when the ORB was asked to (`-ORBfragmentSize`).
/// GIOP 1.0 and GIOP-lite cannot fragment: their messages go whole, which every receiver
/// takes.
pub(crate) fn fragment_if_configured(
    w: &mut crate::giop::MessageWriter,
    fragment_size: Option<usize>,
) {
    if let Some(n) = fragment_size {
        let _ = w.fragment(n);
    }
}

/// What names this machine in UIOP profiles: a socket path is only meaningful on the host
/// that has it. The kernel's host name (Linux), else `localhost`.
pub(crate) fn local_host_id() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_owned())
    })
}

/// What says that a SHMIOP listener is on this very host: the kernel's boot id, different
/// for every host and every boot (a host name may repeat across machines). `None` where the
/// kernel does not tell it: then SHMIOP is neither advertised nor used.
pub(crate) fn local_boot_id() -> Option<&'static str> {
    static BOOT: OnceLock<Option<String>> = OnceLock::new();
    BOOT.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
    })
    .as_deref()
}

fn shmiop_component(host_id: &str, path: &str) -> Result<TaggedComponent, OrbError> {
    let mut enc = crate::cdr::Encoder::new(ByteOrder::NATIVE);
    enc.write_octet(ByteOrder::NATIVE.flag());
    enc.write_string(host_id).map_err(SystemException::from)?;
    enc.write_string(path).map_err(SystemException::from)?;
    Ok(TaggedComponent {
        tag: TAG_RTORB_SHMIOP,
        data: enc.into_vec(),
    })
}

/// The SHMIOP listener an IIOP profile advertises, if its host is this one: its socket path.
pub(crate) fn shmiop_path(profile: &IiopProfile) -> Option<String> {
    let c = profile.component(TAG_RTORB_SHMIOP)?;
    let order = ByteOrder::from_flag(*c.data.first()? & 1);
    let mut dec = crate::cdr::Decoder::new_at(&c.data, 1, order);
    let host = dec.read_string().ok()?;
    let path = dec.read_string().ok()?.into_owned();
    (Some(host.as_ref()) == local_boot_id() && !path.is_empty()).then_some(path)
}

fn lite_component(addresses: &[(String, u16)]) -> Result<TaggedComponent, OrbError> {
    let mut enc = crate::cdr::Encoder::new(ByteOrder::NATIVE);
    enc.write_encapsulation(|e| {
        e.write_length(addresses.len())?;
        for (host, port) in addresses {
            e.write_string(host)?;
            e.write_ushort(*port);
        }
        Ok(())
    })
    .map_err(SystemException::from)?;
    let bytes = enc.into_vec();
    // The component data is the encapsulation's octets, without the sequence length.
    Ok(TaggedComponent {
        tag: TAG_RTORB_LITE,
        data: bytes[4..].to_vec(),
    })
}

/// Whether the calling thread is serving a request (of any ORB of the process): between a
/// server thread's [`CurrentGuard::enter`] and the guard's drop.
pub(crate) fn in_upcall() -> bool {
    THREAD_ORB.with(|t| t.borrow().current.is_some())
}

thread_local! {
    /// Set by [`use_idle_connections`].
    static IDLE_CONNECTIONS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Makes the calling thread's twoway calls go, as calls made while serving a request do, on
/// a connection with nothing else in the server's hands instead of the endpoint's shared
/// one. A server runs one connection's requests in order, so on the shared connection a
/// call waits behind every other call of the process to that server; a thread that calls
/// peers on behalf of others (an event channel's delivery thread, pushing to a consumer
/// that may take its time) must not hold up, or be held up by, the calls of its siblings.
/// The cost is a connection per such call under way.
pub fn use_idle_connections(on: bool) {
    IDLE_CONNECTIONS.with(|c| c.set(on));
}

/// Whether the calling thread's calls go on idle connections (see [`use_idle_connections`]).
pub(crate) fn wants_idle_connection() -> bool {
    in_upcall() || IDLE_CONNECTIONS.with(std::cell::Cell::get)
}

/// Sets the thread's current ORB while a server thread dispatches, so references the
/// request carries bind to the ORB that received them.
pub(crate) struct CurrentGuard {
    current: Option<Weak<OrbShared>>,
    decoding: Option<Weak<OrbShared>>,
}

impl CurrentGuard {
    pub(crate) fn enter(orb: &Weak<OrbShared>) -> CurrentGuard {
        let this = |w: Option<Weak<OrbShared>>| {
            w.filter(|w| Weak::ptr_eq(w, orb))
                .unwrap_or_else(|| orb.clone())
        };
        THREAD_ORB.with(|t| {
            let mut t = t.borrow_mut();
            let (current, decoding) = std::mem::take(&mut t.spare);
            CurrentGuard {
                current: t.current.replace(this(current)),
                decoding: t.decoding.replace(this(decoding)),
            }
        })
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        let (previous_current, previous_decoding) = (self.current.take(), self.decoding.take());
        // Whatever the spare held before is dropped after the borrow ends.
        let _replaced = THREAD_ORB.with(|t| {
            let mut t = t.borrow_mut();
            let current = std::mem::replace(&mut t.current, previous_current);
            let decoding = std::mem::replace(&mut t.decoding, previous_decoding);
            std::mem::replace(&mut t.spare, (current, decoding))
        });
    }
}

impl std::fmt::Debug for Orb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orb")
            .field("instance", &self.shared.poas.instance_id())
            .finish()
    }
}

#[cfg(test)]
mod current_guard_tests {
    use super::*;

    fn current_is(orb: Option<&Orb>) -> bool {
        let now = THREAD_ORB.with(|t| t.borrow().current.clone());
        let decoding = THREAD_ORB.with(|t| t.borrow().decoding.clone());
        let is = |w: &Option<Weak<OrbShared>>| match (w, orb) {
            (None, None) => true,
            (Some(w), Some(o)) => std::ptr::eq(w.as_ptr(), Arc::as_ptr(&o.shared)),
            _ => false,
        };
        is(&now) && is(&decoding)
    }

    /// The guard's handles are reused from one request to the next; what the thread sees
    /// must not change: the ORB inside, nothing (or what was there) outside, whichever ORB
    /// comes next, nested or not.
    #[test]
    fn each_guard_sets_its_orb_and_restores_what_was_there() {
        let (a, b) = (
            Orb::init(OrbOptions::default()).unwrap(),
            Orb::init(OrbOptions::default()).unwrap(),
        );
        let (wa, wb) = (Arc::downgrade(&a.shared), Arc::downgrade(&b.shared));
        assert!(current_is(None) && !in_upcall());
        for orb in [(&a, &wa), (&a, &wa), (&b, &wb), (&a, &wa)] {
            let guard = CurrentGuard::enter(orb.1);
            assert!(current_is(Some(orb.0)) && in_upcall());
            drop(guard);
            assert!(current_is(None) && !in_upcall());
        }
        // Nested: the inner one's end restores the outer's ORB.
        let outer = CurrentGuard::enter(&wa);
        let inner = CurrentGuard::enter(&wb);
        assert!(current_is(Some(&b)));
        drop(inner);
        assert!(current_is(Some(&a)));
        let inner = CurrentGuard::enter(&wa);
        assert!(current_is(Some(&a)));
        drop(inner);
        assert!(current_is(Some(&a)));
        drop(outer);
        assert!(current_is(None));
        // A reply decoded during the upcall (another ORB's) is forgotten at its end.
        let guard = CurrentGuard::enter(&wa);
        decoding_reply_of(&b.shared);
        drop(guard);
        assert!(current_is(None));
        // The weak handles kept for the next request keep no ORB alive.
        drop(a);
        assert!(wa.upgrade().is_none());
    }
}
