//! The MSHN components in one process, through the channel and the naming service: the
//! events a job causes, in order; admission control's refusal and its reason; a daemon
//! killed mid-job and the job restarted elsewhere exactly once; a resource drop; the RRD's
//! store across a restart.

use mshn::cl::Job;
use mshn::idl::mshn as m;
use mshn::system::{System, SystemOptions};
use mshn::trace::{Tracer, JOB_TYPES};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn system(platforms: usize) -> System {
    System::start(SystemOptions {
        platforms,
        // 200 ms without a heartbeat before a platform is dead: a busy machine stalling a
        // heartbeat thread must not look like the crash a test did not cause.
        misses: 10,
        ..SystemOptions::default()
    })
    .unwrap()
}

fn tracer(s: &System) -> Tracer {
    Tracer::start(&s.link, &JOB_TYPES).unwrap()
}

#[test]
fn a_job_causes_the_seven_event_path_in_order() {
    let s = system(2);
    let t = tracer(&s);
    let job = s.cl.submit(&Job::new("true", &[])).unwrap();
    let st = s.cl.wait(job, WAIT).unwrap();
    assert_eq!(st.exits.len(), 1, "{st:?}");
    assert_eq!(st.exits[0].2, 0, "{st:?}");
    // The result reaches the tracer through the same channel; wait for it there too.
    t.wait_for(job, m::EXEC_RESULT_EVENT, 1, WAIT).unwrap();
    let path = t.path_of(job);
    // The two questions go out together, then each answer follows its question; which of
    // the two answers comes first is up to the channel and the two servers.
    let expected_a = [
        "JobRequest",
        "StatusQuery",
        "StatusAnswer",
        "RequirementsQuery",
        "RequirementsAnswer",
        "Schedule",
        "ExecRequest",
        "ExecStarted",
        "ExecResult",
    ];
    let expected_b = [
        "JobRequest",
        "StatusQuery",
        "RequirementsQuery",
        "StatusAnswer",
        "RequirementsAnswer",
        "Schedule",
        "ExecRequest",
        "ExecStarted",
        "ExecResult",
    ];
    let expected_c = [
        "JobRequest",
        "StatusQuery",
        "RequirementsQuery",
        "RequirementsAnswer",
        "StatusAnswer",
        "Schedule",
        "ExecRequest",
        "ExecStarted",
        "ExecResult",
    ];
    assert!(
        path == expected_a || path == expected_b || path == expected_c,
        "{path:?}"
    );
    // Who sent each (or whom it is for): the CL, the SA twice, the RSS, the RRD; the
    // schedule and the daemon's reports addressed to the job's CL, the exec request to the
    // platform.
    let seen: Vec<_> = t
        .seen()
        .into_iter()
        .filter(|x| x.job == Some(job))
        .collect();
    let platform = st.platform;
    for x in &seen {
        let want = match x.ty {
            m::JOB_REQUEST_EVENT => mshn::CL_SOURCE,
            m::STATUS_QUERY_EVENT | m::REQUIREMENTS_QUERY_EVENT => mshn::SA_SOURCE,
            m::STATUS_ANSWER_EVENT => mshn::RSS_SOURCE,
            m::REQUIREMENTS_ANSWER_EVENT => mshn::RRD_SOURCE,
            m::SCHEDULE_EVENT | m::EXEC_STARTED_EVENT | m::EXEC_RESULT_EVENT => {
                mshn::client_of(job)
            }
            _ => platform,
        };
        assert_eq!(x.source, want, "{}", mshn::wire::type_name(x.ty));
    }
}

#[test]
fn admission_control_refuses_a_job_that_would_overload_every_platform() {
    let s = system(1);
    let mut hog = Job::new("sleep", &["5"]);
    hog.cpu_share = 0.7;
    let first = s.cl.submit(&hog).unwrap();
    s.cl.wait_for(first, WAIT, |j| !j.starts.is_empty())
        .unwrap();
    let second = s.cl.submit(&hog).unwrap();
    let st = s.cl.wait(second, WAIT).unwrap();
    let reason = st.refused.expect("the second job was admitted");
    assert_eq!(
        reason, "no platform admits it (101: utilization 1.40 > 1.00)",
        "{reason}"
    );
    assert!(st.starts.is_empty());
    // A job that fits is still admitted beside the first.
    let mut small = Job::new("true", &[]);
    small.cpu_share = 0.3;
    let third = s.cl.submit(&small).unwrap();
    let st = s.cl.wait(third, WAIT).unwrap();
    assert!(st.refused.is_none(), "{st:?}");
    assert_eq!(st.starts.len(), 1);
    // Memory counts too.
    let mut fat = Job::new("true", &[]);
    fat.memory_mb = 5000;
    let st = s.cl.wait(s.cl.submit(&fat).unwrap(), WAIT).unwrap();
    assert_eq!(
        st.refused.as_deref(),
        Some("no platform admits it (101: memory 5064 > 4096 MB)")
    );
}

#[test]
fn a_learned_run_time_longer_than_the_deadline_is_refused() {
    let s = system(1);
    s.rrd.record("sleep", 2_000_000).unwrap();
    let mut j = Job::new("sleep", &["2"]);
    j.deadline = Duration::from_secs(1);
    let st = s.cl.wait(s.cl.submit(&j).unwrap(), WAIT).unwrap();
    assert_eq!(
        st.refused.as_deref(),
        Some("its measured run time 2000000 us exceeds its deadline 1000000 us")
    );
}

#[test]
fn a_daemon_killed_mid_job_restarts_the_job_elsewhere_exactly_once() {
    let s = system(2);
    let t = tracer(&s);
    let job = s.cl.submit(&Job::new("sleep", &["0.3"])).unwrap();
    let st = s.cl.wait_for(job, WAIT, |j| !j.starts.is_empty()).unwrap();
    let first = st.platform;
    s.daemon(first).unwrap().kill();
    let st = s.cl.wait(job, WAIT).unwrap();
    assert_eq!(st.attempt, 2, "{st:?}");
    assert_ne!(st.platform, first);
    let starts: Vec<_> = st.starts.iter().map(|x| (x.attempt, x.platform)).collect();
    assert_eq!(starts, [(1, first), (2, st.platform)]);
    assert_eq!(st.exits, vec![(2, st.platform, 0, st.exits[0].3)]);
    assert_eq!(st.moves.len(), 1, "{st:?}");
    assert!(st.moves[0].starts_with(&format!("moved from {first}: no heartbeat")));
    t.wait_for(job, m::EXEC_RESULT_EVENT, 1, WAIT).unwrap();
    // On the channel: one alarm, one more schedule, one more exec request.
    let seen = t.seen();
    let count = |ty| seen.iter().filter(|x| x.ty == ty).count();
    assert_eq!(count(m::RESOURCE_ALARM_EVENT), 1);
    assert_eq!(count(m::SCHEDULE_EVENT), 2);
    assert_eq!(count(m::EXEC_REQUEST_EVENT), 2);
    assert_eq!(count(m::EXEC_STARTED_EVENT), 2);
    let path = t.path_of(job);
    let tail: Vec<_> = path.iter().skip_while(|x| **x != "ExecStarted").collect();
    assert_eq!(
        tail,
        [
            &"ExecStarted",
            &"Schedule",
            &"ExecRequest",
            &"ExecStarted",
            &"ExecResult"
        ]
    );
}

#[test]
fn a_resource_drop_moves_the_excess_and_keeps_the_rest() {
    let s = system(2);
    let mut j = Job::new("sleep", &["0.5"]);
    j.cpu_share = 0.4;
    // Least loaded first: the jobs alternate, two on each platform.
    let jobs: Vec<_> = (0..4).map(|_| s.cl.submit(&j).unwrap()).collect();
    for &id in &jobs {
        s.cl.wait_for(id, WAIT, |x| !x.starts.is_empty()).unwrap();
    }
    let on = |p| {
        jobs.iter()
            .filter(|&&id| s.cl.state(id).unwrap().platform == p)
            .count()
    };
    assert_eq!((on(101), on(102)), (2, 2));
    // 101 drops to half a CPU: one of its two jobs (the later) must go — but 102 is full
    // too (0.8 + 0.4 > 1.0), so it is refused with both reasons.
    s.daemon(101).unwrap().set_resources(0.5, 4096);
    let later = *jobs
        .iter()
        .filter(|&&id| s.cl.state(id).unwrap().platform == 101)
        .max()
        .unwrap();
    let st = s.cl.wait_for(later, WAIT, |x| x.attempt == 2).unwrap();
    assert_eq!(
        st.refused.as_deref(),
        Some(
            "moved from 101: CPU 1.00 -> 0.50, memory 4096 -> 4096 MB; \
             no platform admits it (102: utilization 1.20 > 1.00)"
        ),
        "{st:?}"
    );
    for &id in &jobs {
        if id != later {
            assert_eq!(s.cl.state(id).unwrap().attempt, 1);
        }
    }
}

#[test]
fn the_rrd_remembers_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rrd.cdr");
    {
        let s = System::start(SystemOptions {
            platforms: 1,
            rrd_file: Some(file.clone()),
            misses: 10,
            ..SystemOptions::default()
        })
        .unwrap();
        for _ in 0..3 {
            let st =
                s.cl.wait(s.cl.submit(&Job::new("true", &[])).unwrap(), WAIT)
                    .unwrap();
            assert_eq!(st.exits.len(), 1);
        }
        // The result reaches the RRD through the channel; wait for the third.
        let end = std::time::Instant::now() + WAIT;
        while s.rrd.learned("true").runs < 3 {
            assert!(std::time::Instant::now() < end);
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let s = System::start(SystemOptions {
        platforms: 1,
        rrd_file: Some(file.clone()),
        misses: 10,
        ..SystemOptions::default()
    })
    .unwrap();
    let l = s.rrd.learned("true");
    assert_eq!(l.runs, 3);
    assert!(l.mean_run_us > 0);
    drop(s);
    // A damaged store is an error that says so, not a panic and not an empty table.
    std::fs::write(&file, [1, 0, 0]).unwrap();
    let err = mshn::rrd::load(&file).unwrap_err().0;
    assert!(err.contains("not an RRD store"), "{err}");
}

#[test]
fn a_restarted_channel_is_found_again_through_the_naming_service() {
    let mut s = system(2);
    let st =
        s.cl.wait(s.cl.submit(&Job::new("true", &[])).unwrap(), WAIT)
            .unwrap();
    assert_eq!(st.exits.len(), 1);
    let before = s.channel.stats();
    // CL, SA, RSS, RRD and two daemons: six consumers and six suppliers.
    assert_eq!((before.consumers.len(), before.suppliers), (6, 6));
    s.restart_channel().unwrap();
    // Each component's prober finds the old channel gone and the new one by name.
    let end = std::time::Instant::now() + WAIT;
    loop {
        let now = s.channel.stats();
        if (now.consumers.len(), now.suppliers) == (6, 6) {
            break;
        }
        assert!(std::time::Instant::now() < end, "{now:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
    // The RSS kept its platforms; a job runs through the new channel, once.
    let st =
        s.cl.wait(s.cl.submit(&Job::new("true", &[])).unwrap(), WAIT)
            .unwrap();
    assert_eq!(st.starts.len(), 1, "{st:?}");
    assert_eq!(st.exits.len(), 1, "{st:?}");
    assert!(s.channel.stats().pushed > 0);
}

#[test]
fn a_malformed_event_is_ignored_and_the_system_goes_on() {
    let s = system(1);
    let t = tracer(&s);
    let evil = mshn::bus::Bus::connect(
        &s.link,
        "evil",
        None,
        event_service::rtec::SupplierQosBuilder::new().build(),
        std::sync::Arc::new(|_: &event_service::rtec::rtec_event_comm::Event| {}),
    )
    .unwrap();
    // A heartbeat's struct under the job request's type: the SA cannot decode it as one.
    let wrong = m::Heartbeat {
        platform: 7,
        seq: u64::MAX,
    };
    evil.publish(mshn::CL_SOURCE, m::JOB_REQUEST_EVENT, &wrong)
        .unwrap();
    let st =
        s.cl.wait(s.cl.submit(&Job::new("true", &[])).unwrap(), WAIT)
            .unwrap();
    assert_eq!((st.starts.len(), st.exits.len()), (1, 1), "{st:?}");
    t.wait_for(st.job, m::EXEC_RESULT_EVENT, 1, WAIT).unwrap();
    // The bad request went no further than the SA: one query of each kind, for the job.
    let seen = t.seen();
    let count = |ty| seen.iter().filter(|x| x.ty == ty).count();
    assert_eq!(count(m::JOB_REQUEST_EVENT), 2);
    assert_eq!(count(m::STATUS_QUERY_EVENT), 1);
    assert_eq!(count(m::REQUIREMENTS_QUERY_EVENT), 1);
}

#[test]
fn a_reservation_ends_at_the_jobs_deadline() {
    let s = system(1);
    // Admitted with a 2 s deadline; it runs far longer (and its exit is not heard of in
    // time), as a job whose exit report was lost would look to the SA.
    let mut long = Job::new("sleep", &["30"]);
    long.cpu_share = 0.8;
    long.deadline = Duration::from_secs(2);
    let first = s.cl.submit(&long).unwrap();
    s.cl.wait_for(first, WAIT, |j| !j.starts.is_empty())
        .unwrap();
    // Within its deadline the share is taken: another 0.8 does not fit.
    let second = s.cl.wait(s.cl.submit(&long).unwrap(), WAIT).unwrap();
    assert_eq!(
        second.refused.as_deref(),
        Some("no platform admits it (101: utilization 1.60 > 1.00)")
    );
    // Past it, the reservation is over and the platform admits the next one.
    std::thread::sleep(Duration::from_millis(2200));
    let third = s.cl.submit(&long).unwrap();
    let st =
        s.cl.wait_for(third, WAIT, |j| !j.starts.is_empty() || j.is_done())
            .unwrap();
    assert!(st.refused.is_none(), "{st:?}");
    assert_eq!(st.platform, 101);
    assert_eq!(s.sa.admitted_on(101), 1, "only the third is counted now");
}
