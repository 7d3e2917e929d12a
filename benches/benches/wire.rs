//! Wire-layer costs: CDR encode and decode of the design's cubit payload (a `sequence<long>` of
//! 1,024), side by side with the plain copy that bounds them from below and with omniORB 4.2
//! doing the same work (the `omniorb_*` ids; see `omniorb/mod.rs` and
//! `benches/omniorb/cdr_bench.cc` for exactly what each measures).
//!
//! Before timing, every omniORB bench is checked against rtorb on the same octets: its encodings
//! must equal rtorb's octet for octet, and a checksum over all it decodes must equal the same
//! sum over what rtorb decodes.
//!
//! On AMD Zen CPUs glibc copies 4 KiB with `rep movsb`, which some relative misalignments of
//! source and destination make some 30 times slower (1.4 µs instead of 50 ns); whether a bench
//! hits that depends on where the allocator put its buffers, so `memcpy/1024` and
//! `omniorb_encode_native/1024` (a single `memcpy` of the elements) may show it. Running with
//! `GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=1000000` keeps glibc on its vector copy.

mod omniorb;

// The library target carries the link directives for omniORB's side (build.rs's cc and
// pkg-config output attach to it): naming it is what links it into this bench.
extern crate rtorb_benches as _;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use orb::cdr::GiopVersion;
use orb::cdr::{ByteOrder, CdrDecode, CdrEncode, Decoder, Encoder};
use orb::giop::{Header, Message, MessageWriter, RequestHeader};
use orb::iop::Ior;
use orb::ior::{ior_string_octets, parse_ior_string, IiopProfile};

fn cdr_sequence_of_longs(c: &mut Criterion) {
    let mut g = c.benchmark_group("cdr_seq_long");
    for len in [4usize, 1024] {
        let data: Vec<i32> = (0..len as i32).collect();
        g.throughput(Throughput::Bytes((len * 4) as u64));

        // The floor: copying the already-encoded octets, what any encoding costs at least.
        let encoded = {
            let mut e = Encoder::new(ByteOrder::NATIVE);
            data.encode(&mut e).unwrap();
            e.into_vec()
        };
        g.bench_with_input(BenchmarkId::new("memcpy", len), &encoded, |b, encoded| {
            let mut buf = Vec::with_capacity(encoded.len());
            b.iter(|| {
                buf.clear();
                buf.extend_from_slice(black_box(encoded));
                black_box(&buf);
            })
        });

        for (name, order) in [("native", ByteOrder::NATIVE), ("swapped", swapped())] {
            g.bench_with_input(
                BenchmarkId::new(format!("encode_{name}"), len),
                &data,
                |b, data| {
                    let mut buf = Vec::with_capacity(4 + len * 4);
                    b.iter(|| {
                        let mut e = Encoder::with_buffer(std::mem::take(&mut buf), order);
                        data.encode(&mut e).unwrap();
                        buf = e.into_vec();
                        black_box(&buf);
                    })
                },
            );
            let mut e = Encoder::new(order);
            data.encode(&mut e).unwrap();
            let bytes = e.into_vec();
            g.bench_with_input(
                BenchmarkId::new(format!("decode_{name}"), len),
                &bytes,
                |b, bytes| {
                    b.iter(|| {
                        let mut d = Decoder::new(black_box(bytes), order);
                        black_box(Vec::<i32>::decode(&mut d).unwrap());
                    })
                },
            );

            // omniORB: the same octets out, and the sum of all the elements back.
            let swap = order != ByteOrder::NATIVE;
            let mut enc = omniorb::Bench::new(omniorb::Kind::SeqEncode, &data, &[], swap);
            enc.run(1);
            assert_eq!(
                enc.output(),
                bytes,
                "omniORB encodes {name} {len} as rtorb does"
            );
            let mut dec = omniorb::Bench::new(omniorb::Kind::SeqDecode, &[], &bytes, swap);
            let sum = data.iter().map(|&v| u64::from(v as u32)).sum::<u64>() + len as u64;
            assert_eq!(
                dec.verify(),
                sum,
                "omniORB decodes {name} {len} as rtorb does"
            );
            g.bench_function(
                BenchmarkId::new(format!("omniorb_encode_{name}"), len),
                |b| b.iter_custom(|iters| enc.time(iters)),
            );
            g.bench_function(
                BenchmarkId::new(format!("omniorb_decode_{name}"), len),
                |b| b.iter_custom(|iters| dec.time(iters)),
            );
        }
    }
    g.finish();
}

fn swapped() -> ByteOrder {
    match ByteOrder::NATIVE {
        ByteOrder::LittleEndian => ByteOrder::BigEndian,
        ByteOrder::BigEndian => ByteOrder::LittleEndian,
    }
}

/// omniNames' root context IOR (IIOP 1.2, ORB type and code set components), as omniORB 4.2.5
/// printed it.
const OMNINAMES_IOR: &str = include_str!("../../orb/tests/vectors/omninames-root.ior");

fn stringified_ior(c: &mut Criterion) {
    let text = OMNINAMES_IOR.trim();
    let mut g = c.benchmark_group("ior_decode");
    g.throughput(Throughput::Bytes(text.len() as u64));
    // The floor: turning the hex into octets, which every IOR parser must do.
    g.bench_function("hex_only", |b| {
        b.iter(|| black_box(ior_string_octets(black_box(text)).unwrap()))
    });
    g.bench_function("ior", |b| {
        b.iter(|| black_box(parse_ior_string(black_box(text)).unwrap()))
    });
    g.bench_function("ior_and_iiop_profile", |b| {
        b.iter(|| {
            let ior = parse_ior_string(black_box(text)).unwrap();
            let profile = IiopProfile::from_tagged(&ior.profiles[0]).unwrap();
            black_box((ior, profile))
        })
    });

    // omniORB: the same hex-then-CDR decode into IOP::IOR (and IIOP::ProfileBody), checked
    // against what rtorb decodes; and, for scale, its public API, which also builds an object
    // reference (no rtorb bench does that part).
    let ior = parse_ior_string(text).unwrap();
    let profile = IiopProfile::from_tagged(&ior.profiles[0]).unwrap();
    let mut omni_ior = omniorb::Bench::new(omniorb::Kind::IorDecode, &[], text.as_bytes(), false);
    let ior_sum = (ior.type_id.len() as u64
        | (ior.profiles.len() as u64) << 16
        | (ior.profiles[0].data.len() as u64) << 32)
        + profile_octets_sum(&ior);
    assert_eq!(
        omni_ior.verify(),
        ior_sum,
        "omniORB decodes the IOR as rtorb does"
    );
    let mut omni_profile =
        omniorb::Bench::new(omniorb::Kind::IorAndProfile, &[], text.as_bytes(), false);
    let profile_sum = (u64::from(profile.port)
        | (profile.object_key.len() as u64) << 16
        | (profile.components.len() as u64) << 32
        | (profile.host.len() as u64) << 48)
        + profile_octets_sum(&ior);
    assert_eq!(
        omni_profile.verify(),
        profile_sum,
        "omniORB decodes the profile as rtorb does"
    );
    let mut omni_object =
        omniorb::Bench::new(omniorb::Kind::StringToObject, &[], text.as_bytes(), false);
    assert_eq!(
        omni_object.verify(),
        1,
        "omniORB's string_to_object yields an object"
    );
    g.bench_function("omniorb", |b| b.iter_custom(|iters| omni_ior.time(iters)));
    g.bench_function("omniorb_and_iiop_profile", |b| {
        b.iter_custom(|iters| omni_profile.time(iters))
    });
    g.bench_function("omniorb_string_to_object", |b| {
        b.iter_custom(|iters| omni_object.time(iters))
    });
    g.finish();
}

/// Every octet of every profile, weighted by position: the part of the omniORB IOR checksum
/// that covers the whole decode.
fn profile_octets_sum(ior: &Ior) -> u64 {
    ior.profiles
        .iter()
        .flat_map(|p| p.data.iter().enumerate())
        .map(|(j, &o)| u64::from(o) * (j as u64 + 1))
        .sum()
}

/// The design's `cube_seq` request: a 12-octet object key, the operation name and a
/// `sequence<long>` of 1,024, encoded into a reused buffer then decoded (header and arguments)
/// from the octets, as a server does with every request.
fn request_with_sequence(c: &mut Criterion) {
    let key = b"\x00cubit\x00\x00\x00\x01\x00\x07";
    let data: Vec<i32> = (0..1024).collect();
    let header = Header::Request(RequestHeader::new(7, key, "cube_seq"));
    let mut g = c.benchmark_group("request_seq_long_1024");
    g.throughput(Throughput::Elements(1));

    let encode = |buf: Vec<u8>, version: Option<GiopVersion>| -> Vec<u8> {
        let mut w = match version {
            Some(v) => MessageWriter::with_buffer(buf, v, ByteOrder::NATIVE, &header).unwrap(),
            None => MessageWriter::lite_with_buffer(buf, ByteOrder::NATIVE, &header).unwrap(),
        };
        data.encode(w.body()).unwrap();
        w.finish().unwrap()
    };

    // The floor: copying the finished message, what sending it costs at least.
    let message = encode(Vec::new(), Some(GiopVersion::V1_2));
    g.bench_function("memcpy", |b| {
        let mut buf = Vec::with_capacity(message.len());
        b.iter(|| {
            buf.clear();
            buf.extend_from_slice(black_box(&message));
            black_box(&buf);
        })
    });

    for (name, version) in [
        ("giop_1_0", Some(GiopVersion::V1_0)),
        ("giop_1_2", Some(GiopVersion::V1_2)),
        ("giop_lite", None),
    ] {
        g.bench_function(format!("encode_decode_{name}"), |b| {
            let mut buf = Vec::with_capacity(message.len());
            b.iter(|| {
                let bytes = encode(std::mem::take(&mut buf), version);
                {
                    let msg = match version {
                        Some(_) => Message::decode(black_box(&bytes)).unwrap(),
                        None => Message::decode_lite(black_box(&bytes), ByteOrder::NATIVE).unwrap(),
                    };
                    let Header::Request(req) = msg.header() else {
                        unreachable!("a request was encoded")
                    };
                    black_box(&req.operation);
                    let args = Vec::<i32>::decode(&mut msg.body_decoder()).unwrap();
                    black_box(args);
                }
                buf = bytes;
            })
        });
    }

    // omniORB: the same GIOP 1.2 octets (checked), then unmarshalled as its server does and
    // checked by a sum over the request id, response flags, key, operation and arguments.
    let mut omni = omniorb::Bench::new(omniorb::Kind::Request, &data, key, false);
    omni.run(1);
    assert_eq!(
        omni.output(),
        message,
        "omniORB marshals the request as rtorb does"
    );
    let sum = 7
        + 3
        + key.len() as u64
        + u64::from(b'c')
        + 9
        + data.len() as u64
        + key.iter().map(|&o| u64::from(o)).sum::<u64>()
        + b"cube_seq".iter().map(|&o| u64::from(o)).sum::<u64>()
        + data.iter().map(|&v| u64::from(v as u32)).sum::<u64>();
    assert_eq!(
        omni.verify(),
        sum,
        "omniORB unmarshals the request as rtorb does"
    );
    g.bench_function("omniorb_cdr_payload", |b| {
        b.iter_custom(|iters| omni.time(iters))
    });
    g.finish();
}

criterion_group!(
    benches,
    cdr_sequence_of_longs,
    stringified_ior,
    request_with_sequence
);
criterion_main!(benches);
