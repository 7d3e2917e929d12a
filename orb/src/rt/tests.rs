use super::*;
use crate::iop::ComponentId;
use crate::{OptionsError, OrbOptions};

#[test]
fn the_priority_context_is_an_encapsulated_short_in_either_byte_order() {
    for p in [0, 1, 10_000, MAX_PRIORITY] {
        let c = priority_context(p);
        assert_eq!(c.id, ServiceId::RT_CORBA_PRIORITY);
        assert_eq!(c.id.0, 10);
        // Byte-order octet, one octet of padding, the short.
        assert_eq!(c.data.len(), 4);
        assert_eq!(read_priority_context(&c.data), Some(p));
    }
    // As a big-endian peer (TAO on SPARC, say) writes 300.
    assert_eq!(read_priority_context(&[0, 0, 0x01, 0x2c]), Some(300));
    assert_eq!(read_priority_context(&[1, 0, 0x2c, 0x01]), Some(300));
    // Not priorities, or not a short: ignored (the request runs at the server's priority).
    assert_eq!(read_priority_context(&[0, 0, 0xff, 0xff]), None);
    assert_eq!(read_priority_context(&[0, 0, 0x01]), None);
    assert_eq!(read_priority_context(&[7, 0, 0, 1]), None);
    assert_eq!(read_priority_context(&[]), None);
}

#[test]
fn the_priority_model_travels_in_tag_policies() {
    for policy in [
        PriorityModelPolicy {
            model: PriorityModel::ServerDeclared,
            server_priority: 300,
        },
        PriorityModelPolicy {
            model: PriorityModel::ClientPropagated,
            server_priority: 0,
        },
    ] {
        let c = policy.to_component();
        assert_eq!(c.tag, ComponentId::POLICIES);
        assert_eq!(
            PriorityModelPolicy::from_component_data(&c.data),
            Some(policy)
        );
    }
    // Big-endian, two policies, ours second: a PolicyValue of another type is skipped.
    let data = [
        0, 0, 0, 0, // byte order, padding
        0, 0, 0, 2, // two policies
        0, 0, 0, 41, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 9, // THREADPOOL_POLICY_TYPE, id 9
        0, 0, 0, 40, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1, // model: SERVER_DECLARED
    ];
    // The priority: the pvalue above is cut short (8 octets, no priority), so it does not
    // decode; with its priority it does.
    assert_eq!(PriorityModelPolicy::from_component_data(&data), None);
    let mut fixed = data.to_vec();
    fixed[31] = 10;
    fixed.extend([0, 7]);
    assert_eq!(
        PriorityModelPolicy::from_component_data(&fixed),
        Some(PriorityModelPolicy {
            model: PriorityModel::ServerDeclared,
            server_priority: 7
        })
    );
    assert_eq!(PriorityModelPolicy::from_component_data(&[]), None);
}

#[test]
fn the_request_priority_follows_the_model() {
    let client = PriorityModelPolicy {
        model: PriorityModel::ClientPropagated,
        server_priority: 5,
    };
    assert_eq!(client.request_priority(Some(100)), 100);
    assert_eq!(client.request_priority(None), 5);
    let server = PriorityModelPolicy {
        model: PriorityModel::ServerDeclared,
        server_priority: 5,
    };
    assert_eq!(server.request_priority(Some(100)), 5);
}

#[test]
fn rt_current_is_per_thread_and_checks_its_range() {
    mapping::set_policy(NativePriorityPolicy::Off);
    assert_eq!(RtCurrent::the_priority(), None);
    RtCurrent::set_the_priority(42).unwrap();
    assert_eq!(RtCurrent::the_priority(), Some(42));
    let other = std::thread::spawn(RtCurrent::the_priority).join().unwrap();
    assert_eq!(other, None);
    assert_eq!(
        RtCurrent::set_the_priority(-1).unwrap_err().to_string(),
        "-1 is not an RTCORBA priority: priorities run from 0 to 32767"
    );
    assert_eq!(RtCurrent::the_priority(), Some(42));
    {
        let _request = RequestPriority::enter(7);
        assert_eq!(RtCurrent::the_priority(), Some(7));
    }
    assert_eq!(RtCurrent::the_priority(), Some(42));
    RtCurrent::clear();
    assert_eq!(RtCurrent::the_priority(), None);
}

#[test]
fn the_native_mapping_is_linear_over_each_range() {
    use NativePriorityPolicy::*;
    assert_eq!(Fifo.native(0), Some(1));
    assert_eq!(Fifo.native(MAX_PRIORITY), Some(98));
    assert_eq!(RoundRobin.native(16_384), Some(49));
    assert_eq!(Nice.native(0), Some(0));
    assert_eq!(Nice.native(MAX_PRIORITY), Some(99));
    assert_eq!(Off.native(100), None);
    let ordered: Vec<u8> = [0, 100, 10_000, 20_000, MAX_PRIORITY]
        .iter()
        .filter_map(|p| Fifo.native(*p))
        .collect();
    assert!(ordered.windows(2).all(|w| w[0] <= w[1]), "{ordered:?}");
}

#[test]
fn lanes_parse_sorted_and_bad_ones_say_what_is_wrong() {
    assert_eq!(
        parse_lanes("20000:1, 10:2").unwrap(),
        vec![
            ThreadpoolLane {
                lane_priority: 10,
                static_threads: 2,
                dynamic_threads: 0
            },
            ThreadpoolLane {
                lane_priority: 20000,
                static_threads: 1,
                dynamic_threads: 0
            },
        ]
    );
    let err = |s: &str| parse_lanes(s).unwrap_err();
    assert_eq!(
        err("10"),
        "lane \"10\" is not PRIORITY:THREADS (a lane of 2 threads at priority 10 is 10:2)"
    );
    assert_eq!(
        err("10:2,40000:1"),
        "lane \"40000:1\": \"40000\" is not a priority (0 to 32767)"
    );
    assert_eq!(
        err("-1:1"),
        "lane \"-1:1\": \"-1\" is not a priority (0 to 32767)"
    );
    assert_eq!(
        err("10:0"),
        "lane \"10:0\": \"0\" is not a thread count (1 to 256)"
    );
    assert_eq!(
        err("10:x"),
        "lane \"10:x\": \"x\" is not a thread count (1 to 256)"
    );
    assert_eq!(
        err("10:1,10:2"),
        "two lanes have priority 10: give each lane its own priority"
    );
    assert!(err("").contains("is not PRIORITY:THREADS"));
    // Dynamic threads: PRIORITY:STATIC+DYNAMIC, 256 threads in all at most.
    assert_eq!(
        parse_lanes("0:2+3").unwrap(),
        vec![ThreadpoolLane {
            lane_priority: 0,
            static_threads: 2,
            dynamic_threads: 3
        }]
    );
    assert_eq!(parse_lanes("0:2+3").unwrap()[0].max_threads(), 5);
    assert_eq!(
        err("10:2+255"),
        "lane \"10:2+255\": \"255\" is not a count of dynamic threads (0 to 254, 256 threads in all)"
    );
    assert_eq!(
        err("10:2+x"),
        "lane \"10:2+x\": \"x\" is not a count of dynamic threads (0 to 254, 256 threads in all)"
    );
}

#[test]
fn a_lane_grows_by_its_dynamic_threads_when_busy_and_shrinks_back_when_idle() {
    mapping::set_policy(NativePriorityPolicy::Off);
    let pool = lanes::LanePool::start_with_idle(
        &parse_lanes("0:1+2").unwrap(),
        crate::AllocatorStrategy::Global,
        std::time::Duration::from_millis(50),
    )
    .unwrap();
    assert_eq!(pool.lane_threads(0), 1);
    // Three jobs that each wait for the gate: they run at once only if the lane started its
    // two dynamic threads.
    let gate = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let (started, running) = std::sync::mpsc::channel();
    let (done, finished) = std::sync::mpsc::channel();
    let blocked = |n: u32| {
        let (gate, started, done) = (gate.clone(), started.clone(), done.clone());
        Box::new(move || {
            let name = std::thread::current().name().map(str::to_owned);
            started.send(name).unwrap();
            let (open, cv) = &*gate;
            let _open = cv.wait_while(open.lock().unwrap(), |o| !*o).unwrap();
            done.send(n).unwrap();
        }) as lanes::Job
    };
    for n in 0..3 {
        pool.submit(0, blocked(n));
    }
    let wait = std::time::Duration::from_secs(10);
    let mut names: Vec<String> = (0..3)
        .map(|_| running.recv_timeout(wait).unwrap().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["orb-lane-0-0", "orb-lane-0-d0", "orb-lane-0-d1"]);
    // At its maximum a lane queues: a fourth job starts no thread, and runs once one is free.
    pool.submit(0, blocked(3));
    assert_eq!(pool.lane_threads(0), 3);
    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
    let mut ran: Vec<u32> = (0..4)
        .map(|_| finished.recv_timeout(wait).unwrap())
        .collect();
    ran.sort();
    assert_eq!(ran, [0, 1, 2, 3]);
    // Idle, the dynamic threads end; the static one stays.
    let deadline = std::time::Instant::now() + wait;
    while pool.lane_threads(0) > 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(pool.lane_threads(0), 1);
    pool.stop();
    pool.join();
}

#[test]
fn bands_parse_sorted_and_bad_ones_say_what_is_wrong() {
    assert_eq!(
        parse_bands("10000-32767,0-9999").unwrap(),
        vec![
            PriorityBand { low: 0, high: 9999 },
            PriorityBand {
                low: 10000,
                high: 32767
            },
        ]
    );
    let err = |s: &str| parse_bands(s).unwrap_err();
    assert_eq!(
        err("0:10"),
        "band \"0:10\" is not LOW-HIGH (the priorities 0 to 9999 are 0-9999)"
    );
    assert_eq!(
        err("10-5"),
        "band \"10-5\" ends below its start: write it LOW-HIGH"
    );
    assert_eq!(
        err("0-100,50-200"),
        "bands 0-100 and 50-200 overlap: a priority must be in one band at most"
    );
    assert_eq!(
        err("0-100,0-0"),
        "bands 0-100 and 0-0 overlap: a priority must be in one band at most"
    );
    assert_eq!(
        err("0-99999"),
        "band \"0-99999\": \"99999\" is not a priority (0 to 32767)"
    );
}

#[test]
fn rt_options_parse_and_bad_ones_are_clear() {
    let args = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let mut o = OrbOptions::default();
    assert_eq!(o.lanes, None);
    o.parse_args(args(
        "-ORBthreadStrategy lanes -ORBlanes 10:2,20000:1 -ORBpriorityModel server \
         -ORBserverPriority 300 -ORBpriorityBands 0-9999,10000-32767 -ORBpriorityMapping nice",
    ))
    .unwrap();
    assert_eq!(o.lanes.as_ref().map(Vec::len), Some(2));
    assert_eq!(o.strategy, crate::transport::Strategy::ThreadPerConnection);
    assert_eq!(o.priority_model.model, PriorityModel::ServerDeclared);
    assert_eq!(o.priority_model.server_priority, 300);
    assert_eq!(o.priority_bands.len(), 2);
    assert_eq!(o.priority_mapping, NativePriorityPolicy::Nice);
    // Another strategy drops the lanes; `lanes` alone gets two default lanes.
    o.parse_args(args("-ORBthreadStrategy pool")).unwrap();
    assert_eq!(o.lanes, None);
    o.parse_args(args("-ORBthreadStrategy lanes")).unwrap();
    assert_eq!(o.lanes.as_ref().map(Vec::len), Some(2));

    let e = o.parse_args(args("-ORBlanes 10:2,10:3")).unwrap_err();
    assert!(matches!(e, OptionsError::Invalid { .. }));
    assert_eq!(
        e.to_string(),
        "ORB option -ORBlanes: \"10:2,10:3\": two lanes have priority 10: give each lane its \
         own priority"
    );
    assert_eq!(
        o.parse_args(args("-ORBpriorityBands 5"))
            .unwrap_err()
            .to_string(),
        "ORB option -ORBpriorityBands: \"5\": band \"5\" is not LOW-HIGH (the priorities 0 to \
         9999 are 0-9999)"
    );
    assert_eq!(
        o.parse_args(args("-ORBserverPriority 32768"))
            .unwrap_err()
            .to_string(),
        "ORB option -ORBserverPriority: \"32768\" is not a priority from 0 to 32767"
    );
    assert_eq!(
        o.parse_args(args("-ORBpriorityModel both"))
            .unwrap_err()
            .to_string(),
        "ORB option -ORBpriorityModel: \"both\" is not client or server"
    );
    assert_eq!(
        o.parse_args(args("-ORBpriorityMapping realtime"))
            .unwrap_err()
            .to_string(),
        "ORB option -ORBpriorityMapping: \"realtime\" is not off, nice, fifo or rr"
    );
    assert_eq!(
        o.parse_args(args("-ORBthreadStrategy lane"))
            .unwrap_err()
            .to_string(),
        "ORB option -ORBthreadStrategy: \"lane\" is not reactive, pool, adaptive, connection or lanes"
    );
}

#[test]
fn a_request_goes_to_the_highest_lane_not_above_its_priority() {
    mapping::set_policy(NativePriorityPolicy::Off);
    let pool = lanes::LanePool::start(
        &parse_lanes("100:1,10000:1,20000:1").unwrap(),
        crate::AllocatorStrategy::Global,
    )
    .unwrap();
    for (p, lane) in [
        (0, 100),
        (100, 100),
        (9999, 100),
        (10000, 10000),
        (19999, 10000),
        (20000, 20000),
        (MAX_PRIORITY, 20000),
    ] {
        assert_eq!(pool.lane_priority_for(p), lane, "priority {p}");
        let (tx, rx) = std::sync::mpsc::channel();
        pool.submit(
            p,
            Box::new(move || {
                let _ = tx.send((
                    RtCurrent::lane_priority(),
                    std::thread::current().name().map(str::to_owned),
                ));
            }),
        );
        let (seen, name) = rx.recv().unwrap();
        assert_eq!(seen, Some(lane), "priority {p}");
        assert_eq!(name.as_deref(), Some(format!("orb-lane-{lane}-0").as_str()));
    }
    // Stopping lets a lane finish what it has queued: one job in hand, one queued.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (done, finished) = std::sync::mpsc::channel();
    let (started, running) = std::sync::mpsc::channel();
    let done2 = done.clone();
    pool.submit(
        0,
        Box::new(move || {
            started.send(()).unwrap();
            held.recv().unwrap();
            done.send("in hand").unwrap();
        }),
    );
    running.recv().unwrap();
    pool.submit(0, Box::new(move || done2.send("queued").unwrap()));
    pool.stop();
    release.send(()).unwrap();
    assert_eq!(finished.recv().unwrap(), "in hand");
    assert_eq!(finished.recv().unwrap(), "queued");
    // Once stopped, work runs on the caller rather than being dropped.
    let (tx, rx) = std::sync::mpsc::channel();
    pool.submit(
        0,
        Box::new(move || tx.send(RtCurrent::lane_priority()).unwrap()),
    );
    assert_eq!(rx.recv().unwrap(), None);
    pool.join();
}

#[test]
fn lane_endpoints_travel_in_their_component_sorted_and_bad_data_is_none() {
    let lanes = vec![
        LaneEndpoint {
            priority: 20000,
            host: "10.0.0.7".into(),
            port: 4001,
        },
        LaneEndpoint {
            priority: 0,
            host: "localhost".into(),
            port: 4000,
        },
    ];
    let c = lane_endpoints::lanes_component(&lanes).unwrap();
    assert_eq!(c.tag, ComponentId::RTORB_LANES);
    assert_eq!(c.tag.0, 0x5254_4f04);
    let read = lane_endpoints::lane_endpoints_from_component_data(&c.data).unwrap();
    assert_eq!(read, vec![lanes[1].clone(), lanes[0].clone()]);
    // Cut short, or a priority that is not one: the client ignores the component.
    assert_eq!(
        lane_endpoints::lane_endpoints_from_component_data(&c.data[..c.data.len() - 3]),
        None
    );
    let mut bad = lane_endpoints::lanes_component(&lanes[..1]).unwrap();
    // Byte-order octet, padding to 4, the count (4), then the short.
    let at = 8;
    bad.data[at..at + 2].copy_from_slice(&(-5i16).to_ne_bytes());
    assert_eq!(
        lane_endpoints::lane_endpoints_from_component_data(&bad.data),
        None
    );
    assert_eq!(
        lane_endpoints::lane_endpoints_from_component_data(&[]),
        None
    );
}

#[test]
fn client_and_server_choose_the_same_lane_for_a_priority() {
    let lanes = [100, 10000, 20000];
    let lane = |p| serving_lane(&lanes, |l| *l, p).map(|i| lanes[i]);
    assert_eq!(lane(0), Some(100));
    assert_eq!(lane(100), Some(100));
    assert_eq!(lane(9999), Some(100));
    assert_eq!(lane(10000), Some(10000));
    assert_eq!(lane(32767), Some(20000));
    assert_eq!(serving_lane(&[] as &[i16], |l| *l, 5), None);
}

#[test]
fn lane_endpoints_are_on_by_default_and_can_be_turned_off() {
    assert!(OrbOptions::default().lane_endpoints);
    let mut o = OrbOptions::default();
    o.parse_args(["-ORBlaneEndpoints", "0"].map(str::to_owned))
        .unwrap();
    assert!(!o.lane_endpoints);
    let e = o
        .parse_args(["-ORBlaneEndpoints", "maybe"].map(str::to_owned))
        .unwrap_err();
    assert!(e.to_string().contains("laneEndpoints"), "{e}");
}
