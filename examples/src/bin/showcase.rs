//! The rtorb showcase: what the wire layer does, end to end, with nothing to set up.
//!
//! It builds the design's benchmark call (`cube_long(7)` on a cubit object) in GIOP 1.0, 1.1,
//! 1.2 and GIOP-lite, frames each from a byte stream fed one octet at a time, decodes omniNames'
//! own IOR the way omniORB's `catior` does, resolves `corbaloc:`/`corbaname:` URLs, round-trips
//! an `any` holding a struct, and shows what hostile input gets: a clear error, no allocation.
//! Then the ORB itself: a cubit object served on loopback, named in a naming service started in
//! this process, found by a client ORB through `corbaname:` and called over GIOP, over GIOP-lite
//! and collocated.

use naming_service::cos_naming::{NamingContext, NamingContextExt};
use orb::cdr::{ByteOrder, Encoder, GiopVersion};
use orb::giop::{Framer, Header, Message, MessageWriter, ReplyHeader, ReplyStatus, RequestHeader};
use orb::giop::{ServiceContexts, HEADER_LEN};
use orb::ior::{describe, parse_object_url, Corbaloc, DescribeOptions, ObjectUrl};
use orb::typecode::{Any, TypeCode, Value};
use orb::Orb;
use rtorb_examples::cubit::cubit_app::{cubit, Cubit, CubitRef};
use rtorb_examples::CubitImpl;
use std::error::Error;
use std::time::{Duration, Instant};

/// omniNames' root naming context, as omniORB 4.2.5 published it (captured into the tests).
const OMNINAMES_IOR: &str = include_str!("../../../orb/tests/vectors/omninames-root.ior");

fn main() -> Result<(), Box<dyn Error>> {
    println!("rtorb showcase\n");
    requests_in_every_dialect()?;
    a_reply()?;
    object_references()?;
    typed_any()?;
    hostile_input();
    the_orb_and_an_embedded_naming_service()?;
    Ok(())
}

/// The request of the design's latency experiments, in each dialect.
fn requests_in_every_dialect() -> Result<(), Box<dyn Error>> {
    println!("1. cube_long(7) as a request, in each dialect");
    let key = b"\x00cubit\x00\x00\x00\x01\x00\x07"; // a 12-octet object key
    let header = Header::Request(RequestHeader::new(42, key, "cube_long"));
    let mut sizes = Vec::new();
    for (name, dialect) in [
        ("GIOP 1.0", Some(GiopVersion::V1_0)),
        ("GIOP 1.1", Some(GiopVersion::V1_1)),
        ("GIOP 1.2", Some(GiopVersion::V1_2)),
        ("GIOP-lite", None),
    ] {
        let mut w = match dialect {
            Some(v) => MessageWriter::new(v, ByteOrder::NATIVE, &header)?,
            None => MessageWriter::lite(ByteOrder::NATIVE, &header)?,
        };
        w.body().write_long(7);
        let bytes = w.finish()?;

        // Receive it the way a connection does: octet by octet through a framer.
        let mut framer = match dialect {
            Some(_) => Framer::giop(),
            None => Framer::lite(ByteOrder::NATIVE),
        };
        let mut frames = Vec::new();
        for b in &bytes {
            framer.push(std::slice::from_ref(b));
            while let Some(frame) = framer.poll_message()? {
                frames.push(frame);
            }
        }
        let frame = frames.pop().ok_or("the framer yielded no message")?;
        let msg = frame.decode()?;
        let Header::Request(req) = msg.header() else {
            return Err("not a request".into());
        };
        let arg = msg.body_decoder().read_long()?;
        println!(
            "   {name:<9} {:>3} octets  request_id={} operation={} key={} arg={arg}",
            bytes.len(),
            req.request_id,
            req.operation,
            hex(req.target.object_key().unwrap_or_default()),
        );
        if dialect == Some(GiopVersion::V1_2) || dialect.is_none() {
            println!("{}", hexdump(&bytes, "             "));
        }
        sizes.push((name, bytes.len()));
    }
    let lite = sizes.last().map(|s| s.1).unwrap_or_default();
    for (name, len) in &sizes[..3] {
        println!(
            "   GIOP-lite saves {} octets per request against {name}",
            len - lite
        );
    }
    println!();
    Ok(())
}

/// The reply to it, decoded from the same bytes an ORB would send.
fn a_reply() -> Result<(), Box<dyn Error>> {
    println!("2. The reply: 343 comes back as a GIOP 1.2 Reply (NO_EXCEPTION)");
    let header = Header::Reply(ReplyHeader {
        request_id: 42,
        reply_status: ReplyStatus::NoException,
        service_context: ServiceContexts::EMPTY,
    });
    let mut w = MessageWriter::new(GiopVersion::V1_2, ByteOrder::BigEndian, &header)?;
    w.body().write_long(343);
    let bytes = w.finish()?;
    let msg = Message::decode(&bytes)?;
    let result = msg.body_decoder().read_long()?;
    println!(
        "   {} octets, big-endian; header {} octets, body at offset {} (8-aligned), result {result}\n",
        bytes.len(),
        HEADER_LEN,
        msg.body_offset()
    );
    Ok(())
}

/// omniORB's IOR, and the INS URLs a user types.
fn object_references() -> Result<(), Box<dyn Error>> {
    println!("3. omniNames' root context IOR, as catior prints it");
    let ObjectUrl::Ior(ior) = parse_object_url(OMNINAMES_IOR.trim())? else {
        return Err("not an IOR".into());
    };
    for line in describe(&ior, DescribeOptions::default())?
        .trim_end()
        .lines()
    {
        println!("   {line}");
    }
    println!();
    println!("4. corbaloc: and corbaname: URLs");
    for url in [
        "corbaloc::127.0.0.1:2809/NameService",
        "corbaloc:iiop:1.2@[::1]:2809,iiop:localhost:2810/my%20object",
        "corbaname::127.0.0.1:2809#services/cubit.obj",
    ] {
        match parse_object_url(url)? {
            ObjectUrl::Corbaloc(loc) => {
                let ior = loc.to_ior(ByteOrder::NATIVE)?;
                println!(
                    "   {url}\n     -> {} address(es), key {:?}, an IOR of {} profile(s)",
                    loc.addresses.len(),
                    String::from_utf8_lossy(&loc.key),
                    ior.profiles.len()
                );
            }
            ObjectUrl::Corbaname(name) => println!(
                "   {url}\n     -> naming context {}, name {:?}",
                name.context, name.string_name
            ),
            ObjectUrl::Ior(_) => {}
        }
    }
    let back = Corbaloc::parse("corbaloc::127.0.0.1:2809/NameService")?;
    println!("   printed back: {back}\n");
    Ok(())
}

/// An `any` carries its TypeCode: any receiver can decode it without the IDL.
fn typed_any() -> Result<(), Box<dyn Error>> {
    println!("5. An any holding struct Reading {{ string sensor; double value; }}");
    let tc = TypeCode::struct_tc(
        "IDL:demo/Reading:1.0",
        "Reading",
        [("sensor", TypeCode::string(0)), ("value", TypeCode::Double)],
    );
    let any = Any::new(
        tc,
        Value::Struct(vec![Value::String("cpu0".into()), Value::Double(0.75)]),
    )?;
    let mut e = Encoder::new(ByteOrder::LittleEndian);
    orb::cdr::CdrEncode::encode(&any, &mut e)?;
    let bytes = e.into_vec();
    let back = Any::decode_from_slice(&bytes, ByteOrder::LittleEndian)?;
    println!(
        "   {} octets on the wire (TypeCode included); decoded back equal: {}\n",
        bytes.len(),
        back == any
    );
    Ok(())
}

/// What a peer sending garbage gets: an error naming what and where, and no allocation.
fn hostile_input() {
    println!("6. Hostile input");
    let mut framer = Framer::giop();
    framer.push(b"GIOP\x01\x02\x00\x00\x7f\xff\xff\xff");
    if let Err(e) = framer.poll_message() {
        println!("   a header announcing 2 GiB: {e}");
    }
    let mut framer = Framer::giop();
    framer.push(b"HTTP/1.1 200 OK\r\n");
    if let Err(e) = framer.poll_message() {
        println!("   not GIOP at all: {e}");
    }
    // A sequence<long> claiming 2^32-1 elements in a 12-octet body.
    let body = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 2];
    if let Err(e) = orb::cdr::decode_from_slice::<Vec<i32>>(&body, ByteOrder::BigEndian) {
        println!("   a 4-billion-element sequence in 12 octets: {e}");
    }
    if let Err(e) = parse_object_url("IOR:00000000zz") {
        println!("   a mistyped IOR: {e}");
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hexdump(bytes: &[u8], indent: &str) -> String {
    bytes
        .chunks(16)
        .map(|row| {
            let text: String = row
                .iter()
                .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
                .collect();
            let hexes: Vec<String> = row.iter().map(|b| format!("{b:02x}")).collect();
            format!("{indent}{:<48} {text}", hexes.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn orb_with(args: &str) -> Result<Orb, Box<dyn Error>> {
    Ok(Orb::init_from_args(args.split_whitespace().map(str::to_owned))?.0)
}

/// The median time of one call of `call`, over `rounds` rounds of `per_round` calls.
fn median_call(
    mut call: impl FnMut() -> Result<(), Box<dyn Error>>,
) -> Result<Duration, Box<dyn Error>> {
    let (rounds, per_round) = (21, 500u32);
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..per_round {
            call()?;
        }
        times.push(start.elapsed() / per_round);
    }
    times.sort();
    Ok(times[rounds / 2])
}

/// The ORB end to end, in this one process: nothing to install or start.
fn the_orb_and_an_embedded_naming_service() -> Result<(), Box<dyn Error>> {
    println!("\n7. The ORB: a cubit served, named in an embedded naming service, called");
    let server = orb_with(
        "-ORBendPoint giop:tcp:127.0.0.1:0 -ORBliteEndPoint giop:tcp:127.0.0.1:0 \
         -ORBthreadStrategy connection",
    )?;
    let obj = server.activate(&server.root_poa(), cubit::servant(CubitImpl::default()))?;
    // A free port for the naming service: nothing answers there, so it starts in-process.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let (root, embedded) = naming_service::connect_or_start(&server, port, None)?;
    println!(
        "   naming service on 127.0.0.1:{port}: {}",
        if embedded.is_some() {
            "started in this process"
        } else {
            "found running"
        }
    );
    let name = root
        .to_name("showcase/cubit.obj")
        .map_err(|e| format!("{e:?}"))?;
    root.bind_new_context(&name[..1])
        .map_err(|e| format!("{e:?}"))?;
    root.rebind(&name, &obj).map_err(|e| format!("{e:?}"))?;
    let url = format!("corbaname::127.0.0.1:{port}#showcase/cubit.obj");
    println!("   bound as showcase/cubit.obj; a client ORB resolves {url}");

    let mut rows = Vec::new();
    for (what, args) in [
        ("remote, GIOP 1.2 over TCP", "-ORBcollocation none"),
        (
            "remote, GIOP-lite over TCP",
            "-ORBcollocation none -ORBgiopLite 1",
        ),
    ] {
        let client = orb_with(args)?;
        let cubit = CubitRef::narrow(&client.string_to_object(&url)?)?
            .ok_or("the name is not bound to a Cubit")?;
        let seven = cubit.cube_long(7)?;
        let t = median_call(|| {
            cubit.cube_long(3)?;
            Ok(())
        })?;
        rows.push((what, seven, t));
        client.shutdown(true);
    }
    // The server's own reference: the stub calls the servant in this thread (ThruPoa: the POA
    // manager and the object's activation are checked first), no marshaling, no socket.
    let local = CubitRef::unchecked_narrow(obj.clone());
    let seven = local.cube_long(7)?;
    let t = median_call(|| {
        local.cube_long(3)?;
        Ok(())
    })?;
    rows.push(("collocated (ThruPoa)", seven, t));
    let giop = rows[0].2.as_secs_f64().max(1e-12);
    for (what, seven, t) in &rows {
        println!(
            "   {what:<28} cube_long(7) = {seven}   median {:>8.3} µs per call, {:.3}× the GIOP call",
            t.as_secs_f64() * 1e6,
            t.as_secs_f64() / giop
        );
    }
    root.unbind(&name).map_err(|e| format!("{e:?}"))?;
    drop(embedded);
    server.shutdown(true);
    Ok(())
}
