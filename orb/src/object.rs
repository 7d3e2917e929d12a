//! Object references: `CORBA::Object` as the program holds it.
//!
//! An [`ObjectRef`] is an IOR plus what the ORB learns about it: which ORB it belongs to,
//! where a `LOCATION_FORWARD` sent it, and whether its object lives in this process
//! (collocation). Typed references that `idlc` generates (`EchoRef`) wrap one. A reference
//! decoded from CDR (an argument, a result, an `any`) is not tied to an ORB yet: it uses the
//! ORB of the thread that invokes it (a servant's ORB while dispatching) or else the
//! process's first live ORB.

use crate::buffers::Buffer;
use crate::cdr::value::{ValueHandle, ValueType};
use crate::cdr::{
    ByteOrder, CdrDecode, CdrEncode, CodeSets, DecodeError, Decoder, EncodeError, Encoder,
    GiopVersion, ResultExt,
};
use crate::exception::SystemException;
use crate::iop::Ior;
use crate::runtime::{self, Binding, OrbShared};
use crate::servant::ServantRef;
use parking_lot::Mutex;
use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, LazyLock, Weak};
use std::time::Duration;

/// `CORBA::Object`: a reference to an object, local or remote, or nil. Cloning is cheap
/// (clones share what the ORB learnt, such as a forwarded location).
#[derive(Clone, Default)]
pub struct ObjectRef(Option<Arc<RefInner>>);

pub(crate) struct RefInner {
    pub(crate) ior: Ior,
    /// The ORB that made or resolved the reference, if any.
    pub(crate) orb: Option<Weak<OrbShared>>,
    /// Where requests go now: the IOR's own profile until a `LOCATION_FORWARD` replaces it;
    /// with the connection its calls last took, under the same lock (one per call).
    pub(crate) binding: Mutex<Bound>,
    /// Changed (under `binding`'s lock) whenever `binding` is: a thread's memo of the
    /// binding is good while this is what it was when the memo was taken.
    pub(crate) generation: std::sync::atomic::AtomicU64,
    /// Whether the object is in this process, found out at the first need.
    pub(crate) local: std::sync::OnceLock<Option<runtime::collocation::Local>>,
    /// This reference's own call timeout ([`ObjectRef::with_timeout`]), over the ORB's.
    pub(crate) timeout: Option<Duration>,
}

/// A reference's binding, with the ORB's shared connection its unbanded calls last went on
/// (see [`crate::transport::ConnectionCache::recall`]): a call that finds that connection
/// still usable takes it without asking the ORB's connection cache. The two change
/// together: a new binding (a forward, a rebind after a failure) forgets the connection.
#[derive(Default)]
pub(crate) struct Bound {
    pub(crate) binding: Option<Arc<Binding>>,
    pub(crate) conn: crate::transport::Remembered,
}

impl Bound {
    pub(crate) fn new(binding: Option<Arc<Binding>>) -> Bound {
        Bound {
            binding,
            conn: Default::default(),
        }
    }
}

static NIL_IOR: LazyLock<Ior> = LazyLock::new(Ior::nil);

impl ObjectRef {
    /// The nil reference.
    pub const fn nil() -> ObjectRef {
        ObjectRef(None)
    }

    /// A reference to the object `ior` designates, tied to no ORB yet (a nil IOR gives the
    /// nil reference).
    pub fn from_ior(ior: Ior) -> ObjectRef {
        ObjectRef::with_orb(ior, None)
    }

    pub(crate) fn with_orb(ior: Ior, orb: Option<Weak<OrbShared>>) -> ObjectRef {
        if ior.is_nil() {
            return ObjectRef(None);
        }
        ObjectRef(Some(Arc::new(RefInner {
            ior,
            orb,
            binding: Mutex::new(Bound::default()),
            generation: Default::default(),
            local: std::sync::OnceLock::new(),
            timeout: None,
        })))
    }

    /// A reference to the same object whose twoway calls fail with `TIMEOUT` (completed
    /// MAYBE) when no reply came within `timeout`, whatever the ORB's default
    /// (`-ORBclientCallTimeOutPeriod`, 30 s unless set); `Duration::ZERO` waits for ever.
    /// Like a relative round-trip timeout policy set with `_set_policy_overrides`: `self`
    /// keeps its timeout. Typed references get the same from `Ref::from(obj.with_timeout(..))`
    /// or their own `with_timeout`. For one call only, see [`crate::with_call_timeout`].
    pub fn with_timeout(&self, timeout: Duration) -> ObjectRef {
        let Some(r) = &self.0 else {
            return ObjectRef::nil();
        };
        ObjectRef(Some(Arc::new(RefInner {
            ior: r.ior.clone(),
            orb: r.orb.clone(),
            // Where a forward sent the original is as good for the copy.
            binding: Mutex::new(Bound::new(r.binding.lock().binding.clone())),
            generation: Default::default(),
            local: std::sync::OnceLock::new(),
            timeout: Some(timeout),
        })))
    }

    /// The timeout set by [`ObjectRef::with_timeout`], if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.0.as_ref().and_then(|r| r.timeout)
    }

    /// The transport this reference's requests go on, once its first call chose it:
    /// `"shmiop"` (shared memory), `"uiop"` (Unix socket), `"iiop"` (TCP), or their
    /// GIOP-lite forms (`"iiop-lite"`); `None` before the first call (or for nil). Calls to
    /// an object of this process that the collocation strategy makes directly never bind:
    /// see [`ObjectRef::collocated_servant`].
    pub fn transport(&self) -> Option<&'static str> {
        let b = self.0.as_ref()?.binding.lock().binding.clone()?;
        Some(runtime::invoke::transport_name(&b))
    }

    pub(crate) fn inner(&self) -> Option<&Arc<RefInner>> {
        self.0.as_ref()
    }

    pub fn is_nil(&self) -> bool {
        self.0.is_none()
    }

    /// The IOR (the nil IOR for a nil reference).
    pub fn ior(&self) -> &Ior {
        self.0.as_ref().map_or(&NIL_IOR, |r| &r.ior)
    }

    /// The repository id the IOR announces (empty for nil, and allowed to be empty).
    pub fn type_id(&self) -> &str {
        &self.ior().type_id
    }

    /// The stringified IOR (`IOR:...`), as `ORB::object_to_string` gives it.
    pub fn to_ior_string(&self) -> Result<String, EncodeError> {
        self.ior().to_ior_string()
    }

    /// Two references are the same reference when their IORs are equal (as
    /// `CORBA::Object::_is_equivalent` may answer; different IORs may still designate the
    /// same object).
    pub fn is_equivalent(&self, other: &ObjectRef) -> bool {
        self.ior() == other.ior()
    }

    /// Sends `operation` as a twoway request whose arguments `args` writes, and waits for
    /// the reply. Follows `LOCATION_FORWARD`, reconnects once when a connection broke before
    /// the request could have run, and turns a `SYSTEM_EXCEPTION` reply into `Err`. A nil
    /// reference raises `INV_OBJREF`.
    pub fn invoke(
        &self,
        operation: &str,
        args: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>,
    ) -> Result<Reply, SystemException> {
        runtime::invoke::invoke(self, operation, args)
    }

    /// [`invoke`](Self::invoke) for async code: the request is written at once (a write
    /// blocks only while the connection's socket is full, and connecting to a server not yet
    /// connected to blocks as a blocking call's does), and the reply is awaited without
    /// blocking the thread — on any executor: replies are read by the thread of a caller
    /// reading for its own, else by a reader thread of the connection, started when needed
    /// and woken by its futures. Follows forwards and retries as `invoke` does, within the
    /// same timeouts. Dropping the future gives up the call (its reply is dropped).
    pub async fn invoke_async(
        &self,
        operation: &str,
        args: &(dyn Fn(&mut Encoder) -> Result<(), EncodeError> + Sync),
    ) -> Result<Reply, SystemException> {
        runtime::invoke::invoke_async(self, operation, args).await
    }

    /// Sends `operation` as a oneway request: no reply, and so no exception from the server.
    pub fn invoke_oneway(
        &self,
        operation: &str,
        args: &dyn Fn(&mut Encoder) -> Result<(), EncodeError>,
    ) -> Result<(), SystemException> {
        runtime::invoke::invoke_oneway(self, operation, args)
    }

    /// `_is_a`: whether the object implements the interface `repository_id`. Answered
    /// locally for a collocated object, else by the object (a remote call). Nil is nothing.
    pub fn is_a(&self, repository_id: &str) -> Result<bool, SystemException> {
        if self.is_nil() {
            return Ok(false);
        }
        if let Some(servant) = self.collocated_servant() {
            return Ok(servant.is_a(repository_id));
        }
        let reply = self.invoke("_is_a", &|enc| enc.write_string(repository_id))?;
        reply.normal_result(|dec| dec.read_bool())
    }

    /// `_non_existent`: true when the object is known to be gone (the server answered
    /// `OBJECT_NOT_EXIST`, or `_non_existent` said so). Other failures are errors.
    pub fn non_existent(&self) -> Result<bool, SystemException> {
        if self.is_nil() {
            return Ok(true);
        }
        match self.invoke("_non_existent", &|_| Ok(())) {
            Ok(reply) => reply.normal_result(|dec| dec.read_bool()),
            Err(e) if e.kind == crate::exception::SystemExceptionKind::OBJECT_NOT_EXIST => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// `_interface`: needs an interface repository, which this ORB does not have.
    pub fn interface(&self) -> Result<ObjectRef, SystemException> {
        Err(SystemException::no_implement())
    }

    /// Asks the server where the object is (GIOP LocateRequest), following
    /// `OBJECT_FORWARD`. `Ok(true)` when the object is there, `Ok(false)` when the server
    /// does not know it.
    pub fn locate(&self) -> Result<bool, SystemException> {
        runtime::invoke::locate(self)
    }

    /// The servant behind a reference to an object of this process's ORB, when the ORB's
    /// collocation strategy lets calls bypass the transport (`Direct` or `ThruPoa`).
    pub fn collocated_servant(&self) -> Option<ServantRef> {
        runtime::collocation::servant(self)
    }

    /// Before a collocated call: whether to call the servant directly (`Ok(true)`) or
    /// through the transport after all (`Ok(false)`). Under `ThruPoa`, checks that the POA
    /// manager is active and the object still active (raising what a remote call would
    /// get), and says `false` for an object whose server now declares its priority (its
    /// requests run at that priority, in its lane: not on the caller's thread); under
    /// `Direct`, always `true` (the servant the reference was narrowed to is called, whatever
    /// its POA does since).
    #[inline]
    pub fn check_collocated(&self) -> Result<bool, SystemException> {
        runtime::collocation::check(self)
    }
}

impl PartialEq for ObjectRef {
    fn eq(&self, other: &ObjectRef) -> bool {
        self.is_equivalent(other)
    }
}

impl fmt::Debug for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_nil() {
            return f.write_str("ObjectRef(nil)");
        }
        write!(f, "ObjectRef({:?}", self.type_id())?;
        if let Some(b) = self
            .0
            .as_ref()
            .and_then(|r| r.binding.lock().binding.clone())
        {
            let lite = if b.dialect.is_lite() {
                " (GIOP-lite)"
            } else {
                ""
            };
            write!(f, " at {}{lite}", b.endpoint)?;
        }
        f.write_str(")")
    }
}

impl From<Ior> for ObjectRef {
    fn from(ior: Ior) -> ObjectRef {
        ObjectRef::from_ior(ior)
    }
}

impl CdrEncode for ObjectRef {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        self.ior().encode(enc)
    }
}

impl<'a> CdrDecode<'a> for ObjectRef {
    const MIN_WIRE_SIZE: usize = <Ior as CdrDecode<'a>>::MIN_WIRE_SIZE;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        let orb = crate::runtime::decoding_orb();
        Ior::decode(dec).map(|ior| ObjectRef::with_orb(ior, orb))
    }
}

/// A reference to an abstract interface (CORBA 3 §7.3.3): an object reference or a value,
/// whichever the sender passed (a value type that `supports` the interface, say). On the wire
/// a boolean says which follows: TRUE an object reference, FALSE a value. `Default` is a nil
/// object reference.
#[derive(Clone, Debug, PartialEq)]
pub enum AbstractRef {
    Object(ObjectRef),
    Value(Option<ValueHandle<dyn ValueType>>),
}

impl Default for AbstractRef {
    fn default() -> Self {
        AbstractRef::Object(ObjectRef::default())
    }
}

impl CdrEncode for AbstractRef {
    fn encode(&self, enc: &mut Encoder) -> Result<(), EncodeError> {
        match self {
            AbstractRef::Object(o) => {
                enc.write_bool(true);
                o.encode(enc)
            }
            AbstractRef::Value(v) => {
                enc.write_bool(false);
                v.encode(enc)
            }
        }
    }
}

impl<'a> CdrDecode<'a> for AbstractRef {
    /// The discriminator and a null value.
    const MIN_WIRE_SIZE: usize = 5;

    fn decode(dec: &mut Decoder<'a>) -> Result<Self, DecodeError> {
        Ok(if dec.read_bool().field("is_object")? {
            AbstractRef::Object(ObjectRef::decode(dec)?)
        } else {
            AbstractRef::Value(CdrDecode::decode(dec)?)
        })
    }
}

/// The reply to a twoway request that did not fail: its results, or a user exception.
/// It owns the reply message, in a pooled buffer that goes back to the dropping thread's pool
/// (see [`crate::buffers`]); decoders borrow from it.
pub struct Reply {
    pub(crate) message: Buffer,
    /// Where GIOP 1.1 fragments start in `message` (see [`crate::giop::Joined`]).
    pub(crate) fragment_starts: Vec<u32>,
    pub(crate) body_offset: usize,
    pub(crate) order: ByteOrder,
    pub(crate) version: GiopVersion,
    pub(crate) codesets: CodeSets,
    pub(crate) user_exception: bool,
}

/// What a [`Reply`] carries.
pub enum ReplyOutcome<'a> {
    /// The operation returned: the return value, then `out` and `inout` values in order.
    Normal(Decoder<'a>),
    /// It raised the user exception `id`; `body` is positioned at the repository id, as the
    /// exception's `CdrDecode` expects.
    UserException { id: Cow<'a, str>, body: Decoder<'a> },
}

impl Reply {
    fn decoder(&self) -> Decoder<'_> {
        let mut dec = Decoder::new_at(&self.message, self.body_offset, self.order);
        dec.set_version(self.version)
            .set_codesets(self.codesets)
            .set_fragments(&self.fragment_starts);
        dec
    }

    /// The results or the user exception. A user exception whose id does not decode is
    /// `MARSHAL`, completed YES.
    pub fn outcome(&self) -> Result<ReplyOutcome<'_>, SystemException> {
        let dec = self.decoder();
        if !self.user_exception {
            return Ok(ReplyOutcome::Normal(dec));
        }
        let mut peek = dec.clone();
        let id = crate::codegen::reply_decode(peek.read_string())?;
        Ok(ReplyOutcome::UserException { id, body: dec })
    }

    /// Decodes a normal reply with `f`; a user exception here is `UNKNOWN` (the operation
    /// raises none), results that do not decode `MARSHAL`, both completed YES.
    pub fn normal_result<T>(
        &self,
        f: impl FnOnce(&mut Decoder<'_>) -> Result<T, DecodeError>,
    ) -> Result<T, SystemException> {
        match self.outcome()? {
            ReplyOutcome::Normal(mut dec) => crate::codegen::reply_decode(f(&mut dec)),
            ReplyOutcome::UserException { .. } => Err(crate::codegen::unknown_user_exception()),
        }
    }

    /// The whole reply message.
    pub fn message(&self) -> &[u8] {
        &self.message
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("len", &self.message.len())
            .field("user_exception", &self.user_exception)
            .finish()
    }
}

impl crate::typecode::AnyType for ObjectRef {
    /// `Object`; [`AnyType::accepts`](crate::typecode::AnyType::accepts) a reference to any
    /// interface, as every interface is an `Object` (narrow the result to the one wanted).
    fn type_code() -> crate::typecode::TypeCode {
        static TC: LazyLock<crate::typecode::TypeCode> = LazyLock::new(|| {
            crate::typecode::TypeCode::objref(crate::codegen::OBJECT_REPOSITORY_ID, "Object")
        });
        TC.clone()
    }

    fn accepts(tc: &crate::typecode::TypeCode) -> bool {
        tc.unalias().kind() == crate::typecode::TCKind::ObjRef
    }

    /// The reference, tied to the ORB of this process that serves the object if there is
    /// one, else to the ORB whose reply the thread decodes (as a decoded reference is), else
    /// to none ([`crate::Orb`]'s current one at the first call). An `any` keeps an IOR, not
    /// the ORB it came through.
    fn from_value(
        tc: &crate::typecode::TypeCode,
        value: &crate::typecode::Value,
    ) -> Result<Self, crate::typecode::AnyError> {
        match value {
            crate::typecode::Value::ObjRef(ior) => {
                let orb = runtime::collocation::serving_orb(ior).or_else(runtime::decoding_orb);
                Ok(ObjectRef::with_orb((**ior).clone(), orb))
            }
            _ => Err(crate::typecode::AnyError::WrongType {
                wanted: crate::typecode::describe(tc),
                found: "a value of another shape".to_owned(),
            }),
        }
    }
}
