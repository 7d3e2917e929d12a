//! ORB options: a config struct, filled from `-ORB...` command-line arguments and `ORB...`
//! environment variables the way omniORB reads them (`-ORBInitRef NameService=corbaloc::h:p/
//! NameService`, `-ORBendPoint giop:tcp:127.0.0.1:0`), so the same command lines work for our
//! programs and omniORB's.

use crate::buffers::AllocatorStrategy;
use crate::cdr::GiopVersion;
use crate::giop::Framer;
use crate::rt::{
    NativePriorityPolicy, PriorityBand, PriorityModel, PriorityModelPolicy, ThreadpoolLane,
};
use crate::transport::{AdaptivePolicy, Endpoint, EndpointError, Strategy};
use std::time::Duration;

/// How a reference to an object of this process is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollocationStrategy {
    /// The stub calls the implementation's trait method in the caller's thread.
    Direct,
    /// As `Direct`, after checking what the POA would: its manager active, the object
    /// still active.
    ThruPoa,
    /// Always through the transport, as if the object were remote.
    None,
}

/// Everything an ORB can be configured with.
#[derive(Clone, Debug)]
pub struct OrbOptions {
    /// GIOP listeners (`-ORBendPoint`: `giop:tcp:HOST:PORT`, `giop:unix:PATH`, and
    /// `giop:shm:[PATH]` for shared memory between rtorb processes of one host); default
    /// `giop:tcp:127.0.0.1:0`.
    pub endpoints: Vec<Endpoint>,
    /// GIOP-lite listeners (`-ORBliteEndPoint`), for rtorb clients that enable GIOP-lite.
    pub lite_endpoints: Vec<Endpoint>,
    /// Host name put in IORs instead of the listener's (`-ORBpublishHost`).
    pub publish_host: Option<String>,
    /// The highest GIOP version used, as client and in IORs (`-ORBmaxGIOPVersion 1.1`).
    pub giop_version: GiopVersion,
    /// As a client, use a server's GIOP-lite listener when its IOR offers one
    /// (`-ORBgiopLite 1`).
    pub use_lite: bool,
    /// As a client, reach a server on this host through its Unix socket when its IOR has a
    /// UIOP profile (`-ORBpreferUnix 0|1`, default 1).
    pub prefer_unix: bool,
    /// As a client, reach a server on this host through shared memory (SHMIOP) when its IOR
    /// advertises a SHMIOP listener on this host (`-ORBshmiop 0|1`, default 1); 0 forbids it.
    pub use_shmiop: bool,
    /// The size of each of the two rings of a SHMIOP connection this ORB makes as a client
    /// (`-ORBshmRingSize N`: a power of two from 4096 to 268435456, default 1 MiB). Bigger
    /// messages go through in parts; a connection that has carried traffic holds twice this
    /// in shared memory.
    pub shm_ring_size: usize,
    /// Server concurrency (`-ORBthreadStrategy reactive|pool|adaptive|connection|lanes`,
    /// `-ORBthreadPoolSize N`: a pool's threads, or the most an adaptive server runs); by
    /// default a thread per connection, as omniORB's. An adaptive server is tuned with
    /// `-ORBadaptivePromoteMicros N` and `-ORBadaptiveRetireMillis N`, given after
    /// `-ORBthreadStrategy adaptive` (see [`AdaptivePolicy`]). With lanes, the server's own
    /// address is read by a thread per connection that hands requests to
    /// [`OrbOptions::lanes`], whose own endpoints' connections their threads read.
    pub strategy: Strategy,
    /// RT-CORBA thread-pool lanes (`-ORBthreadStrategy lanes`, `-ORBlanes 0:2,20000:1+2`,
    /// `+N` a lane's dynamic threads): each lane's threads serve the requests of its priority
    /// band (see [`crate::rt`]).
    /// `None`: requests run on the strategy's threads.
    pub lanes: Option<Vec<ThreadpoolLane>>,
    /// With lanes, whether each lane also listens on an endpoint of its own, advertised to
    /// rtorb clients, whose connections its threads read and serve with no hand-off
    /// (`-ORBlaneEndpoints 0|1`, default 1; see [`crate::rt::lane_endpoints`]).
    pub lane_endpoints: bool,
    /// The server's RT-CORBA priority model and priority (`-ORBpriorityModel client|server`,
    /// `-ORBserverPriority N`): requests run at the client's propagated priority, or at the
    /// server's; the latter is also the priority of requests that carry none.
    pub priority_model: PriorityModelPolicy,
    /// Priority bands of client connections (`-ORBpriorityBands 0-9999,10000-32767`): a call
    /// made at a priority in a band goes on that band's connection to its server. Empty:
    /// one shared connection whatever the priority.
    pub priority_bands: Vec<PriorityBand>,
    /// How CORBA priorities map onto native thread priorities, for the whole process
    /// (`-ORBpriorityMapping off|nice|fifo|rr`, default `fifo` falling back to `nice`).
    pub priority_mapping: NativePriorityPolicy,
    /// `-ORBcollocation direct|thru-poa|none`.
    pub collocation: CollocationStrategy,
    /// `-ORBbufferAllocator tss|global`.
    pub allocator: AllocatorStrategy,
    /// `-ORBInitRef NAME=URL`, in order.
    pub init_refs: Vec<(String, String)>,
    /// `-ORBDefaultInitRef URL`: `resolve_initial_references(n)` tries `URL/n`.
    pub default_init_ref: Option<String>,
    /// Round-trip timeout of a twoway call (`-ORBclientCallTimeOutPeriod MS`, 0 = none):
    /// by default [`OrbOptions::DEFAULT_CALL_TIMEOUT`], so that a server that accepts and
    /// never answers costs a caller `TIMEOUT` rather than a hung thread. A reference can
    /// have its own ([`crate::ObjectRef::with_timeout`]), a call too
    /// ([`crate::with_call_timeout`]).
    pub request_timeout: Option<Duration>,
    /// How long a connection attempt may take (`-ORBclientConnectTimeOutPeriod MS`), by
    /// default [`OrbOptions::DEFAULT_CONNECT_TIMEOUT`].
    pub connect_timeout: Duration,
    /// The largest message sent or accepted (`-ORBgiopMaxMsgSize`), default 64 MiB.
    pub max_message_size: usize,
    /// Oneways are buffered per connection and written within this long of the first
    /// (`-ORBonewayBatchMicros N`, 0 = each written at once, the default): `SYNC_NONE`
    /// semantics, in order, flushed before a twoway on the same connection and at shutdown.
    pub oneway_batch: Option<Duration>,
    /// Thread per connection: a connection thread that has read only oneways for a few reads
    /// waits for the next under `SCHED_BATCH`, so that its client's sends do not each wake it
    /// into a preemption of the client on a shared core (`-ORBbatchOnewayReaders 0|1`,
    /// default 1; never with lanes; see `transport::ServerOptions::batch_oneway_readers`).
    pub batch_oneway_readers: bool,
    /// Requests and replies longer than this many octets are sent as GIOP 1.1/1.2 fragments
    /// of at most this size, headers included (`-ORBfragmentSize N`, at least 32; 0 = whole
    /// messages, the default). Receiving fragments needs no option.
    pub fragment_size: Option<usize>,
    /// omniORB's `-ORBtraceLevel N` (default 1): how much the ORB's `tracing` output is
    /// meant to show, as [`OrbOptions::trace_filter`] maps it for a program's subscriber
    /// (the library installs none).
    pub trace_level: u32,
    /// `-ORBtraceInvocations 1`: an `INFO` event (target `orb::invocations`) per twoway
    /// call made, with its operation and outcome.
    pub trace_invocations: bool,
}

impl Default for OrbOptions {
    fn default() -> OrbOptions {
        OrbOptions {
            endpoints: vec![Endpoint::Iiop {
                host: "127.0.0.1".into(),
                port: 0,
            }],
            lite_endpoints: Vec::new(),
            publish_host: None,
            giop_version: GiopVersion::V1_2,
            use_lite: false,
            prefer_unix: true,
            use_shmiop: true,
            shm_ring_size: shmring::DEFAULT_CAPACITY,
            // Chosen by measurement (README, "Server strategies"): the only strategy whose
            // round trip matches omniORB's both with client and server on one core and
            // apart (a reactor thread waits in `epoll_wait` and then reads, one system call
            // more per request than a thread blocked in `read`).
            strategy: Strategy::ThreadPerConnection,
            lanes: None,
            lane_endpoints: true,
            priority_model: PriorityModelPolicy {
                model: PriorityModel::ClientPropagated,
                server_priority: 0,
            },
            priority_bands: Vec::new(),
            priority_mapping: NativePriorityPolicy::Fifo,
            collocation: CollocationStrategy::ThruPoa,
            allocator: AllocatorStrategy::ThreadLocal,
            init_refs: Vec::new(),
            default_init_ref: None,
            request_timeout: Some(OrbOptions::DEFAULT_CALL_TIMEOUT),
            connect_timeout: OrbOptions::DEFAULT_CONNECT_TIMEOUT,
            max_message_size: Framer::DEFAULT_MAX_MESSAGE_SIZE,
            oneway_batch: None,
            batch_oneway_readers: true,
            fragment_size: None,
            trace_level: 1,
            trace_invocations: false,
        }
    }
}

/// An option that is not understood, or whose value is not.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionsError {
    #[error("unknown ORB option -ORB{0}; the options this ORB knows are {list}", list = supported_options())]
    Unknown(String),
    #[error("ORB option -ORB{0} needs a value")]
    MissingValue(String),
    #[error("ORB option -ORB{option}: {value:?} is not {expected}")]
    BadValue {
        option: String,
        value: String,
        expected: &'static str,
    },
    /// A structured value (lanes, bands) that does not read, with what is wrong in it.
    #[error("ORB option -ORB{option}: {value:?}: {reason}")]
    Invalid {
        option: String,
        value: String,
        reason: String,
    },
    #[error("ORB option -ORBendPoint: {0}")]
    Endpoint(#[from] EndpointError),
}

impl OrbOptions {
    /// The default round-trip timeout of a twoway call: long enough for any call a server
    /// answers at all, short enough that a hung server is noticed.
    pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default connect timeout.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

    /// The most verbose `tracing` level the options ask for, for a program to give its
    /// subscriber: omniORB's trace levels mapped onto tracing's — 0 errors only, 1 warnings
    /// (the default), 5 connections opened and closed and listeners (INFO), 10 a span per
    /// request on client and server (DEBUG), 25 and up each message (TRACE).
    /// `-ORBtraceInvocations 1` raises it to INFO at least.
    pub fn trace_filter(&self) -> tracing::level_filters::LevelFilter {
        use tracing::level_filters::LevelFilter;
        let level = match self.trace_level {
            0 => LevelFilter::ERROR,
            1..=4 => LevelFilter::WARN,
            5..=9 => LevelFilter::INFO,
            10..=24 => LevelFilter::DEBUG,
            _ => LevelFilter::TRACE,
        };
        if self.trace_invocations {
            level.max(LevelFilter::INFO)
        } else {
            level
        }
    }

    /// Defaults, then the `ORB<option>` environment variables omniORB also reads
    /// (`ORBInitRef`, `ORBendPoint`, ...).
    pub fn from_env() -> Result<OrbOptions, OptionsError> {
        let mut o = OrbOptions::default();
        let mut endpoints_set = false;
        for (k, v) in std::env::vars() {
            if let Some(name) = k.strip_prefix("ORB") {
                if OPTION_NAMES.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                    o.apply(name, &v, &mut endpoints_set)?;
                }
            }
        }
        Ok(o)
    }

    /// Takes the `-ORB<option> <value>` pairs out of `args` and applies them; returns the
    /// other arguments, in order. Names are matched without regard to case, as omniORB does.
    pub fn parse_args(
        &mut self,
        args: impl IntoIterator<Item = String>,
    ) -> Result<Vec<String>, OptionsError> {
        let mut rest = Vec::new();
        let mut endpoints_set = false;
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            let Some(name) = arg.strip_prefix("-ORB") else {
                rest.push(arg);
                continue;
            };
            let (name, value) = match name.split_once('=') {
                // `-ORBInitRef=...` is not omniORB's form, but `NAME=URL` values are: only
                // split when the part before `=` is an option name.
                Some((n, v)) if OPTION_NAMES.iter().any(|o| o.eq_ignore_ascii_case(n)) => {
                    (n.to_owned(), v.to_owned())
                }
                _ => {
                    let v = it
                        .next()
                        .ok_or_else(|| OptionsError::MissingValue(name.to_owned()))?;
                    (name.to_owned(), v)
                }
            };
            self.apply(&name, &value, &mut endpoints_set)?;
        }
        Ok(rest)
    }

    fn apply(
        &mut self,
        name: &str,
        value: &str,
        endpoints_set: &mut bool,
    ) -> Result<(), OptionsError> {
        let bad = |expected| OptionsError::BadValue {
            option: name.to_owned(),
            value: value.to_owned(),
            expected,
        };
        let invalid = |reason: String| OptionsError::Invalid {
            option: name.to_owned(),
            value: value.to_owned(),
            reason,
        };
        let ms = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| bad("a number of milliseconds"))
        };
        match name.to_ascii_lowercase().as_str() {
            "endpoint" => {
                if !*endpoints_set {
                    self.endpoints.clear();
                    *endpoints_set = true;
                }
                self.endpoints.push(parse_endpoint(value)?);
            }
            "liteendpoint" => self.lite_endpoints.push(parse_endpoint(value)?),
            "publishhost" => self.publish_host = Some(value.to_owned()),
            "maxgiopversion" => {
                self.giop_version = match value {
                    "1.0" => GiopVersion::V1_0,
                    "1.1" => GiopVersion::V1_1,
                    "1.2" => GiopVersion::V1_2,
                    _ => return Err(bad("1.0, 1.1 or 1.2")),
                }
            }
            "gioplite" => self.use_lite = parse_bool(value).ok_or_else(|| bad("0 or 1"))?,
            "preferunix" => self.prefer_unix = parse_bool(value).ok_or_else(|| bad("0 or 1"))?,
            "shmiop" => self.use_shmiop = parse_bool(value).ok_or_else(|| bad("0 or 1"))?,
            "shmringsize" => {
                self.shm_ring_size = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| {
                        n.is_power_of_two()
                            && (shmring::MIN_CAPACITY..=shmring::MAX_CAPACITY).contains(n)
                    })
                    .ok_or_else(|| bad("a power of two from 4096 to 268435456"))?
            }
            "threadstrategy" => {
                self.lanes = None;
                self.strategy = match value {
                    "reactive" => Strategy::Reactive,
                    "pool" => Strategy::ThreadPool {
                        threads: self.pool_size(),
                    },
                    "adaptive" => Strategy::Adaptive(AdaptivePolicy {
                        max_threads: match self.strategy {
                            Strategy::ThreadPool { threads } => threads,
                            Strategy::Adaptive(p) => p.max_threads,
                            _ => AdaptivePolicy::DEFAULT_MAX_THREADS,
                        },
                        ..AdaptivePolicy::default()
                    }),
                    "connection" => Strategy::ThreadPerConnection,
                    "lanes" => {
                        self.lanes = Some(default_lanes());
                        Strategy::ThreadPerConnection
                    }
                    _ => return Err(bad("reactive, pool, adaptive, connection or lanes")),
                }
            }
            "lanes" => {
                let lanes = crate::rt::parse_lanes(value).map_err(&invalid)?;
                self.lanes = Some(lanes);
                // Lanes run requests; a thread per connection reads them.
                self.strategy = Strategy::ThreadPerConnection;
            }
            "laneendpoints" => {
                self.lane_endpoints = parse_bool(value).ok_or_else(|| bad("0 or 1"))?
            }
            "prioritymodel" => {
                self.priority_model.model = match value {
                    "client" | "client_propagated" => PriorityModel::ClientPropagated,
                    "server" | "server_declared" => PriorityModel::ServerDeclared,
                    _ => return Err(bad("client or server")),
                }
            }
            "serverpriority" => {
                self.priority_model.server_priority = value
                    .parse::<i32>()
                    .ok()
                    .and_then(|p| crate::rt::check_priority(p).ok())
                    .ok_or_else(|| bad("a priority from 0 to 32767"))?;
            }
            "prioritybands" => {
                self.priority_bands = crate::rt::parse_bands(value).map_err(&invalid)?;
            }
            "prioritymapping" => {
                self.priority_mapping = NativePriorityPolicy::parse(value)
                    .ok_or_else(|| bad("off, nice, fifo or rr"))?;
            }
            "threadpoolsize" => {
                let n: usize = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=1024).contains(n))
                    .ok_or_else(|| bad("a thread count from 1 to 1024"))?;
                self.strategy = match self.strategy {
                    Strategy::Adaptive(p) => Strategy::Adaptive(AdaptivePolicy {
                        max_threads: n,
                        ..p
                    }),
                    _ => Strategy::ThreadPool { threads: n },
                };
                self.lanes = None;
            }
            "adaptivepromotemicros" | "adaptiveretiremillis" => {
                let Strategy::Adaptive(policy) = &mut self.strategy else {
                    return Err(invalid(
                        "tunes an adaptive server: give -ORBthreadStrategy adaptive before it"
                            .into(),
                    ));
                };
                if name.eq_ignore_ascii_case("adaptivePromoteMicros") {
                    policy.promote_after = value
                        .parse::<u64>()
                        .ok()
                        .filter(|n| (10..=1_000_000).contains(n))
                        .map(Duration::from_micros)
                        .ok_or_else(|| bad("a time from 10 to 1000000 microseconds"))?;
                } else {
                    policy.retire_after = value
                        .parse::<u64>()
                        .ok()
                        .filter(|n| (1..=3_600_000).contains(n))
                        .map(Duration::from_millis)
                        .ok_or_else(|| bad("a time from 1 to 3600000 milliseconds"))?;
                }
            }
            "collocation" => {
                self.collocation = match value {
                    "direct" => CollocationStrategy::Direct,
                    "thru-poa" | "thrupoa" => CollocationStrategy::ThruPoa,
                    "none" => CollocationStrategy::None,
                    _ => return Err(bad("direct, thru-poa or none")),
                }
            }
            "bufferallocator" => {
                self.allocator = match value {
                    "tss" => AllocatorStrategy::ThreadLocal,
                    "global" => AllocatorStrategy::Global,
                    _ => return Err(bad("tss or global")),
                }
            }
            "initref" => {
                let (n, url) = value
                    .split_once('=')
                    .filter(|(n, u)| !n.is_empty() && !u.is_empty())
                    .ok_or_else(|| bad("NAME=URL"))?;
                self.init_refs.push((n.to_owned(), url.to_owned()));
            }
            "defaultinitref" => self.default_init_ref = Some(value.to_owned()),
            "clientcalltimeoutperiod" => {
                let t = ms(value)?;
                self.request_timeout = (t > 0).then(|| Duration::from_millis(t));
            }
            "clientconnecttimeoutperiod" => {
                self.connect_timeout = Duration::from_millis(ms(value)?.max(1))
            }
            "giopmaxmsgsize" => {
                self.max_message_size = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n >= 1024)
                    .ok_or_else(|| bad("a size of at least 1024 octets"))?
            }
            "batchonewayreaders" => {
                self.batch_oneway_readers = parse_bool(value).ok_or_else(|| bad("0 or 1"))?
            }
            "onewaybatchmicros" => {
                let us: u64 = value
                    .parse()
                    .ok()
                    .filter(|us| *us <= 1_000_000)
                    .ok_or_else(|| bad("a number of microseconds up to 1000000"))?;
                self.oneway_batch = (us > 0).then(|| Duration::from_micros(us));
            }
            "fragmentsize" => {
                let n: usize = value
                    .parse()
                    .ok()
                    .filter(|n| *n == 0 || *n >= 32)
                    .ok_or_else(|| {
                        bad("0 (no fragments) or a fragment size of at least 32 octets")
                    })?;
                self.fragment_size = (n > 0).then_some(n);
            }
            "tracelevel" => {
                self.trace_level = value.parse().map_err(|_| bad("a trace level (0 to 40)"))?
            }
            "traceinvocations" => {
                self.trace_invocations = parse_bool(value).ok_or_else(|| bad("0 or 1"))?
            }
            _ => return Err(OptionsError::Unknown(name.to_owned())),
        }
        Ok(())
    }

    fn pool_size(&self) -> usize {
        match self.strategy {
            Strategy::ThreadPool { threads } => threads,
            _ => 4,
        }
    }
}

/// The lanes of `-ORBthreadStrategy lanes` without `-ORBlanes`: two threads for the lower
/// half of the priorities, two for the upper.
fn default_lanes() -> Vec<ThreadpoolLane> {
    vec![
        ThreadpoolLane {
            lane_priority: 0,
            static_threads: 2,
            dynamic_threads: 0,
        },
        ThreadpoolLane {
            lane_priority: 16384,
            static_threads: 2,
            dynamic_threads: 0,
        },
    ]
}

const OPTION_NAMES: &[&str] = &[
    "endPoint",
    "liteEndPoint",
    "publishHost",
    "maxGIOPVersion",
    "giopLite",
    "preferUnix",
    "shmiop",
    "shmRingSize",
    "threadStrategy",
    "threadPoolSize",
    "adaptivePromoteMicros",
    "adaptiveRetireMillis",
    "lanes",
    "laneEndpoints",
    "priorityModel",
    "serverPriority",
    "priorityBands",
    "priorityMapping",
    "collocation",
    "bufferAllocator",
    "InitRef",
    "DefaultInitRef",
    "clientCallTimeOutPeriod",
    "clientConnectTimeOutPeriod",
    "giopMaxMsgSize",
    "onewayBatchMicros",
    "batchOnewayReaders",
    "fragmentSize",
    "traceLevel",
    "traceInvocations",
];

/// `-ORBendPoint, -ORBliteEndPoint, ...`, for the error that rejects another.
fn supported_options() -> String {
    OPTION_NAMES
        .iter()
        .map(|n| format!("-ORB{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// omniORB writes `giop:tcp::0` and `giop:tcp:host:` for "any interface" / "any port".
fn parse_endpoint(value: &str) -> Result<Endpoint, OptionsError> {
    let fixed = if value.ends_with(':') && value.starts_with("giop:tcp:") {
        format!("{value}0")
    } else {
        value.to_owned()
    };
    Ok(Endpoint::parse(&fixed)?)
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn orb_arguments_are_taken_out_and_the_rest_kept_in_order() {
        let mut o = OrbOptions::default();
        let rest = o
            .parse_args(args(
                "prog -ORBInitRef NameService=corbaloc::127.0.0.1:2809/NameService x \
                 -ORBendPoint giop:tcp:127.0.0.1: -ORBmaxGIOPVersion 1.1 -ORBcollocation none \
                 -ORBthreadStrategy reactive -ORBclientCallTimeOutPeriod 250 y",
            ))
            .unwrap();
        assert_eq!(rest, args("prog x y"));
        assert_eq!(
            o.init_refs,
            vec![(
                "NameService".to_owned(),
                "corbaloc::127.0.0.1:2809/NameService".to_owned()
            )]
        );
        assert_eq!(
            o.endpoints,
            vec![Endpoint::Iiop {
                host: "127.0.0.1".into(),
                port: 0
            }]
        );
        assert_eq!(o.giop_version, GiopVersion::V1_1);
        assert_eq!(o.collocation, CollocationStrategy::None);
        assert_eq!(o.strategy, Strategy::Reactive);
        assert_eq!(o.request_timeout, Some(Duration::from_millis(250)));
        assert_eq!(o.oneway_batch, None);
        o.parse_args(args("-ORBonewayBatchMicros 200")).unwrap();
        assert_eq!(o.oneway_batch, Some(Duration::from_micros(200)));
        o.parse_args(args("-ORBonewayBatchMicros 0")).unwrap();
        assert_eq!(o.oneway_batch, None);
        assert!(o.parse_args(args("-ORBonewayBatchMicros 2000000")).is_err());
        assert!(o.parse_args(args("-ORBonewayBatchMicros -1")).is_err());
        o.parse_args(args("-ORBfragmentSize 8192")).unwrap();
        assert_eq!(o.fragment_size, Some(8192));
        o.parse_args(args("-ORBfragmentSize 0")).unwrap();
        assert_eq!(o.fragment_size, None);
        assert!(o.parse_args(args("-ORBfragmentSize 31")).is_err());
    }

    #[test]
    fn adaptive_takes_its_maximum_from_the_pool_size_and_its_tuning_after_it() {
        let mut o = OrbOptions::default();
        o.parse_args(args("-ORBthreadStrategy adaptive")).unwrap();
        assert_eq!(o.strategy, Strategy::Adaptive(AdaptivePolicy::default()));
        o.parse_args(args(
            "-ORBthreadPoolSize 12 -ORBadaptivePromoteMicros 500 -ORBadaptiveRetireMillis 250",
        ))
        .unwrap();
        assert_eq!(
            o.strategy,
            Strategy::Adaptive(AdaptivePolicy {
                max_threads: 12,
                promote_after: Duration::from_micros(500),
                retire_after: Duration::from_millis(250),
            })
        );
        let mut o = OrbOptions::default();
        o.parse_args(args("-ORBthreadPoolSize 6 -ORBthreadStrategy adaptive"))
            .unwrap();
        assert_eq!(
            o.strategy,
            Strategy::Adaptive(AdaptivePolicy {
                max_threads: 6,
                ..AdaptivePolicy::default()
            })
        );
        assert_eq!(
            o.parse_args(args("-ORBadaptivePromoteMicros 5"))
                .unwrap_err()
                .to_string(),
            "ORB option -ORBadaptivePromoteMicros: \"5\" is not a time from 10 to 1000000 \
             microseconds"
        );
        let mut o = OrbOptions::default();
        assert_eq!(
            o.parse_args(args("-ORBadaptiveRetireMillis 100"))
                .unwrap_err()
                .to_string(),
            "ORB option -ORBadaptiveRetireMillis: \"100\": tunes an adaptive server: give \
             -ORBthreadStrategy adaptive before it"
        );
    }

    #[test]
    fn bad_options_say_which_and_why() {
        let mut o = OrbOptions::default();
        assert_eq!(
            o.parse_args(args("-ORBfrobnicate 1")).unwrap_err(),
            OptionsError::Unknown("frobnicate".into())
        );
        assert_eq!(
            o.parse_args(args("-ORBInitRef")).unwrap_err(),
            OptionsError::MissingValue("InitRef".into())
        );
        let e = o.parse_args(args("-ORBmaxGIOPVersion 2.0")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ORB option -ORBmaxGIOPVersion: \"2.0\" is not 1.0, 1.1 or 1.2"
        );
        assert!(o.parse_args(args("-ORBInitRef NoUrl")).is_err());
        assert!(o.parse_args(args("-ORBthreadPoolSize 0")).is_err());
        assert!(o.parse_args(args("-ORBendPoint giop:carrier:x")).is_err());
        let unknown = o
            .parse_args(args("-ORBfrobnicate 1"))
            .unwrap_err()
            .to_string();
        assert!(
            unknown.starts_with(
                "unknown ORB option -ORBfrobnicate; the options this ORB knows are -ORBendPoint, "
            ) && unknown.contains("-ORBtraceLevel"),
            "{unknown}"
        );
    }

    #[test]
    fn shared_memory_options() {
        let mut o = OrbOptions::default();
        assert!(o.use_shmiop);
        assert_eq!(o.shm_ring_size, 1 << 20);
        o.parse_args(args("-ORBshmiop 0 -ORBshmRingSize 65536"))
            .unwrap();
        assert!(!o.use_shmiop);
        assert_eq!(o.shm_ring_size, 65536);
        o.parse_args(args("-ORBendPoint giop:shm:")).unwrap();
        assert!(matches!(&o.endpoints[..], [Endpoint::Shmiop { .. }]));
        for bad in ["65535", "2048", "536870912", "big"] {
            let e = o
                .parse_args(args(&format!("-ORBshmRingSize {bad}")))
                .unwrap_err();
            assert!(e.to_string().contains("power of two"), "{e}");
        }
    }

    #[test]
    fn calls_time_out_by_default_and_zero_means_never() {
        let mut o = OrbOptions::default();
        assert_eq!(o.request_timeout, Some(Duration::from_secs(30)));
        assert_eq!(o.connect_timeout, Duration::from_secs(10));
        o.parse_args(args("-ORBclientCallTimeOutPeriod 0")).unwrap();
        assert_eq!(o.request_timeout, None);
    }

    #[test]
    fn omniorb_trace_options_map_onto_tracing_levels() {
        use tracing::level_filters::LevelFilter;
        let filter = |s: &str| {
            let mut o = OrbOptions::default();
            o.parse_args(args(s)).unwrap();
            o.trace_filter()
        };
        assert_eq!(OrbOptions::default().trace_filter(), LevelFilter::WARN);
        assert_eq!(filter("-ORBtraceLevel 0"), LevelFilter::ERROR);
        assert_eq!(filter("-ORBtraceLevel 5"), LevelFilter::INFO);
        assert_eq!(filter("-ORBtraceLevel 10"), LevelFilter::DEBUG);
        assert_eq!(filter("-ORBtraceLevel 25"), LevelFilter::TRACE);
        assert_eq!(filter("-ORBtraceInvocations 1"), LevelFilter::INFO);
        assert_eq!(
            filter("-ORBtraceLevel 25 -ORBtraceInvocations 1"),
            LevelFilter::TRACE
        );
        let mut o = OrbOptions::default();
        assert!(o.parse_args(args("-ORBtraceLevel lots")).is_err());
    }
}
