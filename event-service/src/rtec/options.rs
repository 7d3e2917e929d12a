//! How a real-time channel is configured: [`RtecOptions`], set field by field, through its
//! `&mut Self` setters, or from TAO's `-EC…` arguments ([`RtecOptions::parse_args`]). The
//! table of every option beside TAO's meaning is in `event-service/RTEC.md`.

use super::filter::FilteringMode;
use super::idl::rtec_event_channel_admin::ConsumerQos;
use super::is_designator;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Where deliveries to consumers run (`-ECDispatching`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dispatching {
    /// In the supplier's thread, straight from its `push` (TAO's reactive dispatching; an
    /// EFD): no hand-off, the fastest, and a slow consumer slows its suppliers.
    Reactive,
    /// A pool of [`RtecOptions::dispatching_threads`] threads on one bounded queue (TAO's
    /// `mt`). Events for one consumer still reach it in the order they were queued.
    Mt,
    /// A thread and a bounded queue per consumer (TAO's `EC_TPC_Dispatching`): a stalled
    /// consumer delays nobody else.
    Tpc,
    /// A bounded queue and a thread per priority lane, lane 0 the highest (TAO's priority
    /// dispatching); lane threads run `SCHED_FIFO` where the process may.
    Priority,
}

/// What a supplier meets when a dispatching queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FullPolicy {
    /// The supplier waits until the queue has drained to its low-water mark, for at most
    /// `max_delay` (TAO's `max_write_delay`); then the oldest event goes, and is counted.
    Block { max_delay: Duration },
    /// The oldest queued event goes to make room, and is counted.
    DropOldest,
}

/// Which suppliers' events each consumer's filter sees (`-ECSupplierFiltering`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SupplierFiltering {
    /// Every event goes through every consumer's filter (TAO's trivial supplier filter).
    Null,
    /// An event goes only to the consumers whose subscriptions may match its `(source,
    /// type)`, found in the subscription tables; with none, it is dropped at its proxy.
    PerSupplier,
}

/// How timeout events reach consumers (`-ECTimeout`). Both values take the same path:
/// a timeout goes through the channel's dispatching like any event — from the timer's thread
/// with reactive dispatching, at its consumer's lane with priority dispatching — which is
/// what TAO's priority timeout generator is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutStrategy {
    Reactive,
    Priority,
}

/// `-ECObserver`: whether observers (gateways) may be appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObserverStrategy {
    /// `append_observer` raises `CANT_APPEND_OBSERVER` (TAO's default).
    Null,
    /// Observers are told every change of the channel's aggregate subscriptions and
    /// publications, from the thread that made the change.
    Basic,
}

/// Chooses a consumer's priority lane from its QOS (0 is the highest). The scheduling
/// service plugs in here; without it, [`default_lane`] is used.
pub type LaneResolver = Arc<dyn Fn(&ConsumerQos) -> usize + Send + Sync>;

/// Without a scheduler: the `rt_info` of the consumer's first dependency that is not a
/// designator, read as a preemption priority (0 highest, as TAO's), or the lowest lane.
pub fn default_lane(qos: &ConsumerQos, lanes: usize) -> usize {
    let last = lanes.saturating_sub(1);
    qos.dependencies
        .iter()
        .find(|d| !is_designator(d.event.header.r#type))
        .map_or(last, |d| (d.rt_info.max(0) as usize).min(last))
}

/// Everything a real-time channel can be tuned with. `Default` is TAO's default factory
/// plus bounded queues.
#[derive(Clone)]
pub struct RtecOptions {
    pub dispatching: Dispatching,
    /// Threads of [`Dispatching::Mt`] (`-ECDispatchingThreads`).
    pub dispatching_threads: usize,
    /// Lanes of [`Dispatching::Priority`] (TAO: `ACE_Scheduler_MAX_PRIORITIES`, 5).
    pub priority_lanes: usize,
    pub lane_resolver: Option<LaneResolver>,
    pub filtering: FilteringMode,
    pub supplier_filtering: SupplierFiltering,
    pub timeout: TimeoutStrategy,
    pub observer: ObserverStrategy,
    /// Probe consumers with `_non_existent` every period (`-ECConsumerControl reactive`);
    /// `None` never does (`null`).
    pub consumer_control: Option<Duration>,
    pub supplier_control: Option<Duration>,
    /// The period `-ECConsumerControl reactive` probes at (`-ECConsumerControlPeriod`,
    /// which alone turns nothing on, as in TAO).
    pub consumer_control_period: Duration,
    pub supplier_control_period: Duration,
    /// A proxy push supplier that is connected may be connected again, to a new consumer
    /// or QOS, instead of raising `AlreadyConnected` (TAO's `consumer_reconnect`).
    pub consumer_reconnect: bool,
    pub supplier_reconnect: bool,
    /// Tell a peer that disconnects itself that it is disconnected (TAO's
    /// `disconnect_callbacks`; off by default as there). Peers the channel disconnects
    /// (destroy, dead) are always told.
    pub disconnect_callbacks: bool,
    /// Dispatching queue bound: suppliers meet [`RtecOptions::full_policy`] at this depth.
    pub high_water: usize,
    /// Blocked suppliers resume when the queue has drained to this depth.
    pub low_water: usize,
    pub full_policy: FullPolicy,
    /// A consumer failing this many pushes in a row with `COMM_FAILURE` or `TRANSIENT` is
    /// disconnected (`OBJECT_NOT_EXIST` disconnects it at once).
    pub max_failures: u32,
    /// Timers preallocated in the timeout heap.
    pub timer_capacity: usize,
    /// The channel's POA is PERSISTENT: a process that starts its channels in the same
    /// order on the same endpoint after a restart (the daemon does) answers the references
    /// of the channel and its admins it gave out before. Its proxies are not kept: those of
    /// the process killed answer OBJECT_NOT_EXIST, and clients connect again
    /// ([`crate::rtec::RtecReconnectingPushSupplier`], [`crate::rtec::RtecReconnectingPushConsumer`]).
    pub persistent: bool,
}

impl Default for RtecOptions {
    fn default() -> RtecOptions {
        RtecOptions {
            dispatching: Dispatching::Reactive,
            dispatching_threads: 1,
            priority_lanes: 5,
            lane_resolver: None,
            filtering: FilteringMode::Basic,
            supplier_filtering: SupplierFiltering::PerSupplier,
            timeout: TimeoutStrategy::Reactive,
            observer: ObserverStrategy::Null,
            consumer_control: None,
            supplier_control: None,
            consumer_control_period: DEFAULT_CONTROL_PERIOD,
            supplier_control_period: DEFAULT_CONTROL_PERIOD,
            consumer_reconnect: false,
            supplier_reconnect: false,
            disconnect_callbacks: false,
            high_water: 1024,
            low_water: 512,
            full_policy: FullPolicy::DropOldest,
            max_failures: 3,
            timer_capacity: 1024,
            persistent: false,
        }
    }
}

impl fmt::Debug for RtecOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RtecOptions")
            .field("dispatching", &self.dispatching)
            .field("dispatching_threads", &self.dispatching_threads)
            .field("priority_lanes", &self.priority_lanes)
            .field("lane_resolver", &self.lane_resolver.is_some())
            .field("filtering", &self.filtering)
            .field("supplier_filtering", &self.supplier_filtering)
            .field("timeout", &self.timeout)
            .field("observer", &self.observer)
            .field("consumer_control", &self.consumer_control)
            .field("supplier_control", &self.supplier_control)
            .field("consumer_control_period", &self.consumer_control_period)
            .field("supplier_control_period", &self.supplier_control_period)
            .field("consumer_reconnect", &self.consumer_reconnect)
            .field("supplier_reconnect", &self.supplier_reconnect)
            .field("disconnect_callbacks", &self.disconnect_callbacks)
            .field("high_water", &self.high_water)
            .field("low_water", &self.low_water)
            .field("full_policy", &self.full_policy)
            .field("max_failures", &self.max_failures)
            .field("timer_capacity", &self.timer_capacity)
            .field("persistent", &self.persistent)
            .finish()
    }
}

/// A `-EC…` argument that could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    #[error("unknown event channel option {0}")]
    Unknown(String),
    #[error("{0} needs a value")]
    MissingValue(String),
    #[error("{option}: unsupported value {value:?} (expected {expected})")]
    BadValue {
        option: String,
        value: String,
        expected: &'static str,
    },
}

/// The TAO defaults of the control periods (`TAO_EC_DEFAULT_CONSUMER_CONTROL_PERIOD`).
const DEFAULT_CONTROL_PERIOD: Duration = Duration::from_millis(5000);

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $t:ty),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(&mut self, v: $t) -> &mut Self {
            self.$name = v;
            self
        }
    )*};
}

impl RtecOptions {
    setters! {
        dispatching: Dispatching,
        dispatching_threads: usize,
        priority_lanes: usize,
        filtering: FilteringMode,
        supplier_filtering: SupplierFiltering,
        timeout: TimeoutStrategy,
        observer: ObserverStrategy,
        consumer_control: Option<Duration>,
        supplier_control: Option<Duration>,
        consumer_reconnect: bool,
        supplier_reconnect: bool,
        disconnect_callbacks: bool,
        full_policy: FullPolicy,
        max_failures: u32,
        timer_capacity: usize,
    }

    /// The queue bound and the depth blocked suppliers resume at (clamped below it).
    pub fn water_marks(&mut self, high: usize, low: usize) -> &mut Self {
        self.high_water = high.max(1);
        self.low_water = low.min(self.high_water - 1);
        self
    }

    pub fn lane_resolver(
        &mut self,
        f: impl Fn(&ConsumerQos) -> usize + Send + Sync + 'static,
    ) -> &mut Self {
        self.lane_resolver = Some(Arc::new(f));
        self
    }

    /// The lane `qos`'s consumer is dispatched at.
    pub(crate) fn lane_of(&self, qos: &ConsumerQos) -> usize {
        let lanes = self.priority_lanes.max(1);
        match &self.lane_resolver {
            Some(f) => f(qos).min(lanes - 1),
            None => default_lane(qos, lanes),
        }
    }

    /// Applies TAO's `-EC…` options (names compared without regard to case, as TAO's
    /// `Arg_Shifter` does). An unknown option or value is an error, never ignored.
    pub fn parse_args<I, S>(&mut self, args: I) -> Result<&mut Self, OptionError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let mut it = args.iter();
        while let Some(name) = it.next() {
            let mut value = || {
                it.next()
                    .map(|v| v.to_ascii_lowercase())
                    .ok_or_else(|| OptionError::MissingValue(name.clone()))
            };
            let bad = |value: String, expected: &'static str| OptionError::BadValue {
                option: name.clone(),
                value,
                expected,
            };
            match name.to_ascii_lowercase().as_str() {
                "-ecdispatching" => {
                    self.dispatching = match value()?.as_str() {
                        "reactive" => Dispatching::Reactive,
                        "mt" => Dispatching::Mt,
                        "tpc" => Dispatching::Tpc,
                        "priority" => Dispatching::Priority,
                        v => return Err(bad(v.into(), "reactive, mt, tpc or priority")),
                    }
                }
                "-ecdispatchingthreads" => {
                    self.dispatching_threads = count(&value()?).ok_or_else(|| {
                        bad(args_value(&args, name), "a number of threads, at least 1")
                    })?
                }
                "-ecfiltering" => {
                    self.filtering = match value()?.as_str() {
                        "null" => FilteringMode::Null,
                        "basic" => FilteringMode::Basic,
                        "prefix" => FilteringMode::Prefix,
                        v => return Err(bad(v.into(), "null, basic or prefix")),
                    }
                }
                "-ecsupplierfiltering" | "-ecsupplierfilter" => {
                    self.supplier_filtering = match value()?.as_str() {
                        "null" => SupplierFiltering::Null,
                        "per-supplier" => SupplierFiltering::PerSupplier,
                        v => return Err(bad(v.into(), "null or per-supplier")),
                    }
                }
                "-ectimeout" => {
                    self.timeout = match value()?.as_str() {
                        "reactive" => TimeoutStrategy::Reactive,
                        "priority" => TimeoutStrategy::Priority,
                        v => return Err(bad(v.into(), "reactive or priority")),
                    }
                }
                "-ecobserver" => {
                    self.observer = match value()?.as_str() {
                        "null" => ObserverStrategy::Null,
                        // TAO's reactive observer differs only in which thread tells.
                        "basic" | "reactive" => ObserverStrategy::Basic,
                        v => return Err(bad(v.into(), "null, basic or reactive")),
                    }
                }
                "-ecconsumercontrol" => {
                    self.consumer_control = control(&value()?, self.consumer_control_period)
                        .ok_or_else(|| bad(args_value(&args, name), "null or reactive"))?
                }
                "-ecsuppliercontrol" => {
                    self.supplier_control = control(&value()?, self.supplier_control_period)
                        .ok_or_else(|| bad(args_value(&args, name), "null or reactive"))?
                }
                "-ecconsumercontrolperiod" => {
                    let us = micros(&value()?)
                        .ok_or_else(|| bad(args_value(&args, name), "microseconds, above 0"))?;
                    self.consumer_control_period = us;
                    self.consumer_control = self.consumer_control.map(|_| us);
                }
                "-ecsuppliercontrolperiod" => {
                    let us = micros(&value()?)
                        .ok_or_else(|| bad(args_value(&args, name), "microseconds, above 0"))?;
                    self.supplier_control_period = us;
                    self.supplier_control = self.supplier_control.map(|_| us);
                }
                // Our locks are always thread-safe; the values are checked, then moot.
                "-ecproxyconsumerlock"
                | "-ecproxysupplierlock"
                | "-ecconsumeradminlock"
                | "-ecsupplieradminlock" => match value()?.as_str() {
                    "null" | "thread" | "recursive" => {}
                    v => return Err(bad(v.into(), "null, thread or recursive")),
                },
                "-ecscheduling" => match value()?.as_str() {
                    // Scheduling is the scheduling service's (see `lane_resolver`).
                    "null" | "group" | "priority" => {}
                    v => return Err(bad(v.into(), "null, group or priority")),
                },
                // rtorb's own, for what TAO sets through attributes or service objects.
                "-ecqueuefull" => {
                    self.full_policy = match value()?.as_str() {
                        "drop" => FullPolicy::DropOldest,
                        "block" => FullPolicy::Block {
                            max_delay: Duration::from_secs(1),
                        },
                        v => return Err(bad(v.into(), "block or drop")),
                    }
                }
                "-ecqueuehighwater" => {
                    let n = count(&value()?)
                        .ok_or_else(|| bad(args_value(&args, name), "a depth, at least 1"))?;
                    let low = self.low_water;
                    self.water_marks(n, low);
                }
                "-ecqueuelowwater" => {
                    let n = value()?
                        .parse()
                        .map_err(|_| bad(args_value(&args, name), "a depth"))?;
                    let high = self.high_water;
                    self.water_marks(high, n);
                }
                "-ecprioritylanes" => {
                    self.priority_lanes = count(&value()?)
                        .ok_or_else(|| bad(args_value(&args, name), "a number of lanes"))?
                }
                "-ecconsumerreconnect" => self.consumer_reconnect = flag(&value()?, &bad)?,
                "-ecsupplierreconnect" => self.supplier_reconnect = flag(&value()?, &bad)?,
                "-ecdisconnectcallbacks" => self.disconnect_callbacks = flag(&value()?, &bad)?,
                _ => return Err(OptionError::Unknown(name.clone())),
            }
        }
        Ok(self)
    }
}

/// The value that followed option `name` (for error messages).
fn args_value(args: &[String], name: &str) -> String {
    let i = args.iter().position(|a| a == name).unwrap_or(0);
    args.get(i + 1).cloned().unwrap_or_default()
}

fn count(v: &str) -> Option<usize> {
    v.parse().ok().filter(|n| *n >= 1)
}

fn micros(v: &str) -> Option<Duration> {
    v.parse().ok().filter(|n| *n > 0).map(Duration::from_micros)
}

fn control(v: &str, period: Duration) -> Option<Option<Duration>> {
    match v {
        "null" => Some(None),
        "reactive" => Some(Some(period)),
        _ => None,
    }
}

fn flag(v: &str, bad: &dyn Fn(String, &'static str) -> OptionError) -> Result<bool, OptionError> {
    match v {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(bad(v.into(), "0 or 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taos_options_parse_and_unknown_ones_are_refused() {
        let mut o = RtecOptions::default();
        o.parse_args([
            "-ECDispatching",
            "tpc",
            "-ECDispatchingThreads",
            "4",
            "-ecfiltering",
            "PREFIX",
            "-ECSupplierFilter",
            "null",
            "-ECObserver",
            "basic",
            "-ECConsumerControl",
            "reactive",
            "-ECConsumerControlPeriod",
            "250000",
            "-ECProxyConsumerLock",
            "thread",
        ])
        .unwrap();
        assert_eq!(o.dispatching, Dispatching::Tpc);
        assert_eq!(o.dispatching_threads, 4);
        assert_eq!(o.filtering, FilteringMode::Prefix);
        assert_eq!(o.supplier_filtering, SupplierFiltering::Null);
        assert_eq!(o.observer, ObserverStrategy::Basic);
        assert_eq!(o.consumer_control, Some(Duration::from_millis(250)));
        // A period alone turns no control on; given before the control, it is used.
        o.parse_args(["-ECSupplierControlPeriod", "1000"]).unwrap();
        assert_eq!(o.supplier_control, None);
        o.parse_args(["-ECSupplierControl", "reactive"]).unwrap();
        assert_eq!(o.supplier_control, Some(Duration::from_millis(1)));
        assert_eq!(
            o.parse_args(["-ECBogus", "1"]).unwrap_err(),
            OptionError::Unknown("-ECBogus".into())
        );
        assert_eq!(
            o.parse_args(["-ECDispatching"]).unwrap_err(),
            OptionError::MissingValue("-ECDispatching".into())
        );
        let e = o.parse_args(["-ECDispatching", "fast"]).unwrap_err();
        assert!(
            e.to_string().contains("reactive, mt, tpc or priority"),
            "{e}"
        );
        let e = o.parse_args(["-ECDispatchingThreads", "0"]).unwrap_err();
        assert!(matches!(e, OptionError::BadValue { .. }), "{e}");
    }
}
