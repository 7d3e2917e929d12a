//! Rate-monotonic priority assignment and schedulability analysis of a set of RT_Infos: a
//! pure function of the RT_Infos, with no clock and no I/O, so that the scheduler servant,
//! the `rtsched` tool and the tests all get the same answer from the same input.
//!
//! The steps are TAO's (`DynSched`, `Strategy_Scheduler`, `Reconfig_Scheduler`):
//! 1. the call graph is checked for cycles;
//! 2. rates flow from the operations that start dispatches (a period and no callers, or
//!    threads of their own) down the graph, merged as TAO merges them;
//! 3. the execution time of two-way calls is added to the dispatch that makes them;
//! 4. priorities follow the rate (shorter period, higher priority; 0 is the highest
//!    preemption priority), one dispatching lane per rate while there are lanes to give;
//! 5. the verdict: utilization, the Liu & Layland bound, then exact response-time analysis.

use super::idl::AnomalySeverity;
use super::idl::{
    ConfigInfo, CriticalityT, DependencyEnabledTypeT, DependencyTypeT, DispatchingTypeT, HandleT,
    ImportanceT, InfoTypeT, OsPriority, PreemptionPriorityT, RtInfo, RtInfoEnabledTypeT,
    SchedulingAnomaly, Time,
};
use crate::rtec::rtec_event_channel_admin::ConsumerQos;
use std::collections::{BTreeSet, HashMap};

/// What a schedule is computed within.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The OS priority of the highest lane (`compute_scheduling`'s `maximum_priority`).
    pub max_os_priority: OsPriority,
    /// The OS priority no lane goes below (`minimum_priority`). OS priorities may run
    /// either way: lanes step from the maximum towards the minimum.
    pub min_os_priority: OsPriority,
    /// At most this many lanes, however many rates there are (`None`: as many as the OS
    /// priorities between the two bounds allow).
    pub lanes: Option<usize>,
}

impl Default for Options {
    /// Linux's SCHED_FIFO range, the one TAO takes from the platform by default.
    fn default() -> Options {
        Options {
            max_os_priority: 99,
            min_os_priority: 1,
            lanes: None,
        }
    }
}

/// Why no schedule could be computed: each names the RT_Infos at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnalysisError {
    /// TAO's `CYCLIC_DEPENDENCIES`: the calls, in order, that come back to the first.
    #[error("CYCLIC_DEPENDENCIES: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    /// TAO's `UNRESOLVED_LOCAL_DEPENDENCIES`: operations with no period of their own that
    /// nothing calls, so nothing ever makes them run.
    #[error("UNRESOLVED_LOCAL_DEPENDENCIES: {} {} no period and nothing that calls {}", .0.join(", "), if .0.len() == 1 { "has" } else { "have" }, if .0.len() == 1 { "it" } else { "them" })]
    Unresolved(Vec<String>),
    /// TAO's `THREAD_SPECIFICATION`: threads of its own but no period to run them at.
    #[error("THREAD_SPECIFICATION: {0} has threads but no period")]
    ThreadSpecification(String),
    #[error("{task}: negative {what} {value}")]
    Negative {
        task: String,
        what: &'static str,
        value: i64,
    },
    /// TAO refuses two-way calls into a conjunction or disjunction: a caller that waits
    /// for one of several or all of several has no defined rate.
    #[error("{caller} makes a two-way call to {group}, a {kind}: only one-way dependencies may lead into one")]
    TwoWayIntoGroup {
        caller: String,
        group: String,
        kind: &'static str,
    },
    /// Periods whose least common multiple, or execution times whose sum, do not fit in
    /// 64 bits of 100 ns.
    #[error("{0}: the periods or execution times are too large to analyse")]
    Overflow(String),
}

/// `count` dispatches released together every `period` (100 ns units).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stream {
    pub period: u64,
    pub count: u64,
}

/// One RT_Info in a computed schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskRow {
    pub handle: HandleT,
    pub name: String,
    /// The dispatches the operation gets of its own (a queue entry each), by rate.
    pub streams: Vec<Stream>,
    /// Whether it has dispatches of its own; an operation only ever called two-way runs
    /// inside its callers' dispatches and is analysed as part of them.
    pub dispatched: bool,
    /// Its shortest period (0 when it has no dispatches of its own): the rate that sets its
    /// priority, and its deadline.
    pub period: u64,
    /// Its own worst-case execution time.
    pub wcet: Time,
    /// One dispatch's worst case: its own time and that of every two-way call it makes.
    pub demand: Time,
    pub criticality: CriticalityT,
    pub importance: ImportanceT,
    /// The lane: 0 is the highest.
    pub preemption_priority: PreemptionPriorityT,
    pub os_priority: OsPriority,
    /// Order within the lane: the higher, the earlier (TAO's static subpriority).
    pub subpriority: i32,
    /// Worst-case response time; `None` when it exceeds the deadline (or there is none).
    pub response_time: Option<Time>,
    pub meets_deadline: bool,
    /// Σ count · demand / period over its streams.
    pub utilization: f64,
}

/// One dispatching lane: a queue and the thread that empties it.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    pub preemption_priority: PreemptionPriorityT,
    pub os_priority: OsPriority,
    /// The periods of the operations in the lane that start dispatches on their own
    /// (timers a supplier or the channel must run).
    pub timer_periods: Vec<i32>,
    pub utilization: f64,
    /// The RT_Infos in the lane, highest subpriority first.
    pub handles: Vec<HandleT>,
}

/// The overall answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The Liu & Layland bound holds: schedulable without looking further.
    Schedulable,
    /// The bound is exceeded (or does not apply), but every response time is within its
    /// deadline.
    SchedulableByResponseTime,
    /// These RT_Infos (entry points) can miss their deadlines.
    NotSchedulable { missed: Vec<String> },
}

/// A computed schedule and its verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    /// Every enabled RT_Info, in handle order.
    pub tasks: Vec<TaskRow>,
    pub lanes: Vec<Lane>,
    /// Σ over every dispatch stream.
    pub utilization: f64,
    /// The same over operations of HIGH_CRITICALITY and above (TAO's critical set).
    pub critical_utilization: f64,
    /// The streams the bound counts (tasks in Liu & Layland's sense).
    pub bound_tasks: usize,
    /// n(2^{1/n} − 1), when it applies: lanes are one per rate (so priorities are
    /// rate-monotonic) and there is at least one stream.
    pub bound: Option<f64>,
    pub verdict: Verdict,
    /// What TAO reports as anomalies: warnings about the schedule (each missed deadline,
    /// rates folded into one lane for want of priorities, remote dependencies unresolved).
    pub anomalies: Vec<SchedulingAnomaly>,
}

impl Schedule {
    pub fn is_schedulable(&self) -> bool {
        !matches!(self.verdict, Verdict::NotSchedulable { .. })
    }

    /// The lanes as the IDL gives them to the event channel: lane `p` at index `p`.
    pub fn config_infos(&self) -> Vec<ConfigInfo> {
        self.lanes
            .iter()
            .map(|l| ConfigInfo {
                preemption_priority: l.preemption_priority,
                thread_priority: l.os_priority,
                dispatching_type: DispatchingTypeT::StaticDispatching,
                timer_periods: l.timer_periods.clone(),
            })
            .collect()
    }

    pub fn task(&self, name: &str) -> Option<&TaskRow> {
        self.tasks.iter().find(|t| t.name == name)
    }

    /// Where the real-time channel's priority dispatching puts each consumer: in the lane
    /// this schedule gave the RT_Info its `ConsumerQOS` names (the `rt_info` of its first
    /// dependency that is not a designator, as TAO's channel reads it), the lowest lane for
    /// an RT_Info the schedule does not know. Give it to
    /// [`crate::rtec::RtecOptions::lane_resolver`], with as many priority lanes as
    /// [`Schedule::lanes`].
    pub fn lane_resolver(&self) -> impl Fn(&ConsumerQos) -> usize + Send + Sync + 'static {
        let lanes: HashMap<HandleT, usize> = self
            .tasks
            .iter()
            .map(|t| (t.handle, t.preemption_priority.max(0) as usize))
            .collect();
        let lowest = self.lanes.len().saturating_sub(1);
        move |qos: &ConsumerQos| {
            qos.dependencies
                .iter()
                .find(|d| !crate::rtec::is_designator(d.event.header.r#type))
                .and_then(|d| lanes.get(&d.rt_info).copied())
                .unwrap_or(lowest)
        }
    }
}

/// A dependency as the rates flow: `caller`'s executions make `callee` run `calls` times.
#[derive(Clone, Copy, Debug)]
struct Edge {
    caller: usize,
    callee: usize,
    calls: u64,
    kind: DependencyTypeT,
}

/// Computes the schedule of the enabled RT_Infos of `infos`.
pub fn analyze(infos: &[RtInfo], options: &Options) -> Result<Schedule, AnalysisError> {
    let infos: Vec<&RtInfo> = infos
        .iter()
        .filter(|i| i.enabled != RtInfoEnabledTypeT::RtInfoDisabled)
        .collect();
    let n = infos.len();
    for info in &infos {
        check_values(info)?;
    }
    let by_handle: HashMap<HandleT, usize> = infos
        .iter()
        .enumerate()
        .map(|(i, t)| (t.handle, i))
        .collect();
    let mut edges = Vec::new();
    for (i, info) in infos.iter().enumerate() {
        for d in &info.dependencies {
            if d.enabled == DependencyEnabledTypeT::DependencyDisabled {
                continue;
            }
            // A dependency on a disabled (or unknown) RT_Info takes part in nothing.
            let Some(&j) = by_handle.get(&d.rt_info_depended_on) else {
                continue;
            };
            let calls = u64::try_from(d.number_of_calls.max(1)).unwrap_or(1);
            let (caller, callee) = match d.dependency_type {
                // TAO: "handle" calls "dependency" and waits for it.
                DependencyTypeT::TwoWayCall => (i, j),
                // TAO swaps the ends of a one-way dependency: the one depended on is the
                // source, whose pushes make "handle" run.
                DependencyTypeT::OneWayCall => (j, i),
            };
            edges.push(Edge {
                caller,
                callee,
                calls,
                kind: d.dependency_type,
            });
        }
    }
    let mut callers: Vec<Vec<Edge>> = vec![Vec::new(); n];
    let mut callees: Vec<Vec<Edge>> = vec![Vec::new(); n];
    for e in &edges {
        callers[e.callee].push(*e);
        callees[e.caller].push(*e);
    }
    let order = topological_order(&infos, &callees)?;

    // Rates, callers first.
    let mut dispatch: Vec<Vec<Stream>> = vec![Vec::new(); n];
    let mut inline: Vec<Vec<Stream>> = vec![Vec::new(); n];
    let mut unresolved = Vec::new();
    let mut anomalies = Vec::new();
    for &t in &order {
        let info = infos[t];
        let group = group_kind(info.info_type);
        for e in &callers[t] {
            if e.kind == DependencyTypeT::TwoWayCall {
                if let Some(kind) = group {
                    return Err(AnalysisError::TwoWayIntoGroup {
                        caller: infos[e.caller].entry_point.clone(),
                        group: info.entry_point.clone(),
                        kind,
                    });
                }
            }
        }
        let starts_dispatches = info.period > 0 && (info.threads > 0 || callers[t].is_empty());
        let mut own = Vec::new();
        if starts_dispatches {
            own.push(Stream {
                period: period_of(info),
                count: u64::try_from(info.threads.max(1)).unwrap_or(1),
            });
        } else if callers[t].is_empty() {
            if info.info_type == InfoTypeT::RemoteDependant {
                anomalies.push(anomaly(
                    AnomalySeverity::AnomalyWarning,
                    format!(
                        "UNRESOLVED_REMOTE_DEPENDENCIES: {} depends on operations in another process; it is not analysed",
                        info.entry_point
                    ),
                ));
            } else {
                unresolved.push((info.handle, info.entry_point.clone()));
            }
        }
        let one_way: Vec<(Vec<Stream>, u64)> = callers[t]
            .iter()
            .filter(|e| e.kind == DependencyTypeT::OneWayCall)
            .map(|e| (executions(&dispatch[e.caller], &inline[e.caller]), e.calls))
            .collect();
        if !one_way.is_empty() {
            let merged = if info.info_type == InfoTypeT::Disjunction {
                disjunction(&one_way)
            } else {
                // TAO merges an operation's one-way callers as a conjunction too: it runs
                // once each of them has pushed.
                conjunction(&one_way).ok_or_else(|| overflow(info))?
            };
            own.extend(merged);
        }
        dispatch[t] = normalize(own);
        let two_way: Vec<(Vec<Stream>, u64)> = callers[t]
            .iter()
            .filter(|e| e.kind == DependencyTypeT::TwoWayCall)
            .map(|e| (executions(&dispatch[e.caller], &inline[e.caller]), e.calls))
            .collect();
        inline[t] = normalize(disjunction(&two_way));
    }
    if !unresolved.is_empty() {
        unresolved.sort();
        return Err(AnalysisError::Unresolved(
            unresolved.into_iter().map(|(_, name)| name).collect(),
        ));
    }

    // Execution time per dispatch, callees first: a two-way call's time is spent in the
    // caller's dispatch (TAO's Reconfig scheduler aggregates it the same way).
    let mut demand: Vec<u64> = vec![0; n];
    for &t in order.iter().rev() {
        let info = infos[t];
        let mut d = if group_kind(info.info_type).is_some() {
            0
        } else {
            info.worst_case_execution_time
        };
        for e in callees[t]
            .iter()
            .filter(|e| e.kind == DependencyTypeT::TwoWayCall)
        {
            d = e
                .calls
                .checked_mul(demand[e.callee])
                .and_then(|x| x.checked_add(d))
                .ok_or_else(|| overflow(info))?;
        }
        demand[t] = d;
    }

    // Lanes: one per distinct rate of the dispatched operations, shortest period first.
    let rates: BTreeSet<u64> = (0..n)
        .filter_map(|t| dispatch[t].first().map(|s| s.period))
        .collect();
    let os_levels = usize::try_from(
        (i64::from(options.max_os_priority) - i64::from(options.min_os_priority)).unsigned_abs(),
    )
    .unwrap_or(usize::MAX)
    .saturating_add(1);
    let limit = options.lanes.unwrap_or(usize::MAX).min(os_levels).max(1);
    let lane_count = rates.len().clamp(1, limit);
    let folded = rates.len() > lane_count;
    if folded {
        anomalies.push(anomaly(
            AnomalySeverity::AnomalyWarning,
            format!(
                "INSUFFICIENT_THREAD_PRIORITY_LEVELS: {} rates share {} lanes; the {} slowest share the lowest",
                rates.len(),
                lane_count,
                rates.len() - lane_count + 1
            ),
        ));
    }
    let lane_of_rate: HashMap<u64, usize> = rates
        .iter()
        .enumerate()
        .map(|(i, r)| (*r, i.min(lane_count - 1)))
        .collect();
    let lowest = lane_count - 1;
    let mut lane: Vec<usize> = vec![lowest; n];
    for &t in &order {
        lane[t] = match dispatch[t].first() {
            Some(s) => lane_of_rate[&s.period],
            // Runs only in its callers' dispatches: TAO leaves it with the priority of the
            // last (lowest) of them.
            None => callers[t]
                .iter()
                .filter(|e| e.kind == DependencyTypeT::TwoWayCall)
                .map(|e| lane[e.caller])
                .max()
                .unwrap_or(lowest),
        };
    }
    let os_priority = |l: usize| -> OsPriority {
        let step = i64::try_from(l).unwrap_or(i64::MAX);
        let max = i64::from(options.max_os_priority);
        let p = if options.max_os_priority >= options.min_os_priority {
            max.saturating_sub(step)
        } else {
            max.saturating_add(step)
        };
        OsPriority::try_from(p).unwrap_or(options.min_os_priority)
    };

    // Within a lane: importance first, then callees before callers (TAO's order by the
    // finishing time of the dependency traversal).
    let mut position = vec![0usize; n];
    for (p, &t) in order.iter().rev().enumerate() {
        position[t] = p;
    }
    let mut lanes: Vec<Lane> = (0..lane_count)
        .map(|l| Lane {
            preemption_priority: PreemptionPriorityT::try_from(l).unwrap_or(i32::MAX),
            os_priority: os_priority(l),
            timer_periods: Vec::new(),
            utilization: 0.0,
            handles: Vec::new(),
        })
        .collect();
    let mut subpriority = vec![0i32; n];
    for (l, lane_info) in lanes.iter_mut().enumerate() {
        let mut members: Vec<usize> = (0..n).filter(|t| lane[*t] == l).collect();
        members.sort_by_key(|t| (std::cmp::Reverse(infos[*t].importance), position[*t]));
        let k = members.len();
        for (i, t) in members.iter().enumerate() {
            subpriority[*t] = i32::try_from(k - 1 - i).unwrap_or(i32::MAX);
        }
        lane_info.handles = members.iter().map(|t| infos[*t].handle).collect();
        let timers: BTreeSet<i32> = members
            .iter()
            .filter(|t| {
                infos[**t].period > 0 && (infos[**t].threads > 0 || callers[**t].is_empty())
            })
            .map(|t| infos[*t].period)
            .collect();
        lane_info.timer_periods = timers.into_iter().collect();
    }

    // The job classes the analysis works on: each stream of each dispatched operation.
    struct Class {
        task: usize,
        lane: usize,
        period: u64,
        work: u64,
    }
    let mut classes = Vec::new();
    for t in 0..n {
        for s in &dispatch[t] {
            let work = s
                .count
                .checked_mul(demand[t])
                .ok_or_else(|| overflow(infos[t]))?;
            classes.push(Class {
                task: t,
                lane: lane[t],
                period: s.period,
                work,
            });
        }
    }
    let mut utilization = 0.0;
    let mut critical_utilization = 0.0;
    let mut task_utilization = vec![0.0; n];
    for c in &classes {
        let u = c.work as f64 / c.period as f64;
        utilization += u;
        task_utilization[c.task] += u;
        lanes[c.lane].utilization += u;
        if infos[c.task].criticality >= CriticalityT::HighCriticality {
            critical_utilization += u;
        }
    }

    // Response times (Joseph & Pandya; Audsley et al.): a class waits for every class of
    // a higher lane and, as a queue is first-come first-served, of its own lane.
    let mut response: Vec<Option<u64>> = vec![Some(0); n];
    for (j, c) in classes.iter().enumerate() {
        let interferers: Vec<&Class> = classes
            .iter()
            .enumerate()
            .filter(|(i, o)| *i != j && o.lane <= c.lane)
            .map(|(_, o)| o)
            .collect();
        let r = response_time(
            c.work,
            c.period,
            interferers.iter().map(|o| (o.work, o.period)),
        );
        response[c.task] = match (response[c.task], r) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }

    let mut tasks = Vec::with_capacity(n);
    let mut missed = Vec::new();
    for t in 0..n {
        let info = infos[t];
        let dispatched = !dispatch[t].is_empty();
        let meets = !dispatched || response[t].is_some();
        if !meets {
            missed.push(info.entry_point.clone());
            anomalies.push(anomaly(
                AnomalySeverity::AnomalyWarning,
                format!(
                    "UTILIZATION_BOUND_EXCEEDED: {} can miss its deadline of {} ms",
                    info.entry_point,
                    super::table::millis(dispatch[t][0].period)
                ),
            ));
        }
        tasks.push(TaskRow {
            handle: info.handle,
            name: info.entry_point.clone(),
            streams: dispatch[t].clone(),
            dispatched,
            period: dispatch[t].first().map_or(0, |s| s.period),
            wcet: info.worst_case_execution_time,
            demand: demand[t],
            criticality: info.criticality,
            importance: info.importance,
            preemption_priority: lanes[lane[t]].preemption_priority,
            os_priority: lanes[lane[t]].os_priority,
            subpriority: subpriority[t],
            response_time: if dispatched { response[t] } else { None },
            meets_deadline: meets,
            utilization: task_utilization[t],
        });
    }
    tasks.sort_by_key(|r| r.handle);

    let bound_tasks = classes.iter().filter(|c| c.work > 0).count();
    let bound = (!folded && bound_tasks > 0).then(|| liu_layland_bound(bound_tasks));
    let verdict = if !missed.is_empty() {
        Verdict::NotSchedulable { missed }
    } else if bound.is_some_and(|b| utilization <= b + 1e-12) || bound_tasks == 0 {
        Verdict::Schedulable
    } else {
        Verdict::SchedulableByResponseTime
    };
    Ok(Schedule {
        tasks,
        lanes,
        utilization,
        critical_utilization,
        bound_tasks,
        bound,
        verdict,
        anomalies,
    })
}

/// Liu & Layland's least upper bound for `n` rate-monotonic tasks: n(2^{1/n} − 1).
pub fn liu_layland_bound(n: usize) -> f64 {
    let n = n as f64;
    n * (2f64.powf(1.0 / n) - 1.0)
}

/// The worst-case response time of `work` released every `deadline`, with `interferers`
/// (work, period) preempting it: the least fixed point of
/// R = work + Σ ⌈R / T⌉ · C, or `None` once R passes the deadline.
pub fn response_time(
    work: u64,
    deadline: u64,
    interferers: impl Iterator<Item = (u64, u64)> + Clone,
) -> Option<u64> {
    if work == 0 {
        return Some(0);
    }
    let mut r = interferers
        .clone()
        .try_fold(work, |acc, (c, _)| acc.checked_add(c))?;
    loop {
        if r > deadline {
            return None;
        }
        let next = interferers.clone().try_fold(work, |acc, (c, t)| {
            r.div_ceil(t)
                .checked_mul(c)
                .and_then(|x| acc.checked_add(x))
        })?;
        if next == r {
            return Some(r);
        }
        // R only grows (each term is monotonic in R), so the loop ends: at a fixed point or
        // past the deadline.
        r = next;
    }
}

fn check_values(info: &RtInfo) -> Result<(), AnalysisError> {
    let negative = |what, value: i32| AnalysisError::Negative {
        task: info.entry_point.clone(),
        what,
        value: i64::from(value),
    };
    if info.period < 0 {
        return Err(negative("period", info.period));
    }
    if info.threads < 0 {
        return Err(negative("thread count", info.threads));
    }
    if info.threads > 0 && info.period == 0 {
        return Err(AnalysisError::ThreadSpecification(info.entry_point.clone()));
    }
    Ok(())
}

fn period_of(info: &RtInfo) -> u64 {
    u64::try_from(info.period).unwrap_or(0)
}

fn group_kind(t: InfoTypeT) -> Option<&'static str> {
    match t {
        InfoTypeT::Conjunction => Some("CONJUNCTION"),
        InfoTypeT::Disjunction => Some("DISJUNCTION"),
        InfoTypeT::Operation | InfoTypeT::RemoteDependant => None,
    }
}

fn overflow(info: &RtInfo) -> AnalysisError {
    AnalysisError::Overflow(info.entry_point.clone())
}

fn anomaly(severity: AnomalySeverity, description: String) -> SchedulingAnomaly {
    SchedulingAnomaly {
        description,
        severity,
    }
}

/// Everything that runs an operation's code: its own dispatches and the calls made to it
/// from other dispatches.
fn executions(dispatch: &[Stream], inline: &[Stream]) -> Vec<Stream> {
    normalize(dispatch.iter().chain(inline).copied().collect())
}

/// Each source's streams, `calls` times over: the operation runs whenever any of them
/// does.
fn disjunction(sources: &[(Vec<Stream>, u64)]) -> Vec<Stream> {
    sources
        .iter()
        .flat_map(|(streams, calls)| {
            streams.iter().map(move |s| Stream {
                period: s.period,
                count: s.count.saturating_mul(*calls),
            })
        })
        .collect()
}

/// Runs once all sources have delivered: over the frame (the least common multiple of
/// their periods), as often as the source that delivers least. `None` on overflow.
fn conjunction(sources: &[(Vec<Stream>, u64)]) -> Option<Vec<Stream>> {
    if let [_] = sources {
        // All of one source is that source: its rates pass through unbunched.
        return Some(disjunction(sources));
    }
    let mut frame = 1u64;
    for (streams, _) in sources {
        for s in streams {
            frame = lcm(frame, s.period)?;
        }
    }
    let mut count = u64::MAX;
    for (streams, calls) in sources {
        let mut delivered = 0u64;
        for s in streams {
            delivered = delivered.checked_add((frame / s.period).checked_mul(s.count)?)?;
        }
        count = count.min(delivered.checked_mul(*calls)?);
    }
    Some(if count == 0 || count == u64::MAX {
        Vec::new()
    } else {
        vec![Stream {
            period: frame,
            count,
        }]
    })
}

/// Streams of equal period as one, shortest period first; empty ones dropped.
fn normalize(mut streams: Vec<Stream>) -> Vec<Stream> {
    streams.retain(|s| s.count > 0 && s.period > 0);
    streams.sort();
    let mut out: Vec<Stream> = Vec::with_capacity(streams.len());
    for s in streams {
        match out.last_mut() {
            Some(last) if last.period == s.period => {
                last.count = last.count.saturating_add(s.count);
            }
            _ => out.push(s),
        }
    }
    out
}

fn lcm(a: u64, b: u64) -> Option<u64> {
    let g = gcd(a, b);
    (a / g).checked_mul(b)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Callers before callees; a cycle is an error naming its members in call order. The
/// traversal keeps its own stack, so a long chain from a remote client cannot overflow the
/// thread's.
fn topological_order(
    infos: &[&RtInfo],
    callees: &[Vec<Edge>],
) -> Result<Vec<usize>, AnalysisError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let n = infos.len();
    let mut mark = vec![Mark::New; n];
    let mut finished = Vec::with_capacity(n);
    for root in 0..n {
        if mark[root] != Mark::New {
            continue;
        }
        // (node, next edge to look at)
        let mut stack = vec![(root, 0usize)];
        mark[root] = Mark::Open;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(e) = callees[node].get(*next) {
                *next += 1;
                match mark[e.callee] {
                    Mark::New => {
                        mark[e.callee] = Mark::Open;
                        stack.push((e.callee, 0));
                    }
                    Mark::Open => {
                        let from = stack.iter().position(|(t, _)| *t == e.callee).unwrap_or(0);
                        let mut names: Vec<String> = stack[from..]
                            .iter()
                            .map(|(t, _)| infos[*t].entry_point.clone())
                            .collect();
                        names.push(infos[e.callee].entry_point.clone());
                        return Err(AnalysisError::Cycle(names));
                    }
                    Mark::Done => {}
                }
            } else {
                mark[node] = Mark::Done;
                finished.push(node);
                stack.pop();
            }
        }
    }
    finished.reverse();
    Ok(finished)
}
