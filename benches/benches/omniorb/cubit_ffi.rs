//! omniORB's side of the cubit experiment: safe handles on `benches/omniorb/cubit.cc`, built
//! and linked by `benches/build.rs`. Shared (by `#[path]`) by the `cubit` bench and the
//! `cubit_latency` tool; with `omniorb/mod.rs` (the `wire` bench's) the only `unsafe` code of
//! the benches package, whose library is `forbid(unsafe_code)`.
//!
//! - [`Orb`]: this process's omniORB ORB, on 127.0.0.1 only, with a cubit servant: its IOR and
//!   object key. omniORB has one ORB per process, so there is one `Orb` per process, and the
//!   clients are made by it.
//! - [`Client`]: an omniORB object reference from a stringified IOR. To omniORB's server
//!   process it calls over TCP loopback; to this process's own servant omniORB calls
//!   collocated ([`Client::served_here`] tells which).
//! - [`OmniCase`]: a [`Case`] whose calls are made by a loop in C++, one FFI call per batch, so
//!   crossing into C++ costs nothing per call; per-call times are taken in C++ with the clock
//!   Rust's `Instant` reads (`CLOCK_MONOTONIC`).
//! - [`Env`]: the server processes (omniORB's, and rtorb's reactive, pool and
//!   thread-per-connection servers) and every case by name ([`LATENCY_CASES`],
//!   [`COLLOCATION_CASES`], [`ONEWAY_CASES`]), rtorb's and omniORB's alike.

use orb::CollocationStrategy;
use rtorb_benches::cubit::{
    client_orb, collocated, cube, cube_many, cubit_ref, iiop_key, ping_batch, Case, CubitRef, Op,
    OrbCase, PlainRust, RawTcp, RawTcpOneways, ServerKind, ServerProcess, Transport, MANY, X,
    X_CUBED,
};
use std::ffi::{c_char, c_void, CStr, CString};
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

extern "C" {
    fn rtorb_cubit_last_error() -> *const c_char;
    fn rtorb_cubit_server_start(port: u16) -> *mut c_void;
    fn rtorb_cubit_server_ior(server: *mut c_void) -> *const c_char;
    fn rtorb_cubit_server_key(server: *mut c_void, len: *mut usize) -> *const u8;
    fn rtorb_cubit_server_stop(server: *mut c_void);
    fn rtorb_cubit_client_new(server: *mut c_void, ior: *const c_char) -> *mut c_void;
    fn rtorb_cubit_client_free(client: *mut c_void);
    fn rtorb_cubit_cube_long(client: *mut c_void, x: i32, out: *mut i32) -> i32;
    fn rtorb_cubit_cube_seq(
        client: *mut c_void,
        values: *const i32,
        len: usize,
        out: *mut i32,
    ) -> i32;
    fn rtorb_cubit_cube_struct(
        client: *mut c_void,
        o: u8,
        l: i32,
        s: i16,
        o_out: *mut u8,
        l_out: *mut i32,
        s_out: *mut i16,
    ) -> i32;
    fn rtorb_cubit_served_here(client: *mut c_void, same_thread: *mut i32) -> i32;
    fn rtorb_cubit_cube_struct_loop(
        client: *mut c_void,
        o: u8,
        l: i32,
        s: i16,
        iters: u64,
        ns: *mut u64,
        checksum: *mut i64,
    ) -> i32;
    fn rtorb_cubit_ping_loop(client: *mut c_void, iters: u64, x: i32, out: *mut i32) -> i32;
    fn rtorb_cubit_cube_long_loop(
        client: *mut c_void,
        x: i32,
        iters: u64,
        ns: *mut u64,
        checksum: *mut i64,
    ) -> i32;
    fn rtorb_cubit_cube_seq_loop(
        client: *mut c_void,
        values: *const i32,
        len: usize,
        iters: u64,
        ns: *mut u64,
        checksum: *mut i64,
    ) -> i32;
}

/// What the last failed C++ call on this thread reported.
fn last_error() -> String {
    // SAFETY: the C++ returns the `c_str()` of a thread-local `std::string`, NUL-terminated
    // and unchanged until the next failing call on this thread; it is copied out at once.
    unsafe { CStr::from_ptr(rtorb_cubit_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// Panics with omniORB's description of the failure if `rc` is not 0.
fn check_rc(rc: i32, what: &str) {
    assert!(rc == 0, "omniORB {what} failed: {}", last_error());
}

/// Set once this process has started its ORB: omniORB's is a singleton, initialised once.
static STARTED: AtomicBool = AtomicBool::new(false);

/// This process's omniORB ORB with a cubit servant active in its root POA; destroyed on drop.
/// Not `Send` (a raw pointer): created, used and dropped on one thread.
pub struct Orb {
    ptr: NonNull<c_void>,
    ior: String,
    key: Vec<u8>,
}

impl Orb {
    /// Initialises the ORB listening on 127.0.0.1:`port` (0: a free port). Once per process.
    pub fn start(port: u16) -> Orb {
        assert!(
            !STARTED.swap(true, Ordering::SeqCst),
            "omniORB's ORB is started once per process"
        );
        // SAFETY: no pointer is passed; the C++ catches every exception and returns null on
        // failure.
        let ptr = unsafe { rtorb_cubit_server_start(port) };
        let ptr = NonNull::new(ptr)
            .unwrap_or_else(|| panic!("starting omniORB's cubit server: {}", last_error()));
        // SAFETY: `ptr` is a live server; the IOR string and the key it points to live as long
        // as the server and are copied before anything else is called.
        let (ior, key) = unsafe {
            let ior = CStr::from_ptr(rtorb_cubit_server_ior(ptr.as_ptr()))
                .to_str()
                .expect("a stringified IOR is ASCII")
                .to_owned();
            let mut len = 0;
            let key = rtorb_cubit_server_key(ptr.as_ptr(), &mut len);
            (ior, std::slice::from_raw_parts(key, len).to_vec())
        };
        Orb { ptr, ior, key }
    }

    /// The servant's stringified IOR.
    pub fn ior(&self) -> &str {
        &self.ior
    }

    /// The servant's object key, as omniORB reads it from its own IOR.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// An object reference to the cubit at `ior`, made by this ORB.
    pub fn client(&self, ior: &str) -> Client<'_> {
        let ior = CString::new(ior).expect("an IOR has no NUL");
        // SAFETY: `self.ptr` is a live server; `ior` is a NUL-terminated string the C++ only
        // reads during the call; a null result is handled below.
        let ptr = unsafe { rtorb_cubit_client_new(self.ptr.as_ptr(), ior.as_ptr()) };
        let ptr = NonNull::new(ptr)
            .unwrap_or_else(|| panic!("omniORB string_to_object: {}", last_error()));
        Client {
            ptr,
            _orb: PhantomData,
        }
    }
}

impl Drop for Orb {
    fn drop(&mut self) {
        // SAFETY: `self.ptr` came from `rtorb_cubit_server_start` and is stopped once, here;
        // every `Client` borrows the `Orb`, so all of them are already freed.
        unsafe { rtorb_cubit_server_stop(self.ptr.as_ptr()) }
    }
}

/// An omniORB object reference to a cubit; released on drop, before its [`Orb`].
pub struct Client<'orb> {
    ptr: NonNull<c_void>,
    _orb: PhantomData<&'orb Orb>,
}

impl Client<'_> {
    /// Makes one `cube_octet` call and says whether the servant ran on this thread: true only
    /// when omniORB called it collocated.
    pub fn served_here(&self) -> bool {
        let mut same = 0;
        // SAFETY: `self.ptr` is a live client; `same` is a valid `i32` to write.
        let rc = unsafe { rtorb_cubit_served_here(self.ptr.as_ptr(), &mut same) };
        check_rc(rc, "cube_octet");
        same != 0
    }

    /// A case calling `op` through this reference.
    pub fn case(&self, op: Op) -> OmniCase<'_> {
        OmniCase {
            client: self,
            op,
            args: op.seq_args(),
        }
    }
}

impl Drop for Client<'_> {
    fn drop(&mut self) {
        // SAFETY: `self.ptr` came from `rtorb_cubit_client_new` and is freed once, here, while
        // its `Orb` (borrowed) is still alive.
        unsafe { rtorb_cubit_client_free(self.ptr.as_ptr()) }
    }
}

/// omniORB's client calling `op` in a C++ loop.
pub struct OmniCase<'c> {
    client: &'c Client<'c>,
    op: Op,
    args: Vec<i32>,
}

impl OmniCase<'_> {
    /// `iters` calls; with `ns`, which must hold `iters` slots, each call's nanoseconds.
    /// Returns the checksum of the results.
    fn batch(&mut self, iters: u64, ns: Option<&mut [u64]>) -> i64 {
        let ns = match ns {
            Some(ns) => {
                assert_eq!(ns.len() as u64, iters);
                ns.as_mut_ptr()
            }
            None => std::ptr::null_mut(),
        };
        let mut checksum = 0;
        let client = self.client.ptr.as_ptr();
        // SAFETY: `client` is live (borrowed); `ns` is null or has room for `iters` `u64`s
        // (checked above) and `self.args` for `args.len()` `i32`s, both only for the call;
        // `checksum` is a valid `i64` to write. The C++ catches every exception.
        let rc = unsafe {
            match self.op {
                Op::CubeLong => rtorb_cubit_cube_long_loop(client, X, iters, ns, &mut checksum),
                Op::CubeStruct => rtorb_cubit_cube_struct_loop(
                    client,
                    MANY.o,
                    MANY.l,
                    MANY.s,
                    iters,
                    ns,
                    &mut checksum,
                ),
                Op::CubeSeq(_) => rtorb_cubit_cube_seq_loop(
                    client,
                    self.args.as_ptr(),
                    self.args.len(),
                    iters,
                    ns,
                    &mut checksum,
                ),
            }
        };
        check_rc(rc, self.op.operation());
        checksum
    }
}

impl Case for OmniCase<'_> {
    fn check(&mut self) {
        let client = self.client.ptr.as_ptr();
        match self.op {
            Op::CubeLong => {
                let mut got = 0;
                // SAFETY: `client` is live; `got` is a valid `i32` to write.
                let rc = unsafe { rtorb_cubit_cube_long(client, X, &mut got) };
                check_rc(rc, "cube_long");
                assert_eq!(got, X_CUBED);
            }
            Op::CubeStruct => {
                let (mut o, mut l, mut s) = (0u8, 0i32, 0i16);
                // SAFETY: `client` is live; `o`, `l` and `s` are valid to write.
                let rc = unsafe {
                    rtorb_cubit_cube_struct(client, MANY.o, MANY.l, MANY.s, &mut o, &mut l, &mut s)
                };
                check_rc(rc, "cube_struct");
                let want = cube_many(&MANY);
                assert_eq!((o, l, s), (want.o, want.l, want.s));
            }
            Op::CubeSeq(n) => {
                let mut got = vec![0; n];
                // SAFETY: `client` is live; `self.args` holds `n` values and `got` has room for
                // `n`, the most the C++ writes (it fails on a result of another length).
                let rc = unsafe {
                    rtorb_cubit_cube_seq(client, self.args.as_ptr(), n, got.as_mut_ptr())
                };
                check_rc(rc, "cube_seq");
                let want: Vec<i32> = self.args.iter().copied().map(cube).collect();
                assert_eq!(got, want);
            }
        }
    }

    fn call(&mut self) -> i64 {
        self.batch(1, None)
    }

    fn run(&mut self, iters: u64) -> Duration {
        let start = Instant::now();
        let checksum = self.batch(iters, None);
        let elapsed = start.elapsed();
        std::hint::black_box(checksum);
        elapsed
    }

    fn record(&mut self, ns: &mut [u64]) {
        std::hint::black_box(self.batch(ns.len() as u64, Some(ns)));
    }
}

/// `n` oneway `ping`s through omniORB's client in a C++ loop, then one `cube_long`: the time
/// it takes.
impl Client<'_> {
    pub fn ping_batch(&self, n: u64) -> Duration {
        let mut got = 0;
        let start = Instant::now();
        // SAFETY: `self.ptr` is a live client; `got` is a valid `i32` to write.
        let rc = unsafe { rtorb_cubit_ping_loop(self.ptr.as_ptr(), n, X, &mut got) };
        let elapsed = start.elapsed();
        check_rc(rc, "ping");
        assert_eq!(got, X_CUBED);
        elapsed
    }
}

/// Sends oneways, timed by the batch.
pub trait Oneways {
    /// `n` oneway `ping`s and one twoway call after them on the same connection.
    fn batch(&mut self, n: u64) -> Duration;
}

impl Oneways for RawTcpOneways {
    fn batch(&mut self, n: u64) -> Duration {
        RawTcpOneways::batch(self, n)
    }
}

impl Oneways for &Client<'_> {
    fn batch(&mut self, n: u64) -> Duration {
        self.ping_batch(n)
    }
}

/// rtorb's client ORB sending `ping`s (its connection made before timing starts).
pub struct OrbOneways(OrbCase);

impl Oneways for OrbOneways {
    fn batch(&mut self, n: u64) -> Duration {
        ping_batch(self.0.target(), n)
    }
}

/// The oneway batching bound the `_batched` cases use (`-ORBonewayBatchMicros 100`).
pub const ONEWAY_BATCH: Duration = Duration::from_micros(100);

/// Everything the cases run against: omniORB's server process and rtorb's (reactive,
/// thread-pool, thread-per-connection and adaptive), this process's omniORB ORB and servant, and omniORB's clients to both.
pub struct Env<'a> {
    /// The stringified IOR of omniORB's server process.
    pub omni_ior: &'a str,
    /// The IORs of rtorb's reactive, thread-pool and thread-per-connection server processes.
    pub reactive_ior: &'a str,
    pub pool_ior: &'a str,
    pub tpc_ior: &'a str,
    /// The IOR of rtorb's adaptive server process.
    pub adaptive_ior: &'a str,
    /// The object key of rtorb's servers (both have the same length), which the raw floor's
    /// messages carry so that they are the octets of the `rtorb_giop_*` cases.
    pub key: Vec<u8>,
    /// omniORB's client to its server process (over TCP loopback).
    pub remote: Client<'a>,
    /// omniORB's client to this process's servant (collocated).
    pub local: Client<'a>,
}

/// Starts the server processes and this process's omniORB ORB, checks that the clients reach
/// what they should, and runs `f`. Everything is torn down when `f` returns or panics: the
/// clients, then the ORB, then the server processes (killed by pid if need be).
pub fn with_env<R>(f: impl FnOnce(&Env<'_>) -> R) -> R {
    let omni = ServerProcess::omniorb();
    let reactive = ServerProcess::rtorb(ServerKind::Reactive);
    let pool = ServerProcess::rtorb(ServerKind::POOL);
    let tpc = ServerProcess::rtorb(ServerKind::PerConnection);
    let adaptive = ServerProcess::rtorb(ServerKind::Adaptive);
    let orb = Orb::start(0);
    let env = Env {
        omni_ior: omni.ior(),
        reactive_ior: reactive.ior(),
        pool_ior: pool.ior(),
        tpc_ior: tpc.ior(),
        adaptive_ior: adaptive.ior(),
        key: iiop_key(reactive.ior()),
        remote: orb.client(omni.ior()),
        local: orb.client(orb.ior()),
    };
    assert!(
        !env.remote.served_here(),
        "omniORB's server process is remote"
    );
    assert!(
        env.local.served_here(),
        "omniORB calls its own servant collocated"
    );
    // rtorb reads omniORB's IORs as omniORB does.
    assert_eq!(iiop_key(orb.ior()), orb.key());
    f(&env)
}

/// The names of the cases of the round-trip latency table, in the order they are reported;
/// the first two are the baselines every ratio is taken against.
pub const LATENCY_CASES: &[&str] = &[
    "raw_tcp",
    "omniorb_to_omniorb",
    "rtorb_to_omniorb",
    "rtorb_giop_reactive",
    "rtorb_giop_pool",
    "rtorb_giop_tpc",
    "rtorb_giop_adaptive",
    "rtorb_lite_reactive",
    "rtorb_uiop_reactive",
    "rtorb_shm_tpc",
    "rtorb_shm_reactive",
];

/// The names of the collocated cases, the first two the baselines of the ratios.
pub const COLLOCATION_CASES: &[&str] = &[
    "plain_rust_call",
    "omniorb_collocated",
    "rtorb_direct",
    "rtorb_thru_poa",
];

/// The names of the oneway throughput cases, the first the baseline.
pub const ONEWAY_CASES: &[&str] = &[
    "omniorb_to_omniorb",
    "raw_tcp",
    "rtorb_to_omniorb",
    "rtorb_giop_reactive",
    "rtorb_giop_pool",
    "rtorb_giop_tpc",
    "rtorb_giop_reactive_batched",
    "rtorb_lite_reactive_batched",
    "rtorb_shm_tpc",
];

impl Env<'_> {
    /// An rtorb client ORB's reference to the server at `ior`, reached by `transport`.
    fn rtorb(&self, ior: &str, transport: Transport, op: Op) -> OrbCase {
        let orb = client_orb(transport, None);
        let r = cubit_ref(&orb, ior);
        OrbCase::new(orb, r, op).expecting(transport)
    }

    /// The case `name` (one of [`LATENCY_CASES`] or [`COLLOCATION_CASES`]) calling `op`.
    pub fn case(&self, name: &str, op: Op) -> Box<dyn Case + '_> {
        match name {
            "raw_tcp" => Box::new(RawTcp::new(&self.key, op)),
            "omniorb_to_omniorb" => Box::new(self.remote.case(op)),
            "rtorb_to_omniorb" => Box::new(self.rtorb(self.omni_ior, Transport::Giop, op)),
            "rtorb_giop_reactive" => Box::new(self.rtorb(self.reactive_ior, Transport::Giop, op)),
            "rtorb_giop_pool" => Box::new(self.rtorb(self.pool_ior, Transport::Giop, op)),
            "rtorb_giop_tpc" => Box::new(self.rtorb(self.tpc_ior, Transport::Giop, op)),
            "rtorb_giop_adaptive" => Box::new(self.rtorb(self.adaptive_ior, Transport::Giop, op)),
            "rtorb_lite_reactive" => Box::new(self.rtorb(self.reactive_ior, Transport::Lite, op)),
            "rtorb_uiop_reactive" => Box::new(self.rtorb(self.reactive_ior, Transport::Uiop, op)),
            "rtorb_shm_tpc" => Box::new(self.rtorb(self.tpc_ior, Transport::Shm, op)),
            "rtorb_shm_reactive" => Box::new(self.rtorb(self.reactive_ior, Transport::Shm, op)),
            "plain_rust_call" => Box::new(PlainRust::new(op)),
            "omniorb_collocated" => Box::new(self.local.case(op)),
            "rtorb_direct" => Box::new(collocated_case(CollocationStrategy::Direct, op)),
            "rtorb_thru_poa" => Box::new(collocated_case(CollocationStrategy::ThruPoa, op)),
            _ => panic!("no cubit case named {name}"),
        }
    }

    /// The oneway case `name` (one of [`ONEWAY_CASES`]).
    pub fn oneways(&self, name: &str) -> Box<dyn Oneways + '_> {
        let rtorb = |ior: &str, transport, batch| {
            let orb = client_orb(transport, batch);
            let r = cubit_ref(&orb, ior);
            let mut case = OrbCase::new(orb, r, Op::CubeLong).expecting(transport);
            case.check();
            Box::new(OrbOneways(case))
        };
        match name {
            "omniorb_to_omniorb" => Box::new(&self.remote),
            "raw_tcp" => Box::new(RawTcpOneways::new(&self.key)),
            "rtorb_to_omniorb" => rtorb(self.omni_ior, Transport::Giop, None),
            "rtorb_giop_reactive" => rtorb(self.reactive_ior, Transport::Giop, None),
            "rtorb_giop_pool" => rtorb(self.pool_ior, Transport::Giop, None),
            "rtorb_giop_tpc" => rtorb(self.tpc_ior, Transport::Giop, None),
            "rtorb_shm_tpc" => rtorb(self.tpc_ior, Transport::Shm, None),
            "rtorb_giop_reactive_batched" => {
                rtorb(self.reactive_ior, Transport::Giop, Some(ONEWAY_BATCH))
            }
            "rtorb_lite_reactive_batched" => {
                rtorb(self.reactive_ior, Transport::Lite, Some(ONEWAY_BATCH))
            }
            _ => panic!("no oneway case named {name}"),
        }
    }
}

/// A reference collocated under `strategy`, checked to be called without the transport.
fn collocated_case(strategy: CollocationStrategy, op: Op) -> OrbCase {
    let (orb, r): (_, CubitRef) = collocated(strategy);
    OrbCase::new(orb, r, op)
}
