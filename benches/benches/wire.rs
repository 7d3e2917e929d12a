//! Wire-layer costs: CDR encode and decode of the design's cubit payload (a `sequence<long>` of
//! 1,024), side by side with the plain copy that bounds them from below.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use orb::cdr::{ByteOrder, CdrDecode, CdrEncode, Decoder, Encoder};
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

criterion_group!(benches, cdr_sequence_of_longs, stringified_ior);
criterion_main!(benches);
