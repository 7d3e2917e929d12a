//! Request demultiplexing in the object adapter (after TAO's active demultiplexing papers):
//! object key → servant for 1 to 100,000 active objects in each active object map strategy, and
//! key → POA for POAs nested 1 to 25 deep. Active demultiplexing should cost the same at every
//! size and depth; the linear map grows with the number of objects, the hash map with little
//! but hashing.
//!
//! The keys are looked up in a shuffled order spread over the whole set (so the slots touched
//! are not the ones just touched, unlike one hot key), but read from one contiguous buffer in
//! that order, as a real ORB reads a key it has just received.

use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use orb::poa::{AomStrategy, Decision, Lifespan, Poa, PoaTree, Policy};

/// Stands for the ORB's `dyn Servant`: a fat `Arc`, like the real thing.
trait Servant: Send + Sync {
    fn number(&self) -> u64;
}

struct Object(u64);

impl Servant for Object {
    fn number(&self) -> u64 {
        self.0
    }
}

type S = Arc<dyn Servant>;

/// Keys concatenated in the order they will be looked up.
struct KeyRing {
    octets: Vec<u8>,
    bounds: Vec<(usize, usize)>,
    /// The servant number each key must reach.
    expected: Vec<u64>,
}

impl KeyRing {
    fn new(keys: &[Vec<u8>], seed: u64) -> Self {
        let mut order: Vec<usize> = (0..keys.len()).collect();
        // Fisher–Yates with xorshift64: deterministic, no dependency.
        let mut x = seed | 1;
        for i in (1..order.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            order.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut octets = Vec::new();
        let mut bounds = Vec::new();
        for &i in &order {
            let start = octets.len();
            octets.extend_from_slice(&keys[i]);
            bounds.push((start, octets.len()));
        }
        let expected = order.iter().map(|&i| i as u64).collect();
        KeyRing {
            octets,
            bounds,
            expected,
        }
    }
}

type Group<'a> = criterion::BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// Checks every key reaches its own servant, then times `dispatch_decision` going round the ring.
fn bench_ring(g: &mut Group<'_>, name: &str, param: usize, tree: &PoaTree<S>, ring: &KeyRing) {
    for (&(a, b), &n) in ring.bounds.iter().zip(&ring.expected) {
        match tree.dispatch_decision(&ring.octets[a..b]) {
            Decision::Dispatch(t) => assert_eq!(t.servant.number(), n),
            Decision::Hold => panic!("key {n}: the manager must be active"),
            Decision::Reject(e) => panic!("key {n} must dispatch before it is timed, got {e:?}"),
        }
    }
    g.bench_with_input(BenchmarkId::new(name, param), ring, |b, ring| {
        let mut i = 0;
        b.iter(|| {
            let (s, e) = ring.bounds[i];
            i += 1;
            if i == ring.bounds.len() {
                i = 0;
            }
            black_box(tree.dispatch_decision(black_box(&ring.octets[s..e])));
        })
    });
}

const SIZES: [usize; 5] = [1, 100, 1_000, 10_000, 100_000];

fn key_to_servant(c: &mut Criterion) {
    let mut g = c.benchmark_group("poa_demux_servants");
    // Every map gets the same servants, allocated one after the other before any activation,
    // so that the figures differ by what the maps touch, not by where the allocator happened
    // to put the servants between the maps' own allocations.
    let servants: Vec<Vec<S>> = SIZES
        .iter()
        .map(|&n| (0..n as u64).map(|i| Arc::new(Object(i)) as S).collect())
        .collect();
    // The floor: reaching a servant among n in the same spread order and cloning its handle,
    // with no key at all — what any active object map must pay for the memory it touches.
    for (n, servants) in SIZES.into_iter().zip(&servants) {
        let ring = KeyRing::new(&vec![Vec::new(); n], SEED);
        let order: Vec<usize> = ring.expected.iter().map(|&i| i as usize).collect();
        g.bench_with_input(
            BenchmarkId::new("floor_vec_index", n),
            &order,
            |b, order| {
                let mut i = 0;
                b.iter(|| {
                    let s = servants[order[i]].clone();
                    i += 1;
                    if i == order.len() {
                        i = 0;
                    }
                    black_box(s);
                })
            },
        );
    }
    for (name, strategy) in [
        ("active_demux", AomStrategy::ActiveDemux),
        ("dynamic_hash", AomStrategy::DynamicHash),
        ("linear", AomStrategy::Linear),
    ] {
        for (n, servants) in SIZES.into_iter().zip(&servants) {
            let tree: PoaTree<S> = PoaTree::new();
            let root = tree.root();
            root.manager().activate().unwrap();
            let poa = root
                .create_poa(
                    "objects",
                    Some(root.manager().clone()),
                    &[Policy::ActiveObjectMap(strategy)],
                )
                .unwrap();
            let ids: Vec<Vec<u8>> = servants
                .iter()
                .map(|s| poa.activate_object(s.clone()).unwrap())
                .collect();
            let keys: Vec<Vec<u8>> = ids
                .iter()
                .map(|id| poa.id_to_reference(id).unwrap())
                .collect();
            let ring = KeyRing::new(&keys, SEED);
            bench_ring(&mut g, name, n, &tree, &ring);
        }
    }
    g.finish();
}

const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// POAs nested `depth` deep below the RootPOA, 100 objects in the deepest.
fn nested(tree: &PoaTree<S>, depth: usize, lifespan: Lifespan) -> Poa<S> {
    let root = tree.root();
    root.manager().activate().unwrap();
    let mut poa = root;
    for d in 0..depth {
        poa = poa
            .create_poa(
                &format!("level-{d}"),
                Some(tree.root().manager().clone()),
                &[Policy::Lifespan(lifespan)],
            )
            .unwrap();
    }
    poa
}

fn key_to_poa(c: &mut Criterion) {
    let mut g = c.benchmark_group("poa_demux_depth");
    for (name, lifespan) in [
        ("transient", Lifespan::Transient),
        ("persistent", Lifespan::Persistent),
    ] {
        for depth in [1usize, 5, 10, 25] {
            let tree: PoaTree<S> = PoaTree::new();
            let poa = nested(&tree, depth, lifespan);
            let keys: Vec<Vec<u8>> = (0..100u64)
                .map(|i| {
                    let id = poa.activate_object(Arc::new(Object(i))).unwrap();
                    poa.id_to_reference(&id).unwrap()
                })
                .collect();
            let ring = KeyRing::new(&keys, 7);
            bench_ring(&mut g, name, depth, &tree, &ring);
        }
    }
    // For contrast: a persistent key from an earlier ORB instance walks the path (the slow
    // path), which grows with the depth.
    for depth in [1usize, 5, 10, 25] {
        let old: PoaTree<S> = PoaTree::new();
        let old_poa = nested(&old, depth, Lifespan::Persistent);
        let tree: PoaTree<S> = PoaTree::new();
        let poa = nested(&tree, depth, Lifespan::Persistent);
        let keys: Vec<Vec<u8>> = (0..100u64)
            .map(|i| {
                let id = old_poa.activate_object(Arc::new(Object(i))).unwrap();
                poa.activate_object_with_id(&id, Arc::new(Object(i)))
                    .unwrap();
                old_poa.id_to_reference(&id).unwrap()
            })
            .collect();
        let ring = KeyRing::new(&keys, 7);
        bench_ring(&mut g, "persistent_after_restart", depth, &tree, &ring);
    }
    g.finish();
}

fn config() -> Criterion {
    // A shared two-core machine: short, repeated measurements rather than long ones.
    Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = key_to_servant, key_to_poa
}
criterion_main!(benches);
