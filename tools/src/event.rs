//! `rtorb event push|pull|watch`: events on a COS event channel (`event-service`, omniEvents)
//! or TAO's real-time event channel (`rt-event-service`), typed or raw, with counts and
//! rates.
//!
//! On a COS channel an event is an `any`: a typed value, or raw octets as a
//! `sequence<octet>`. On the real-time channel it is an `RtecEventComm::Event`: a header
//! (source, type) and data whose `any_value` holds a typed value and whose `payload` holds
//! raw octets.

use clap::{Args, Subcommand, ValueEnum};
use rtorb::events::cos_event_channel_admin::{
    event_channel as cos_event_channel, ConsumerAdmin as _, EventChannel as _, EventChannelRef,
    ProxyPullSupplier as _, ProxyPushConsumer as _, ProxyPushSupplier as _, SupplierAdmin as _,
};
use rtorb::events::cos_event_comm::{
    push_consumer, PullConsumerRef, PullSupplier as _, PushConsumer, PushConsumerRef,
    PushSupplier as _, PushSupplierRef,
};
use rtorb::events::rtec::rtec_event_channel_admin::{
    self as rt_admin, ConsumerAdmin as _, EventChannel as _, ProxyPushConsumer as _,
    ProxyPushSupplier as _, SupplierAdmin as _,
};
use rtorb::events::rtec::rtec_event_comm::{
    self as rt_comm, Event, PushConsumer as _, PushSupplier as _,
};
use rtorb::events::rtec::{ConsumerQosBuilder, SupplierQosBuilder, ACE_ES_EVENT_UNDEFINED};
use rtorb::{Any, ObjectRef, Orb, SystemException};
use std::fmt::Display;
use std::io::Write;
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Subcommand, Debug)]
pub enum EventCommand {
    /// Pushes COUNT events to a channel, at RATE a second or as fast as it takes them.
    Push(PushArgs),
    /// Pulls events from a COS channel (the pull model) and prints them.
    Pull(ReceiveArgs),
    /// Connects a push consumer to a channel and prints the events pushed to it.
    Watch(ReceiveArgs),
}

/// Which channel a reference names.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Ask the channel (`_is_a`).
    Auto,
    /// CosEventChannelAdmin::EventChannel.
    Cos,
    /// RtecEventChannelAdmin::EventChannel.
    Rt,
}

#[derive(Args, Debug)]
pub struct ChannelArgs {
    /// The channel: `IOR:…`, `corbaloc::HOST:PORT/EventChannel` (or `/RtEventChannel`),
    /// `corbaname:…`, `file://…`.
    channel: String,
    /// Which kind of channel it is.
    #[arg(long, value_enum, default_value_t = Kind::Auto)]
    kind: Kind,
    /// Prints only the summary line, not each event.
    #[arg(long, short)]
    quiet: bool,
    /// Prints the count and the rate so far every N events (`so far N events in S s (R
    /// events/s)`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    every: Option<u64>,
    /// ORB options, after `--` (`-- -ORBendPoint giop:tcp:HOST:0` for where a watched
    /// channel reaches this program).
    #[arg(last = true, value_name = "ORB_OPTIONS")]
    orb_options: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PushArgs {
    #[command(flatten)]
    channel: ChannelArgs,
    /// What each event holds: `long:N`, `double:X`, `string:TEXT`, or raw octets
    /// `octets:HEX`. Without it, event i holds the long i (1, 2, ...).
    #[arg(long, value_parser = parse_payload, value_name = "KIND:VALUE")]
    data: Option<Payload>,
    /// How many events.
    #[arg(long, short = 'n', default_value_t = 1)]
    count: u64,
    /// Events a second (default: as fast as the channel takes them).
    #[arg(long, value_parser = parse_rate)]
    rate: Option<f64>,
    /// The real-time header's source id.
    #[arg(long, default_value_t = 1)]
    source: i32,
    /// The real-time header's event type (16 and up are the application's).
    #[arg(long = "type", value_name = "TYPE", default_value_t = ACE_ES_EVENT_UNDEFINED)]
    ty: i32,
}

#[derive(Args, Debug)]
pub struct ReceiveArgs {
    #[command(flatten)]
    channel: ChannelArgs,
    /// Stops after this many events (default: at Ctrl-C, or when the channel disconnects).
    #[arg(long, short = 'n')]
    count: Option<u64>,
    /// Real-time channel: only events from this source (0: any).
    #[arg(long, default_value_t = 0)]
    source: i32,
    /// Real-time channel: only events of this type (0: any).
    #[arg(long = "type", value_name = "TYPE", default_value_t = 0)]
    ty: i32,
}

/// What an event carries.
#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    Long(i32),
    Double(f64),
    String(String),
    Octets(Vec<u8>),
}

impl Payload {
    /// A typed value as an `any`; `None` for raw octets.
    fn typed(&self) -> Option<Any> {
        match self {
            Payload::Long(n) => Some(Any::from(*n)),
            Payload::Double(x) => Some(Any::from(*x)),
            Payload::String(s) => Some(Any::from(s.as_str())),
            Payload::Octets(_) => None,
        }
    }
}

fn parse_payload(s: &str) -> Result<Payload, String> {
    let (kind, value) = s
        .split_once(':')
        .ok_or("give KIND:VALUE, KIND one of long, double, string, octets")?;
    match kind {
        "long" => value
            .parse()
            .map(Payload::Long)
            .map_err(|e| format!("long {value:?}: {e}")),
        "double" => value
            .parse()
            .map(Payload::Double)
            .map_err(|e| format!("double {value:?}: {e}")),
        "string" => Ok(Payload::String(value.to_owned())),
        "octets" => crate::parse_hex(value).map(Payload::Octets),
        other => Err(format!(
            "unknown kind {other:?}: give long, double, string or octets"
        )),
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!("{s:?} is not a number of events a second above 0")),
    }
}

/// Runs an event command, writing what it prints to `out`.
pub fn run(command: &EventCommand, out: &mut dyn Write) -> Result<(), String> {
    let channel = match command {
        EventCommand::Push(a) => &a.channel,
        EventCommand::Pull(a) | EventCommand::Watch(a) => &a.channel,
    };
    let orb = Orb::init_from_args(channel.orb_options.iter().cloned())
        .map_err(|e| format!("ORB options: {e}"))?
        .0;
    let obj = orb
        .string_to_object(&channel.channel)
        .map_err(|e| format!("the channel {:?}: {e}", channel.channel))?;
    let kind = kind_of(&obj, channel.kind).map_err(context("ask the channel what it is"))?;
    let result = match (command, kind) {
        (EventCommand::Push(a), Kind::Rt) => push_rt(&obj, a, out),
        (EventCommand::Push(a), _) => push_cos(&obj, a, out),
        (EventCommand::Pull(a), Kind::Cos) => pull_cos(&obj, a, out),
        (EventCommand::Pull(_), _) => {
            Err("the real-time event channel has no pull model: use `rtorb event watch`".to_owned())
        }
        (EventCommand::Watch(a), kind) => watch(&orb, &obj, kind, a, out),
    };
    orb.shutdown(true);
    result
}

/// `Cos` or `Rt`: as asked, or as the channel answers `_is_a`.
fn kind_of(obj: &ObjectRef, asked: Kind) -> Result<Kind, String> {
    if asked != Kind::Auto {
        return Ok(asked);
    }
    let rt = rt_admin::EventChannelRef::unchecked_narrow(obj.clone());
    if rt
        .is_a(rt_admin::event_channel::REPOSITORY_ID)
        .map_err(|e| e.to_string())?
    {
        return Ok(Kind::Rt);
    }
    let cos = EventChannelRef::unchecked_narrow(obj.clone());
    if cos
        .is_a(cos_event_channel::REPOSITORY_ID)
        .map_err(|e| e.to_string())?
    {
        return Ok(Kind::Cos);
    }
    Err(format!(
        "it is neither a COS event channel ({}) nor a real-time one ({})",
        cos_event_channel::REPOSITORY_ID,
        rt_admin::event_channel::REPOSITORY_ID
    ))
}

/// `map_err` for a step: `what: why`.
fn context<E: Display>(what: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{what}: {e}")
}

/// Counts events since it was made, for the summary line.
struct Meter {
    start: Instant,
    count: u64,
}

impl Meter {
    fn new() -> Meter {
        Meter {
            start: Instant::now(),
            count: 0,
        }
    }

    /// Counts an event described as `shown`: prints it (`#N shown`) unless `--quiet`, and the
    /// count and rate so far each `--every` events.
    fn record(
        &mut self,
        shown: &str,
        args: &ChannelArgs,
        out: &mut dyn Write,
    ) -> Result<(), String> {
        self.count += 1;
        if !args.quiet {
            print(out, &format!("#{} {shown}", self.count))?;
        }
        if args.every.is_some_and(|n| self.count % n == 0) {
            print(out, &self.summary("so far"))?;
        }
        Ok(())
    }

    /// `VERB N events in S s (R events/s)`.
    fn summary(&self, verb: &str) -> String {
        let secs = self.start.elapsed().as_secs_f64();
        let rate = if secs > 0.0 {
            format!("{:.1} events/s", self.count as f64 / secs)
        } else {
            "rate unmeasurable".to_owned()
        };
        format!("{verb} {} events in {secs:.3} s ({rate})", self.count)
    }
}

fn print(out: &mut dyn Write, line: &str) -> Result<(), String> {
    writeln!(out, "{line}").map_err(context("write the output"))
}

/// Sleeps until event `i` (from 0) is due at `rate` events a second after `start`.
fn pace(start: Instant, i: u64, rate: Option<f64>) {
    if let Some(rate) = rate {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
    }
}

/// Pushes `args.count` events, paced at `args.rate`, through `send`, which pushes what an
/// event holds and describes it; each is recorded in the meter, returned for the summary
/// once disconnected.
fn push_each(
    args: &PushArgs,
    out: &mut dyn Write,
    mut send: impl FnMut(Payload) -> Result<String, String>,
) -> Result<Meter, String> {
    let mut meter = Meter::new();
    for i in 1..=args.count {
        pace(meter.start, i - 1, args.rate);
        // Without --data, event i holds the long i, so that a receiver sees gaps and order.
        let payload = (args.data.clone()).unwrap_or(Payload::Long(i.min(i32::MAX as u64) as i32));
        let shown = send(payload).map_err(|e| format!("push event {i}: {e}"))?;
        meter.record(&shown, &args.channel, out)?;
    }
    Ok(meter)
}

fn push_cos(obj: &ObjectRef, args: &PushArgs, out: &mut dyn Write) -> Result<(), String> {
    let channel = EventChannelRef::unchecked_narrow(obj.clone());
    let proxy = channel
        .for_suppliers()
        .map_err(context("get the supplier admin"))?
        .obtain_push_consumer()
        .map_err(context("get a push consumer proxy"))?;
    proxy
        .connect_push_supplier(&PushSupplierRef::nil())
        .map_err(context("connect as a push supplier"))?;
    let meter = push_each(args, out, |payload| {
        let any = match payload {
            Payload::Octets(o) => Any::from(o),
            typed => typed.typed().unwrap_or_default(),
        };
        proxy.push(&any).map_err(|e| e.to_string())?;
        Ok(show_any(&any))
    })?;
    proxy
        .disconnect_push_consumer()
        .map_err(context("disconnect"))?;
    print(out, &meter.summary("pushed"))
}

fn push_rt(obj: &ObjectRef, args: &PushArgs, out: &mut dyn Write) -> Result<(), String> {
    let channel = rt_admin::EventChannelRef::unchecked_narrow(obj.clone());
    let proxy = channel
        .for_suppliers()
        .map_err(context("get the supplier admin"))?
        .obtain_push_consumer()
        .map_err(context("get a push consumer proxy"))?;
    let qos = SupplierQosBuilder::new()
        .insert(args.source, args.ty, 0, 1)
        .build();
    proxy
        .connect_push_supplier(&rt_comm::PushSupplierRef::nil(), &qos)
        .map_err(context("connect as a push supplier"))?;
    let meter = push_each(args, out, |payload| {
        let mut event = rtorb::events::rtec::event(args.source, args.ty);
        match payload {
            Payload::Octets(o) => event.data.payload = o,
            typed => event.data.any_value = typed.typed().unwrap_or_default(),
        }
        proxy
            .push(std::slice::from_ref(&event))
            .map_err(|e| e.to_string())?;
        Ok(show_event(&event))
    })?;
    proxy
        .disconnect_push_consumer()
        .map_err(context("disconnect"))?;
    print(out, &meter.summary("pushed"))
}

fn pull_cos(obj: &ObjectRef, args: &ReceiveArgs, out: &mut dyn Write) -> Result<(), String> {
    let channel = EventChannelRef::unchecked_narrow(obj.clone());
    let proxy = channel
        .for_consumers()
        .map_err(context("get the consumer admin"))?
        .obtain_pull_supplier()
        .map_err(context("get a pull supplier proxy"))?;
    proxy
        .connect_pull_consumer(&PullConsumerRef::nil())
        .map_err(context("connect as a pull consumer"))?;
    // On stderr, so that stdout holds only events: a script (or a test) waits for it before
    // pushing, since a channel keeps nothing for a consumer not yet connected.
    eprintln!("rtorb event: pulling from a COS event channel");
    let mut meter = Meter::new();
    while args.count.is_none_or(|n| meter.count < n) {
        let any = proxy
            .pull()
            .map_err(|e| format!("pull event {}: {e}", meter.count + 1))?;
        meter.record(&show_any(&any), &args.channel, out)?;
    }
    proxy
        .disconnect_pull_supplier()
        .map_err(context("disconnect"))?;
    print(out, &meter.summary("pulled"))
}

/// What a watching consumer hears, in the order it hears it.
enum Heard {
    Event(String),
    /// The channel disconnected it, or the ORB stopped (a signal).
    End(&'static str),
}

/// The push consumer of `watch`: hands each event on, described.
struct Listener(mpsc::Sender<Heard>);

impl PushConsumer for Listener {
    fn push(&self, data: &Any) -> Result<(), push_consumer::PushError> {
        let _ = self.0.send(Heard::Event(show_any(data)));
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        let _ = self.0.send(Heard::End("the channel disconnected"));
        Ok(())
    }
}

impl rt_comm::PushConsumer for Listener {
    fn push(&self, data: &[Event]) -> Result<(), SystemException> {
        for event in data {
            let _ = self.0.send(Heard::Event(show_event(event)));
        }
        Ok(())
    }

    fn disconnect_push_consumer(&self) -> Result<(), SystemException> {
        let _ = self.0.send(Heard::End("the channel disconnected"));
        Ok(())
    }
}

fn watch(
    orb: &Orb,
    obj: &ObjectRef,
    kind: Kind,
    args: &ReceiveArgs,
    out: &mut dyn Write,
) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    let listener = Listener(tx.clone());
    let disconnect: Box<dyn Fn() -> Result<(), SystemException>> = if kind == Kind::Rt {
        let channel = rt_admin::EventChannelRef::unchecked_narrow(obj.clone());
        let proxy = channel
            .for_consumers()
            .map_err(context("get the consumer admin"))?
            .obtain_push_supplier()
            .map_err(context("get a push supplier proxy"))?;
        let me = orb
            .activate(&orb.root_poa(), rt_comm::push_consumer::servant(listener))
            .map_err(context("serve the consumer"))?;
        let qos = ConsumerQosBuilder::new()
            .insert(args.source, args.ty, 0)
            .build();
        proxy
            .connect_push_consumer(&rt_comm::PushConsumerRef::unchecked_narrow(me), &qos)
            .map_err(context("connect as a push consumer"))?;
        Box::new(move || proxy.disconnect_push_supplier())
    } else {
        let channel = EventChannelRef::unchecked_narrow(obj.clone());
        let proxy = channel
            .for_consumers()
            .map_err(context("get the consumer admin"))?
            .obtain_push_supplier()
            .map_err(context("get a push supplier proxy"))?;
        let me = orb
            .activate(&orb.root_poa(), push_consumer::servant(listener))
            .map_err(context("serve the consumer"))?;
        proxy
            .connect_push_consumer(&PushConsumerRef::unchecked_narrow(me))
            .map_err(context("connect as a push consumer"))?;
        Box::new(move || proxy.disconnect_push_supplier())
    };
    let what = if kind == Kind::Rt { "real-time" } else { "COS" };
    eprintln!("rtorb event: watching a {what} event channel");
    // Ctrl-C or SIGTERM ends the watch with its summary.
    let signals = orb.watch_signals().map_err(context("watch for signals"))?;
    let stopped = orb.clone();
    std::thread::spawn(move || {
        let _ = stopped.run();
        let _ = tx.send(Heard::End("stopped"));
    });
    let mut meter = Meter::new();
    let mut ended = None;
    while args.count.is_none_or(|n| meter.count < n) {
        match rx.recv() {
            Ok(Heard::Event(text)) => meter.record(&text, &args.channel, out)?,
            Ok(Heard::End(why)) => {
                ended = Some(why);
                break;
            }
            Err(_) => break,
        }
    }
    drop(signals);
    if ended.is_none() {
        disconnect().map_err(context("disconnect"))?;
    }
    print(out, &meter.summary("received"))
}

/// An `any` in a line: its kind and value (`long 42`, `string "hi"`, `octets 3 0a0b0c`).
pub fn show_any(any: &Any) -> String {
    if let Some(n) = any.as_i32() {
        format!("long {n}")
    } else if let Some(x) = any.as_f64() {
        format!("double {x}")
    } else if let Some(s) = any.as_str() {
        format!("string {s:?}")
    } else if let Some(o) = any.as_octets() {
        format!("octets {} {}", o.len(), hex(o))
    } else {
        format!("{:?} {:?}", any.type_code().kind(), any.value())
    }
}

/// A real-time event in a line: header, typed value (if any) and payload (if any).
pub fn show_event(event: &Event) -> String {
    let mut line = format!(
        "source {} type {}",
        event.header.source, event.header.r#type
    );
    if *event.data.any_value.type_code() != rtorb::TypeCode::Null {
        line.push(' ');
        line.push_str(&show_any(&event.data.any_value));
    }
    if !event.data.payload.is_empty() {
        line.push_str(&format!(
            " payload {} {}",
            event.data.payload.len(),
            hex(&event.data.payload)
        ));
    }
    line
}

fn hex(octets: &[u8]) -> String {
    octets.iter().map(|b| format!("{b:02x}")).collect()
}
