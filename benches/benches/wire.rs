//! Wire-layer costs: CDR encode and decode of the design's cubit payload (a `sequence<long>` of
//! 1,024), side by side with the plain copy that bounds them from below.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use orb::cdr::GiopVersion;
use orb::cdr::{ByteOrder, CdrDecode, CdrEncode, Decoder, Encoder};
use orb::giop::{Header, Message, MessageWriter, RequestHeader};
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
    g.finish();
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
    g.finish();
}

criterion_group!(
    benches,
    cdr_sequence_of_longs,
    stringified_ior,
    request_with_sequence
);
criterion_main!(benches);
