//! `rtorb event` against the COS channel daemon (`event-service`) and the real-time one
//! (`rt-event-service`): events pushed by one `rtorb` process arrive in another that watches
//! or pulls, typed and raw, filtered by header on the real-time channel; and what the
//! command refuses.

mod common;

use common::*;

/// `rtorb event watch|pull` in the background, returned once it says it is connected (a
/// channel keeps nothing for a consumer that is not yet there).
fn receiver(args: &[&str]) -> Proc {
    let mut all = vec!["event"];
    all.extend_from_slice(args);
    let mut p = Proc::spawn(RTORB, &all);
    p.wait_for(Stream::Err, |l| {
        l.starts_with("rtorb event: watching") || l.starts_with("rtorb event: pulling")
    });
    p
}

/// The event lines (`#N ...`) and the summary of a receiver that ended by itself.
fn received(p: Proc) -> (Vec<String>, String) {
    let (status, out, err) = p.finish();
    assert!(status.success(), "receiver failed: {out:?} {err:?}");
    let (summary, events) = out.split_last().expect("a summary line");
    (events.to_vec(), summary.clone())
}

#[test]
fn cos_events_pushed_are_watched_and_pulled() {
    let (_channel, ior) = start_daemon("event-service", &[]);
    let watcher = receiver(&["watch", &ior, "-n", "3"]);
    let pushed = rtorb_ok(&[
        "event",
        "push",
        &ior,
        "-n",
        "3",
        "--rate",
        "500",
        "--data",
        "string:hello",
    ]);
    let lines: Vec<&str> = pushed.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "#1 string \"hello\"",
            "#2 string \"hello\"",
            "#3 string \"hello\""
        ]
    );
    assert!(lines[3].starts_with("pushed 3 events in "), "{pushed}");
    assert!(lines[3].ends_with(" events/s)"), "{pushed}");
    let (events, summary) = received(watcher);
    assert_eq!(
        events,
        [
            "#1 string \"hello\"",
            "#2 string \"hello\"",
            "#3 string \"hello\""
        ]
    );
    assert!(summary.starts_with("received 3 events in "), "{summary}");

    // Pull model, raw octets; without --data, event i is the long i.
    let puller = receiver(&["pull", &ior, "-n", "3"]);
    rtorb_ok(&["event", "push", &ior, "--data", "octets:0a0bff"]);
    let quiet = rtorb_ok(&["event", "push", &ior, "-n", "2", "--quiet", "--every", "1"]);
    let lines: Vec<&str> = quiet.lines().collect();
    assert_eq!(lines.len(), 3, "{quiet}");
    assert!(lines[0].starts_with("so far 1 events in "), "{quiet}");
    assert!(lines[1].starts_with("so far 2 events in "), "{quiet}");
    assert!(lines[2].starts_with("pushed 2 events in "), "{quiet}");
    let (events, summary) = received(puller);
    assert_eq!(events, ["#1 octets 3 0a0bff", "#2 long 1", "#3 long 2"]);
    assert!(summary.starts_with("pulled 3 events in "), "{summary}");
}

#[test]
fn rt_events_are_filtered_by_header_and_carry_typed_or_raw_data() {
    let (_channel, ior) = start_daemon("rt-event-service", &[]);
    let watcher = receiver(&["watch", &ior, "--type", "20", "-n", "3"]);
    // Type 21 is not watched: only the type-20 events arrive, in order.
    rtorb_ok(&[
        "event", "push", &ior, "--source", "5", "--type", "21", "-n", "2",
    ]);
    rtorb_ok(&[
        "event", "push", &ior, "--source", "5", "--type", "20", "--data", "long:7",
    ]);
    rtorb_ok(&[
        "event",
        "push",
        &ior,
        "--type",
        "20",
        "--data",
        "double:2.5",
    ]);
    let raw = rtorb_ok(&[
        "event",
        "push",
        &ior,
        "--type",
        "20",
        "--data",
        "octets:ff00",
    ]);
    assert!(
        raw.starts_with("#1 source 1 type 20 payload 2 ff00\n"),
        "{raw}"
    );
    let (events, summary) = received(watcher);
    assert_eq!(
        events,
        [
            "#1 source 5 type 20 long 7",
            "#2 source 1 type 20 double 2.5",
            "#3 source 1 type 20 payload 2 ff00",
        ]
    );
    assert!(summary.starts_with("received 3 events in "), "{summary}");
}

#[test]
fn refusals_say_what_is_wrong() {
    let (_channel, rt) = start_daemon("rt-event-service", &[]);
    let out = rtorb(&["event", "pull", &rt, "-n", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "rtorb event: the real-time event channel has no pull model: use `rtorb event watch`\n"
    );

    let out = rtorb(&["event", "push", &rt, "--rate", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "invalid value '0' for '--rate <RATE>': \"0\" is not a number of \
                               events a second above 0"
        ),
        "{}",
        stderr(&out)
    );

    let out = rtorb(&["event", "watch", &rt, "--every", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value '0' for '--every <N>': 0 is not in 1.."),
        "{}",
        stderr(&out)
    );

    let out = rtorb(&["event", "push", &rt, "--data", "seven"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("give KIND:VALUE"), "{}", stderr(&out));

    // A reference to something that is not a channel: a naming service.
    let (_ns, ns) = start_daemon("naming-service", &[]);
    let out = rtorb(&["event", "watch", &ns]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with(
            "rtorb event: ask the channel what it is: it is neither a COS event channel"
        ),
        "{}",
        stderr(&out)
    );

    // Nothing listening there.
    let out = rtorb(&["event", "push", "corbaloc::127.0.0.1:1/EventChannel"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("rtorb event: ask the channel what it is: TRANSIENT"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_watch_without_a_count_ends_at_sigterm_with_its_summary() {
    let (_channel, ior) = start_daemon("event-service", &[]);
    let mut watcher = receiver(&["watch", &ior]);
    rtorb_ok(&["event", "push", &ior, "-n", "2", "--quiet"]);
    watcher.wait_for(Stream::Out, |l| l == "#2 long 2");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &watcher.child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let (events, summary) = received(watcher);
    assert_eq!(events, ["#1 long 1", "#2 long 2"]);
    assert!(summary.starts_with("received 2 events in "), "{summary}");
}
