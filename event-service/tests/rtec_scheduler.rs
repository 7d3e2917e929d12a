//! The off-line scheduler: textbook task sets whose answers are worked out by hand (below
//! each test), rate propagation through one-way and two-way dependencies, the errors bad
//! input gets, the `RtecScheduler::Scheduler` servant over the ORB (collocated and over
//! TCP) agreeing with the library, and `rtsched` run as a process.

use event_service::rtec::rtec_scheduler::{
    scheduler, CriticalityT, DependencyEnabledTypeT, DependencyTypeT, DispatchingTypeT,
    ImportanceT, InfoTypeT, RtInfoEnabledTypeT, Scheduler, SchedulerRef,
};
use event_service::sched::{
    analyze, liu_layland_bound, response_time, table, AnalysisError, Attributes, Options, Registry,
    RegistryError, SchedulerService, Stream, Verdict,
};
use orb::exception::SystemExceptionKind;
use orb::{CollocationStrategy, Orb, OrbOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

const TWO_WAY: DependencyTypeT = DependencyTypeT::TwoWayCall;
const ONE_WAY: DependencyTypeT = DependencyTypeT::OneWayCall;

fn attrs(period: i32, wcet: u64) -> Attributes {
    Attributes {
        period,
        wcet,
        ..Attributes::default()
    }
}

/// A registry of independent periodic tasks, (name, period, wcet) in 100 ns units.
fn periodic(tasks: &[(&str, i32, u64)]) -> Registry {
    let mut reg = Registry::new();
    for (name, period, wcet) in tasks {
        let h = reg.create(name).unwrap();
        reg.set(h, &attrs(*period, *wcet)).unwrap();
    }
    reg
}

fn responses(reg: &Registry) -> Vec<(String, Option<u64>)> {
    let s = reg.schedule(&Options::default()).unwrap();
    s.tasks
        .iter()
        .map(|t| (t.name.clone(), t.response_time))
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-4
}

#[test]
fn the_liu_layland_bound_is_n_times_the_nth_root_of_two_less_one() {
    assert!(close(liu_layland_bound(1), 1.0));
    assert!(close(liu_layland_bound(2), 0.8284));
    assert!(close(liu_layland_bound(3), 0.7798));
    assert!(close(liu_layland_bound(10), 0.7177));
    // It falls towards ln 2.
    assert!((liu_layland_bound(100_000) - std::f64::consts::LN_2).abs() < 1e-5);
}

#[test]
fn response_time_iterates_to_the_least_fixed_point() {
    // C = 5, deadline 20, higher priority (3, 7) and (3, 12):
    // 11 -> 5 + 6 + 3 = 14 -> 5 + 6 + 6 = 17 -> 5 + 9 + 6 = 20 -> 20.
    let hp = [(3u64, 7u64), (3, 12)];
    assert_eq!(response_time(5, 20, hp.iter().copied()), Some(20));
    // One more unit of work: 12 -> 15 -> 6 + 9 + 6 = 21 > 20.
    assert_eq!(response_time(6, 20, hp.iter().copied()), None);
    // Nothing above: its own time.
    assert_eq!(response_time(4, 10, std::iter::empty()), Some(4));
    // Nothing to do is done at once, however loaded the processor.
    assert_eq!(response_time(0, 10, hp.iter().copied()), Some(0));
}

#[test]
fn a_set_within_the_bound_is_schedulable_at_once() {
    // (T, C) = (4, 1), (5, 1), (10, 2): U = 0.25 + 0.2 + 0.2 = 0.65 <= 0.7798.
    // Response times: 1; 1 + 1 = 2; for c, 2 + ⌈R/4⌉ + ⌈R/5⌉ from 4: 2 + 1 + 1 = 4.
    let reg = periodic(&[("a", 4, 1), ("b", 5, 1), ("c", 10, 2)]);
    let s = reg.schedule(&Options::default()).unwrap();
    assert!(close(s.utilization, 0.65));
    assert_eq!(s.bound_tasks, 3);
    assert!(close(s.bound.unwrap(), 0.7798));
    assert_eq!(s.verdict, Verdict::Schedulable);
    assert_eq!(
        responses(&reg),
        [
            ("a".into(), Some(1)),
            ("b".into(), Some(2)),
            ("c".into(), Some(4))
        ]
    );
    // Shorter period, higher priority: lanes 0, 1, 2 at OS priorities 99, 98, 97.
    let lanes: Vec<(i32, i32)> = s
        .tasks
        .iter()
        .map(|t| (t.preemption_priority, t.os_priority))
        .collect();
    assert_eq!(lanes, [(0, 99), (1, 98), (2, 97)]);
    assert!(s.anomalies.is_empty());
}

#[test]
fn burns_and_wellings_set_fails_the_bound_but_meets_every_deadline() {
    // (7, 3), (12, 3), (20, 5): U = 0.9286 > 0.7798, the bound says nothing. Exactly:
    // R_a = 3; R_b = 3 + 3 = 6; R_c = 20 (worked out in the test above) <= 20.
    let reg = periodic(&[("c", 20, 5), ("a", 7, 3), ("b", 12, 3)]);
    let s = reg.schedule(&Options::default()).unwrap();
    assert!(close(s.utilization, 3.0 / 7.0 + 0.25 + 0.25));
    assert_eq!(s.verdict, Verdict::SchedulableByResponseTime);
    assert!(s.is_schedulable());
    assert_eq!(
        responses(&reg),
        [
            ("c".into(), Some(20)),
            ("a".into(), Some(3)),
            ("b".into(), Some(6))
        ]
    );
    // Rate order, not registration order.
    assert_eq!(s.task("a").unwrap().preemption_priority, 0);
    assert_eq!(s.task("b").unwrap().preemption_priority, 1);
    assert_eq!(s.task("c").unwrap().preemption_priority, 2);
}

#[test]
fn full_utilization_of_harmonic_periods_is_schedulable() {
    // (2, 1), (4, 2): U = 1. R_b = 2 + ⌈R/2⌉: 3 -> 4 -> 4 <= 4.
    let reg = periodic(&[("a", 2, 1), ("b", 4, 2)]);
    let s = reg.schedule(&Options::default()).unwrap();
    assert!(close(s.utilization, 1.0));
    assert_eq!(s.verdict, Verdict::SchedulableByResponseTime);
    assert_eq!(s.task("b").unwrap().response_time, Some(4));
}

#[test]
fn an_overloaded_set_names_exactly_the_task_that_misses() {
    // Burns & Wellings' set with c one unit longer: U = 0.9786 < 1, yet R_c passes 20.
    let reg = periodic(&[("a", 7, 3), ("b", 12, 3), ("c", 20, 6)]);
    let s = reg.schedule(&Options::default()).unwrap();
    assert_eq!(
        s.verdict,
        Verdict::NotSchedulable {
            missed: vec!["c".into()]
        }
    );
    assert_eq!(
        responses(&reg),
        [
            ("a".into(), Some(3)),
            ("b".into(), Some(6)),
            ("c".into(), None)
        ]
    );
    assert!(!s.task("c").unwrap().meets_deadline);
    assert!(s.task("b").unwrap().meets_deadline);
    assert_eq!(s.anomalies.len(), 1);
    assert!(
        s.anomalies[0]
            .description
            .starts_with("UTILIZATION_BOUND_EXCEEDED: c can miss"),
        "{:?}",
        s.anomalies
    );
}

#[test]
fn a_one_way_dependency_gives_the_source_rate_and_two_way_calls_run_in_the_caller() {
    // sensor (10, 1) pushes to filter (one-way: add_dependency(filter, sensor, ONE_WAY));
    // filter calls format twice per dispatch (two-way); format is never dispatched alone.
    let mut reg = periodic(&[("sensor", 100, 10), ("filter", 0, 20), ("format", 0, 5)]);
    let (sensor, filter, format) = (1, 2, 3);
    reg.add_dependency(filter, sensor, 1, ONE_WAY).unwrap();
    reg.add_dependency(filter, format, 2, TWO_WAY).unwrap();
    // Recorded as the caller asked: in filter's RT_Info, filter -> sensor and -> format.
    let deps = reg.get(filter).unwrap().dependencies.clone();
    assert_eq!(deps.len(), 2);
    assert_eq!(
        (deps[0].rt_info, deps[0].rt_info_depended_on),
        (filter, sensor)
    );
    assert_eq!(deps[0].dependency_type, ONE_WAY);

    let s = reg.schedule(&Options::default()).unwrap();
    let f = s.task("filter").unwrap();
    assert_eq!(
        f.streams,
        [Stream {
            period: 100,
            count: 1
        }]
    );
    assert!(f.dispatched);
    // 20 of its own and 2 × 5 in format.
    assert_eq!(f.demand, 30);
    let fmt = s.task("format").unwrap();
    assert!(!fmt.dispatched);
    assert_eq!(fmt.response_time, None);
    assert_eq!(fmt.preemption_priority, f.preemption_priority);
    // Utilization counts format's time once, through filter: (10 + 30) / 100.
    assert!(close(s.utilization, 0.4));
    // sensor and filter share lane 0 (one rate); filter waits for sensor and vice versa.
    assert_eq!(s.lanes.len(), 1);
    assert_eq!(s.task("sensor").unwrap().response_time, Some(40));
    assert_eq!(s.lanes[0].timer_periods, [100]);
}

#[test]
fn rates_merge_as_tao_merges_them() {
    // Two suppliers at 10 and 20.
    let mut reg = periodic(&[("fast", 10, 1), ("slow", 20, 1)]);
    let (fast, slow) = (1, 2);
    let add = |reg: &mut Registry, name: &str, info_type: InfoTypeT| {
        let h = reg.create(name).unwrap();
        reg.set(
            h,
            &Attributes {
                wcet: 1,
                info_type,
                ..Attributes::default()
            },
        )
        .unwrap();
        h
    };
    // An operation with two one-way sources runs once both have pushed (TAO merges an
    // OPERATION's one-way callers conjunctively): over the frame of 20, min(2, 1) = once.
    let both = add(&mut reg, "both", InfoTypeT::Operation);
    reg.add_dependency(both, fast, 1, ONE_WAY).unwrap();
    reg.add_dependency(both, slow, 1, ONE_WAY).unwrap();
    // A disjunction runs on either: both rates.
    let either = add(&mut reg, "either", InfoTypeT::Disjunction);
    reg.add_dependency(either, fast, 1, ONE_WAY).unwrap();
    reg.add_dependency(either, slow, 1, ONE_WAY).unwrap();
    // A consumer behind the disjunction gets its rates (one source passes through). A
    // conjunction fires as often as its scarcest source delivers.
    let behind = add(&mut reg, "behind", InfoTypeT::Operation);
    reg.add_dependency(behind, either, 1, ONE_WAY).unwrap();
    let all = add(&mut reg, "all", InfoTypeT::Conjunction);
    reg.add_dependency(all, fast, 3, ONE_WAY).unwrap();
    reg.add_dependency(all, slow, 1, ONE_WAY).unwrap();
    // A service called two-way by both suppliers runs in both their dispatches.
    let service = add(&mut reg, "service", InfoTypeT::Operation);
    reg.add_dependency(fast, service, 1, TWO_WAY).unwrap();
    reg.add_dependency(slow, service, 2, TWO_WAY).unwrap();

    let s = reg.schedule(&Options::default()).unwrap();
    let streams = |name: &str| s.task(name).unwrap().streams.clone();
    let st = |period, count| Stream { period, count };
    assert_eq!(streams("both"), [st(20, 1)]);
    assert_eq!(streams("either"), [st(10, 1), st(20, 1)]);
    assert_eq!(streams("behind"), [st(10, 1), st(20, 1)]);
    // 3 calls × 2 of fast's per 20 = 6 deliveries, slow's 1: min is 1.
    assert_eq!(streams("all"), [st(20, 1)]);
    assert_eq!(streams("service"), []);
    assert_eq!(s.task("fast").unwrap().demand, 2);
    assert_eq!(s.task("slow").unwrap().demand, 3);
    // A group's own time counts for nothing.
    assert_eq!(s.task("either").unwrap().demand, 0);
    // Priority by the shortest period: either and behind are in fast's lane.
    assert_eq!(s.task("behind").unwrap().preemption_priority, 0);
    assert_eq!(s.task("both").unwrap().preemption_priority, 1);
    // service runs at the lowest of its callers' priorities (TAO keeps the last).
    assert_eq!(s.task("service").unwrap().preemption_priority, 1);
}

#[test]
fn a_two_way_call_into_a_group_is_refused() {
    let mut reg = periodic(&[("caller", 10, 1)]);
    let g = reg.create("group").unwrap();
    reg.set(
        g,
        &Attributes {
            info_type: InfoTypeT::Conjunction,
            ..Attributes::default()
        },
    )
    .unwrap();
    reg.add_dependency(1, g, 1, TWO_WAY).unwrap();
    let err = reg.schedule(&Options::default()).unwrap_err();
    assert_eq!(
        err,
        AnalysisError::TwoWayIntoGroup {
            caller: "caller".into(),
            group: "group".into(),
            kind: "CONJUNCTION"
        }
    );
}

#[test]
fn cycles_are_refused_with_their_path() {
    let mut reg = periodic(&[("a", 10, 1), ("b", 0, 1), ("c", 0, 1), ("d", 0, 1)]);
    reg.add_dependency(1, 2, 1, TWO_WAY).unwrap();
    reg.add_dependency(2, 3, 1, TWO_WAY).unwrap();
    reg.add_dependency(3, 4, 1, TWO_WAY).unwrap();
    assert!(reg.schedule(&Options::default()).is_ok());
    // d calls b again: b -> c -> d -> b.
    reg.add_dependency(4, 2, 1, TWO_WAY).unwrap();
    let err = reg.schedule(&Options::default()).unwrap_err();
    assert_eq!(
        err,
        AnalysisError::Cycle(vec!["b".into(), "c".into(), "d".into(), "b".into()])
    );
    assert_eq!(err.to_string(), "CYCLIC_DEPENDENCIES: b -> c -> d -> b");
    // Disabling the dependency that closes it breaks the cycle.
    reg.set_dependency_enabled(4, 2, 1, TWO_WAY, DependencyEnabledTypeT::DependencyDisabled)
        .unwrap();
    assert!(reg.schedule(&Options::default()).is_ok());
    // One-way dependencies point the other way: x is triggered by y, y by x.
    let mut reg = periodic(&[("x", 10, 1), ("y", 0, 1)]);
    reg.add_dependency(2, 1, 1, ONE_WAY).unwrap();
    assert!(reg.schedule(&Options::default()).is_ok());
    reg.add_dependency(1, 2, 1, ONE_WAY).unwrap();
    assert!(matches!(
        reg.schedule(&Options::default()),
        Err(AnalysisError::Cycle(_))
    ));
}

#[test]
fn a_long_chain_is_analysed_without_exhausting_the_stack() {
    // What a remote client could register: 100 000 operations, each calling the next.
    let mut reg = Registry::new();
    for i in 0..100_000 {
        let h = reg.create(&format!("op{i}")).unwrap();
        reg.set(h, &attrs(if i == 0 { 10_000_000 } else { 0 }, 1))
            .unwrap();
        if i > 0 {
            reg.add_dependency(h - 1, h, 1, TWO_WAY).unwrap();
        }
    }
    let s = reg.schedule(&Options::default()).unwrap();
    assert_eq!(s.task("op0").unwrap().demand, 100_000);
    assert!(s.is_schedulable());
}

#[test]
fn operations_nothing_runs_and_bad_values_are_errors() {
    let reg = periodic(&[("a", 10, 1), ("idle", 0, 1), ("lost", 0, 2)]);
    let err = reg.schedule(&Options::default()).unwrap_err();
    assert_eq!(
        err,
        AnalysisError::Unresolved(vec!["idle".into(), "lost".into()])
    );
    assert_eq!(
        err.to_string(),
        "UNRESOLVED_LOCAL_DEPENDENCIES: idle, lost have no period and nothing that calls them"
    );

    let mut reg = periodic(&[("t", 0, 1)]);
    reg.set(
        1,
        &Attributes {
            threads: 2,
            ..attrs(0, 1)
        },
    )
    .unwrap();
    assert_eq!(
        reg.schedule(&Options::default()).unwrap_err(),
        AnalysisError::ThreadSpecification("t".into())
    );
    reg.set(1, &attrs(-5, 1)).unwrap();
    assert_eq!(
        reg.schedule(&Options::default()).unwrap_err().to_string(),
        "t: negative period -5"
    );

    // A remote-dependant operation nothing local calls is a warning, not an error.
    let mut reg = periodic(&[("a", 10, 1), ("remote", 0, 1)]);
    reg.set(
        2,
        &Attributes {
            info_type: InfoTypeT::RemoteDependant,
            ..attrs(0, 1)
        },
    )
    .unwrap();
    let s = reg.schedule(&Options::default()).unwrap();
    assert!(s.anomalies[0]
        .description
        .starts_with("UNRESOLVED_REMOTE_DEPENDENCIES: remote"));
}

#[test]
fn threads_make_as_many_dispatches_per_period() {
    let mut reg = periodic(&[("pool", 10, 2)]);
    reg.set(
        1,
        &Attributes {
            threads: 3,
            ..attrs(10, 2)
        },
    )
    .unwrap();
    let s = reg.schedule(&Options::default()).unwrap();
    let t = s.task("pool").unwrap();
    assert_eq!(
        t.streams,
        [Stream {
            period: 10,
            count: 3
        }]
    );
    assert!(close(t.utilization, 0.6));
    assert_eq!(t.response_time, Some(6));
}

#[test]
fn rates_fold_into_the_lowest_lane_when_lanes_run_out() {
    // Four rates, two lanes: 4 gets lane 0, 5, 10 and 20 share lane 1.
    let reg = periodic(&[("a", 4, 1), ("b", 5, 1), ("c", 10, 1), ("d", 20, 1)]);
    let options = Options {
        lanes: Some(2),
        ..Options::default()
    };
    let s = reg.schedule(&options).unwrap();
    let lanes: Vec<i32> = s.tasks.iter().map(|t| t.preemption_priority).collect();
    assert_eq!(lanes, [0, 1, 1, 1]);
    assert_eq!(s.lanes.len(), 2);
    assert_eq!(s.lanes[1].timer_periods, [5, 10, 20]);
    // Priorities are no longer rate-monotonic: the bound does not apply.
    assert_eq!(s.bound, None);
    assert!(s.anomalies[0]
        .description
        .starts_with("INSUFFICIENT_THREAD_PRIORITY_LEVELS: 4 rates share 2 lanes"));
    // In a shared lane every task waits for the others: R_b = 1 + 1 (a) + 1 + 1 = 4.
    assert_eq!(s.task("b").unwrap().response_time, Some(4));

    // The OS priority range limits the lanes too, and may run downwards.
    let options = Options {
        max_os_priority: 10,
        min_os_priority: 12,
        lanes: None,
    };
    let s = reg.schedule(&options).unwrap();
    let os: Vec<(i32, i32)> = s
        .lanes
        .iter()
        .map(|l| (l.preemption_priority, l.os_priority))
        .collect();
    assert_eq!(os, [(0, 10), (1, 11), (2, 12)]);
    let configs = s.config_infos();
    assert_eq!(configs.len(), 3);
    assert_eq!(configs[2].thread_priority, 12);
    assert_eq!(configs[2].timer_periods, [10, 20]);
    assert_eq!(
        configs[0].dispatching_type,
        DispatchingTypeT::StaticDispatching
    );
}

#[test]
fn within_a_lane_importance_orders_the_subpriorities() {
    let mut reg = periodic(&[("low", 10, 1), ("high", 10, 1), ("mid", 10, 1)]);
    for (h, imp) in [
        (1, ImportanceT::LowImportance),
        (2, ImportanceT::HighImportance),
        (3, ImportanceT::MediumImportance),
    ] {
        reg.set(
            h,
            &Attributes {
                importance: imp,
                ..attrs(10, 1)
            },
        )
        .unwrap();
    }
    let s = reg.schedule(&Options::default()).unwrap();
    let sub: Vec<(String, i32)> = s
        .tasks
        .iter()
        .map(|t| (t.name.clone(), t.subpriority))
        .collect();
    assert_eq!(
        sub,
        [("low".into(), 0), ("high".into(), 2), ("mid".into(), 1)]
    );
    assert_eq!(s.lanes[0].handles, [2, 3, 1]);
}

#[test]
fn the_critical_set_is_high_criticality_and_above() {
    let mut reg = periodic(&[("c", 10, 2), ("n", 10, 3)]);
    reg.set(
        1,
        &Attributes {
            criticality: CriticalityT::HighCriticality,
            ..attrs(10, 2)
        },
    )
    .unwrap();
    let s = reg.schedule(&Options::default()).unwrap();
    assert!(close(s.critical_utilization, 0.2));
    assert!(close(s.utilization, 0.5));
}

#[test]
fn disabled_rt_infos_and_dependencies_take_no_part() {
    let mut reg = periodic(&[("a", 7, 3), ("b", 12, 3), ("c", 20, 6)]);
    assert!(!reg.schedule(&Options::default()).unwrap().is_schedulable());
    reg.set_enabled(2, RtInfoEnabledTypeT::RtInfoDisabled)
        .unwrap();
    let s = reg.schedule(&Options::default()).unwrap();
    assert!(s.is_schedulable());
    assert_eq!(s.tasks.len(), 2);
}

#[test]
fn registry_errors_are_taos_exceptions() {
    let mut reg = periodic(&[("a", 10, 1), ("b", 0, 1)]);
    assert_eq!(
        reg.create("a"),
        Err(RegistryError::DuplicateName("a".into()))
    );
    assert_eq!(reg.lookup("b"), Ok(2));
    assert_eq!(
        reg.lookup("zz"),
        Err(RegistryError::UnknownName("zz".into()))
    );
    for h in [0, -1, 3, i32::MAX] {
        assert_eq!(reg.get(h).err(), Some(RegistryError::UnknownHandle(h)));
        assert_eq!(
            reg.add_dependency(1, h, 1, TWO_WAY),
            Err(RegistryError::UnknownHandle(h))
        );
    }
    assert!(matches!(
        reg.add_dependency(1, 2, 0, TWO_WAY),
        Err(RegistryError::BadCallCount { calls: 0, .. })
    ));
    assert!(matches!(
        reg.remove_dependency(1, 2, 1, TWO_WAY),
        Err(RegistryError::UnknownDependency { .. })
    ));
    reg.add_dependency(1, 2, 1, TWO_WAY).unwrap();
    // The same handles with another call count or kind are another dependency.
    assert!(reg.remove_dependency(1, 2, 2, TWO_WAY).is_err());
    assert!(reg.remove_dependency(1, 2, 1, ONE_WAY).is_err());
    reg.remove_dependency(1, 2, 1, TWO_WAY).unwrap();
    assert!(reg.get(1).unwrap().dependencies.is_empty());
    // A fresh RT_Info has TAO's initial values.
    let info = reg.get(2).unwrap();
    assert_eq!(info.handle, 2);
    assert_eq!(info.criticality, CriticalityT::VeryLowCriticality);
    assert_eq!(info.importance, ImportanceT::VeryLowImportance);
    assert_eq!(info.info_type, InfoTypeT::Operation);
    assert_eq!(info.enabled, RtInfoEnabledTypeT::RtInfoEnabled);
}

#[test]
fn from_infos_rebuilds_what_a_scheduler_reports() {
    let mut reg = periodic(&[("a", 10, 1), ("b", 0, 2)]);
    reg.add_dependency(1, 2, 3, TWO_WAY).unwrap();
    let copy = Registry::from_infos(reg.infos()).unwrap();
    assert_eq!(copy.infos(), reg.infos());
    let mut bad = reg.infos().to_vec();
    bad[1].handle = 7;
    assert_eq!(
        Registry::from_infos(&bad).unwrap_err(),
        RegistryError::UnknownHandle(7)
    );
    let mut bad = reg.infos().to_vec();
    bad[0].dependencies[0].rt_info_depended_on = 9;
    assert!(Registry::from_infos(&bad).is_err());
}

#[test]
fn tables_parse_to_registries_and_bad_lines_are_named() {
    let reg = table::parse(
        "# a comment\n\
         \n\
         sensor 10ms 1ms high medium -   # trailing comment\n\
         filter 0 500us HIGH - @sensor,format*2\n\
         format 0 0.25 - - -\n",
    )
    .unwrap();
    let sensor = reg.get(1).unwrap();
    assert_eq!(sensor.entry_point, "sensor");
    assert_eq!(sensor.period, 100_000);
    assert_eq!(sensor.worst_case_execution_time, 10_000);
    assert_eq!(sensor.criticality, CriticalityT::HighCriticality);
    assert_eq!(sensor.importance, ImportanceT::MediumImportance);
    let filter = reg.get(2).unwrap();
    assert_eq!(filter.worst_case_execution_time, 5_000);
    assert_eq!(filter.dependencies.len(), 2);
    assert_eq!(filter.dependencies[0].dependency_type, ONE_WAY);
    assert_eq!(filter.dependencies[0].rt_info_depended_on, 1);
    assert_eq!(filter.dependencies[1].number_of_calls, 2);
    assert_eq!(reg.get(3).unwrap().worst_case_execution_time, 2_500);

    let cases = [
        ("a 10\n", "line 1: 2 columns where at least 3 are needed"),
        (
            "a 10 1\nb 10xs 1\n",
            "line 2: period \"10xs\": expected a number",
        ),
        (
            "a 10 150ns\n",
            "line 1: wcet \"150ns\": not a whole number of 100 ns",
        ),
        (
            "a 300s 1\n",
            "line 1: period \"300s\" is longer than the IDL's Period_t",
        ),
        (
            "a 10 1 urgent\n",
            "line 1: criticality \"urgent\": expected very_low",
        ),
        (
            "a 10 1 - - x\n",
            "line 1: \"a\" depends on \"x\", which no line defines",
        ),
        ("a 10 1\na 20 1\n", "line 2: task \"a\" is defined twice"),
        (
            "a 10 1 - - b*0\nb 0 1\n",
            "line 1: dependency \"b*0\": the number of calls",
        ),
        (
            "a 10 1 - - b c\n",
            "line 1: 7 columns where at most 6 are allowed",
        ),
    ];
    for (text, want) in cases {
        let err = table::parse(text).unwrap_err().to_string();
        assert!(
            err.starts_with(want),
            "{text:?}: got {err:?}, want {want:?}"
        );
    }
    assert_eq!(table::millis(0), "0");
    assert_eq!(table::millis(70_000), "7");
    assert_eq!(table::millis(2_500), "0.25");
    assert_eq!(table::millis(12_345_678), "1234.5678");
}

// ---------------------------------------------------------------------------------------
// The servant over the ORB.

fn server_orb() -> Orb {
    let mut options = OrbOptions::default();
    options
        .parse_args(["-ORBendPoint".into(), "giop:tcp:127.0.0.1:0".into()])
        .unwrap();
    Orb::init(options).unwrap()
}

/// An ORB whose calls all go over TCP, even to its own objects.
fn remote_orb() -> Orb {
    Orb::init(OrbOptions {
        collocation: CollocationStrategy::None,
        ..OrbOptions::default()
    })
    .unwrap()
}

fn set(s: &SchedulerRef, h: i32, period: i32, wcet: u64) {
    s.set(
        h,
        CriticalityT::MediumCriticality,
        wcet,
        wcet,
        wcet,
        period,
        ImportanceT::MediumImportance,
        0,
        0,
        InfoTypeT::Operation,
    )
    .unwrap();
}

/// Everything the IDL offers, through `s`, checked against the library's own answer for
/// the same RT_Infos.
fn exercise(s: &SchedulerRef, service: &SchedulerService) {
    let a = s.create("a").unwrap();
    let b = s.create("b").unwrap();
    let c = s.create("c").unwrap();
    assert_eq!((a, b, c), (1, 2, 3));
    assert!(matches!(
        s.create("b"),
        Err(scheduler::CreateError::DuplicateName(_))
    ));
    assert_eq!(s.lookup("c").unwrap(), 3);
    assert!(matches!(
        s.lookup("nobody"),
        Err(scheduler::LookupError::UnknownTask(_))
    ));
    assert!(matches!(s.get(0), Err(scheduler::GetError::UnknownTask(_))));
    set(s, a, 70_000, 30_000);
    set(s, b, 120_000, 30_000);
    set(s, c, 200_000, 50_000);
    assert_eq!(s.get(b).unwrap().period, 120_000);
    // reset replaces the attributes as set does (one tuple per RT_Info).
    let reset = |h: i32, wcet: u64| {
        s.reset(
            h,
            CriticalityT::LowCriticality,
            wcet,
            wcet,
            wcet,
            200_000,
            ImportanceT::LowImportance,
            0,
            0,
            InfoTypeT::Operation,
        )
    };
    reset(c, 50_000).unwrap();
    assert_eq!(s.get(c).unwrap().criticality, CriticalityT::LowCriticality);
    assert!(matches!(
        reset(99, 1),
        Err(scheduler::ResetError::UnknownTask(_))
    ));

    // Nothing computed yet.
    assert!(matches!(
        s.priority(a),
        Err(scheduler::PriorityError::NotScheduled(_))
    ));
    assert!(matches!(
        s.last_scheduled_priority(),
        Err(scheduler::LastScheduledPriorityError::NotScheduled(_))
    ));
    assert!(matches!(
        s.get_config_infos(),
        Err(scheduler::GetConfigInfosError::NotScheduled(_))
    ));
    assert!(s.get_config_info_set().unwrap().is_empty());

    let (infos, deps, configs, anomalies) = s.compute_scheduling(1, 99).unwrap();
    assert_eq!(infos.len(), 3);
    assert!(deps.is_empty());
    assert!(anomalies.is_empty());
    // The library's answer for the same RT_Infos.
    let local = analyze(
        &infos,
        &Options {
            max_os_priority: 99,
            min_os_priority: 1,
            lanes: None,
        },
    )
    .unwrap();
    assert_eq!(local.verdict, Verdict::SchedulableByResponseTime);
    assert_eq!(service.servant().schedule().unwrap(), local);
    assert_eq!(configs, local.config_infos());
    assert_eq!(configs.len(), 3);
    for row in &local.tasks {
        let want = (row.os_priority, row.subpriority, row.preemption_priority);
        assert_eq!(s.priority(row.handle).unwrap(), want);
        assert_eq!(s.entry_point_priority(&row.name).unwrap(), want);
        let info = s.get(row.handle).unwrap();
        assert_eq!(
            (
                info.priority,
                info.preemption_subpriority,
                info.preemption_priority
            ),
            want
        );
    }
    assert_eq!(s.priority(c).unwrap(), (97, 0, 2));
    assert_eq!(s.last_scheduled_priority().unwrap(), 2);
    assert_eq!(
        s.dispatch_configuration(1).unwrap(),
        (98, DispatchingTypeT::StaticDispatching)
    );
    assert!(matches!(
        s.dispatch_configuration(3),
        Err(scheduler::DispatchConfigurationError::UnknownPriorityLevel(
            _
        ))
    ));
    assert_eq!(s.get_config_infos().unwrap(), configs);
    assert_eq!(s.get_config_info_set().unwrap(), configs);
    assert!(matches!(
        s.entry_point_priority("nobody"),
        Err(scheduler::EntryPointPriorityError::UnknownTask(_))
    ));

    // Dependencies, and their errors.
    let d = s.create("d").unwrap();
    assert!(matches!(
        s.add_dependency(a, 42, 1, TWO_WAY),
        Err(scheduler::AddDependencyError::UnknownTask(_))
    ));
    match s.add_dependency(a, d, 0, TWO_WAY) {
        Err(scheduler::AddDependencyError::System(e)) => {
            assert_eq!(e.kind, SystemExceptionKind::BAD_PARAM)
        }
        other => panic!("expected BAD_PARAM, got {other:?}"),
    }
    s.add_dependency(a, d, 1, TWO_WAY).unwrap();
    assert!(matches!(
        s.remove_dependency(a, d, 2, TWO_WAY),
        Err(scheduler::RemoveDependencyError::UnknownTask(_))
    ));
    assert_eq!(s.get_dependency_set().unwrap().len(), 1);
    // A change forgets the schedule.
    assert!(matches!(
        s.priority(a),
        Err(scheduler::PriorityError::NotScheduled(_))
    ));

    // A cycle: no schedule, an ERROR anomaly that names it.
    s.add_dependency(d, a, 1, TWO_WAY).unwrap();
    let (_, _, configs, anomalies) = s.compute_scheduling(1, 99).unwrap();
    assert!(configs.is_empty());
    assert_eq!(anomalies.len(), 1);
    assert_eq!(
        anomalies[0].severity,
        event_service::rtec::rtec_scheduler::AnomalySeverity::AnomalyError
    );
    assert_eq!(anomalies[0].description, "CYCLIC_DEPENDENCIES: a -> d -> a");
    assert!(matches!(
        s.dispatch_configuration(0),
        Err(scheduler::DispatchConfigurationError::NotScheduled(_))
    ));
    s.set_dependency_enable_state(d, a, 1, TWO_WAY, DependencyEnabledTypeT::DependencyDisabled)
        .unwrap();
    assert!(matches!(
        s.set_dependency_enable_state(d, b, 1, TWO_WAY, DependencyEnabledTypeT::DependencyEnabled),
        Err(scheduler::SetDependencyEnableStateError::UnknownTask(_))
    ));
    assert!(s.recompute_scheduling(1, 99).unwrap().is_empty());

    // An overload: UTILIZATION_BOUND_EXCEEDED, but the priorities are kept.
    set(s, c, 200_000, 60_000);
    assert!(matches!(
        s.compute_scheduling(1, 99),
        Err(scheduler::ComputeSchedulingError::UtilizationBoundExceeded(
            _
        ))
    ));
    assert_eq!(
        service.servant().schedule().unwrap().verdict,
        Verdict::NotSchedulable {
            missed: vec!["c".into()]
        }
    );
    assert_eq!(s.priority(c).unwrap().2, 2);
    // Disabling b makes it feasible again.
    s.set_rt_info_enable_state(b, RtInfoEnabledTypeT::RtInfoDisabled)
        .unwrap();
    assert!(s.recompute_scheduling(1, 99).is_ok());
    assert!(matches!(
        s.priority(b),
        Err(scheduler::PriorityError::NotScheduled(_))
    ));

    // Sequences apply whole or not at all.
    let mut infos = s.get_rt_info_set().unwrap();
    infos[0].worst_case_execution_time = 10_000;
    let mut bogus = infos[0].clone();
    bogus.handle = 99;
    assert!(matches!(
        s.set_seq(&[infos[0].clone(), bogus]),
        Err(scheduler::SetSeqError::UnknownTask(_))
    ));
    assert_eq!(s.get(a).unwrap().worst_case_execution_time, 30_000);
    s.set_seq(&infos[..1]).unwrap();
    assert_eq!(s.get(a).unwrap().worst_case_execution_time, 10_000);
    // replace_seq resets everything it does not name to create's values.
    s.replace_seq(&infos[..1]).unwrap();
    assert_eq!(s.get(c).unwrap().period, 0);
    assert!(s.get(d).unwrap().dependencies.is_empty());
    assert_eq!(s.get(a).unwrap().dependencies.len(), 1, "a was named: kept");
    assert_eq!(s.get(c).unwrap().entry_point, "c");
}

#[test]
fn the_servant_collocated() {
    let orb = server_orb();
    let service = SchedulerService::start(&orb, None).unwrap();
    assert!(service.reference().is_collocated());
    exercise(service.reference(), &service);
    orb.shutdown(true);
}

#[test]
fn the_servant_over_tcp() {
    let server = server_orb();
    let client = remote_orb();
    let service = SchedulerService::start(&server, None).unwrap();
    let ior = service.object().to_ior_string().unwrap();
    let s = SchedulerRef::narrow(&client.string_to_object(&ior).unwrap())
        .unwrap()
        .unwrap();
    assert!(!s.is_collocated());
    exercise(&s, &service);
    client.shutdown(true);
    server.shutdown(true);
}

#[test]
fn the_servant_caps_the_lanes_it_was_started_with() {
    let orb = server_orb();
    let service = SchedulerService::start(&orb, Some(2)).unwrap();
    let s = service.reference();
    for (name, period) in [("a", 40), ("b", 50), ("c", 100)] {
        let h = s.create(name).unwrap();
        set(s, h, period, 1);
    }
    let (_, _, configs, anomalies) = s.compute_scheduling(1, 99).unwrap();
    assert_eq!(configs.len(), 2);
    assert!(anomalies[0]
        .description
        .starts_with("INSUFFICIENT_THREAD_PRIORITY_LEVELS"));
    assert_eq!(s.entry_point_priority("c").unwrap().2, 1);
    orb.shutdown(true);
}

// ---------------------------------------------------------------------------------------
// rtsched, run as a process.

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/rtsched")
        .join(name)
}

fn rtsched(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rtsched"))
        .args(args)
        .output()
        .expect("run rtsched");
    (
        out.status.code().expect("rtsched exited by a signal"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn line_starting<'a>(text: &'a str, start: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start:?} in:\n{text}"))
}

fn columns(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

#[test]
fn rtsched_prints_the_schedule_and_exits_0_when_schedulable() {
    let path = fixture("burns.tasks");
    let (code, out, err) = rtsched(&[path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    // task period wcet demand crit imp lane os sub response deadline
    assert_eq!(
        columns(line_starting(&out, "a ")),
        ["a", "7", "3", "3", "high", "medium", "0", "99", "0", "3", "met"]
    );
    assert_eq!(
        columns(line_starting(&out, "c ")),
        ["c", "20", "5", "5", "low", "low", "2", "97", "0", "20", "met"]
    );
    assert_eq!(
        line_starting(&out, "lane 1"),
        "lane 1: os priority 98, utilization 0.2500, timers [12]"
    );
    assert_eq!(
        line_starting(&out, "utilization"),
        "utilization 0.9286 (critical set 0.4286)"
    );
    assert_eq!(
        line_starting(&out, "Liu & Layland"),
        "Liu & Layland bound for 3 tasks: 0.7798 (exceeded)"
    );
    assert_eq!(
        line_starting(&out, "verdict"),
        "verdict: schedulable (bound inconclusive; every response time is within its deadline)"
    );
    // The same as the library says for the same table.
    let reg = table::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        out,
        table::render(&reg.schedule(&Options::default()).unwrap())
    );

    let (code, out, _) = rtsched(&[fixture("pipeline.tasks").to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(
        columns(line_starting(&out, "filter")),
        ["filter", "10", "2", "3", "high", "medium", "0", "99", "1", "4", "met"]
    );
    assert_eq!(
        columns(line_starting(&out, "format")),
        ["format", "-", "0.5", "0.5", "medium", "very_low", "0", "99", "0", "-", "in", "callers"]
    );
    assert_eq!(
        line_starting(&out, "verdict"),
        "verdict: schedulable (within the Liu & Layland bound)"
    );
}

#[test]
fn rtsched_exits_1_and_names_the_task_that_misses() {
    let (code, out, _) = rtsched(&[fixture("overload.tasks").to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        columns(line_starting(&out, "c ")),
        ["c", "20", "6", "6", "low", "low", "2", "97", "0", ">20", "MISSED"]
    );
    assert_eq!(
        line_starting(&out, "verdict"),
        "verdict: NOT schedulable: c can miss its deadline"
    );
    // One lane for three rates: a and b now wait for c too and miss (R_a: 3 + 3 + 5 = 11
    // > 7; R_b: 3 + 6 + 5 = 14 > 12); c waited for both anyway and still meets 20.
    let (code, out, _) = rtsched(&[fixture("burns.tasks").to_str().unwrap(), "--lanes", "1"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        line_starting(&out, "Liu & Layland"),
        "Liu & Layland bound: does not apply (rates share lanes)"
    );
    assert_eq!(
        line_starting(&out, "verdict"),
        "verdict: NOT schedulable: a, b can miss their deadlines"
    );
}

#[test]
fn rtsched_exits_2_on_bad_input_with_the_reason() {
    let (code, out, err) = rtsched(&[fixture("cycle.tasks").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(
        err.trim_end(),
        "rtsched: CYCLIC_DEPENDENCIES: a -> b -> c -> a"
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.tasks");
    std::fs::write(&bad, "a 10 1\n# fine so far\nb 10 1 - - nobody\n").unwrap();
    let (code, _, err) = rtsched(&[bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim_end(),
        format!(
            "rtsched: {}: line 3: \"b\" depends on \"nobody\", which no line defines",
            bad.display()
        )
    );
    let (code, _, err) = rtsched(&[dir.path().join("missing").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("missing"), "{err}");
    let (code, _, _) = rtsched(&[]);
    assert_eq!(code, 2, "clap's usage error");
}

#[test]
fn rtsched_analyses_a_running_scheduler() {
    let orb = server_orb();
    let service = SchedulerService::start(&orb, None).unwrap();
    let reg = table::parse(&std::fs::read_to_string(fixture("pipeline.tasks")).unwrap()).unwrap();
    // Registered through the IDL, as an application would.
    let s = service.reference();
    for info in reg.infos() {
        assert_eq!(s.create(&info.entry_point).unwrap(), info.handle);
    }
    s.set_seq(reg.infos()).unwrap();
    for d in reg.dependencies() {
        s.add_dependency(
            d.rt_info,
            d.rt_info_depended_on,
            d.number_of_calls,
            d.dependency_type,
        )
        .unwrap();
    }
    let ior = service.object().to_ior_string().unwrap();
    let (code, out, err) = rtsched(&["--scheduler", &ior]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        table::render(&reg.schedule(&Options::default()).unwrap())
    );
    // The analysis ran in rtsched: the scheduler computed nothing.
    assert!(matches!(
        s.last_scheduled_priority(),
        Err(scheduler::LastScheduledPriorityError::NotScheduled(_))
    ));
    let (code, _, err) = rtsched(&["--scheduler", "corbaloc::127.0.0.1:1/Nothing"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("rtsched: "), "{err}");
    orb.shutdown(true);
}

/// The schedule drives the channel's priority lanes: a consumer whose QOS names the fast
/// task's RT_Info is dispatched in lane 0, the slow one's in the lower lane, one naming no
/// known RT_Info in the lowest.
#[test]
fn a_schedule_puts_each_consumer_in_its_rt_infos_lane() {
    use event_service::rtec::rtec_event_channel_admin::{
        ConsumerAdmin, EventChannel, ProxyPushSupplier,
    };
    use event_service::rtec::rtec_event_comm::{
        push_consumer, Event, PushConsumer, PushConsumerRef,
    };
    use event_service::rtec::{ConsumerQosBuilder, Dispatching, RtecChannel, RtecOptions};
    use orb::exception::SystemException;
    use std::sync::Arc;

    struct Quiet;
    impl PushConsumer for Quiet {
        fn push(&self, _: &[Event]) -> Result<(), SystemException> {
            Ok(())
        }
        fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
            Ok(())
        }
    }

    let reg = periodic(&[("fast", 10_000, 1_000), ("slow", 100_000, 5_000)]);
    let (fast, slow) = (reg.lookup("fast").unwrap(), reg.lookup("slow").unwrap());
    let schedule = reg.schedule(&Options::default()).unwrap();
    assert_eq!(schedule.lanes.len(), 2);

    let orb = Orb::init(OrbOptions::default()).unwrap();
    let mut options = RtecOptions::default();
    options.dispatching(Dispatching::Priority);
    options.priority_lanes = schedule.lanes.len();
    options.lane_resolver(schedule.lane_resolver());
    let channel = RtecChannel::start(&orb, options).unwrap();
    let consumer = PushConsumerRef::unchecked_narrow(
        orb.activate(&orb.root_poa(), Arc::new(push_consumer::Tie::new(Quiet)))
            .unwrap(),
    );
    for rt_info in [slow, fast, 999] {
        let proxy = channel
            .reference()
            .for_consumers()
            .unwrap()
            .obtain_push_supplier()
            .unwrap();
        let qos = ConsumerQosBuilder::new().insert(0, 20, rt_info).build();
        proxy.connect_push_consumer(&consumer, &qos).unwrap();
    }
    let lanes: Vec<usize> = channel.stats().consumers.iter().map(|c| c.lane).collect();
    assert_eq!(lanes, vec![1, 0, 1]);
    channel.destroy();
    orb.shutdown(true);
}
