//! Request demultiplexing in the object adapter (after TAO's active demultiplexing papers):
//! object key → servant among 1 to 100,000 active objects, in each active object map strategy,
//! beside the floor — a plain `Vec` of the same servants indexed in the same order, each handle
//! cloned as the POA clones it; and object key → POA for POAs nested 1 to 25 deep. Shared by
//! the `poa_demux` bench and the experiments suite.
//!
//! The keys are looked up in a shuffled order spread over the whole set (so the slots touched
//! are not the ones just touched, unlike one hot key), but read from one contiguous buffer in
//! that order, as a real ORB reads a key it has just received.

use crate::measure::Sample;
use orb::poa::{AomStrategy, Decision, Lifespan, Poa, PoaTree, Policy};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

/// Stands for the ORB's `dyn Servant`: a fat `Arc`, like the real thing.
pub trait Servant: Send + Sync {
    fn number(&self) -> u64;
}

/// The servant numbered `.0`, which every key must reach.
pub struct Object(pub u64);

impl Servant for Object {
    fn number(&self) -> u64 {
        self.0
    }
}

pub type S = Arc<dyn Servant>;

/// `n` servants numbered 0..n.
pub fn servants(n: usize) -> Vec<S> {
    (0..n as u64).map(|i| Arc::new(Object(i)) as S).collect()
}

/// The numbers of servants measured.
pub const SIZES: [usize; 6] = [1, 10, 100, 1_000, 10_000, 100_000];

/// The shuffle's seed: every ring of the same length has the same order.
pub const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// Keys concatenated in the order they will be looked up.
pub struct KeyRing {
    pub octets: Vec<u8>,
    pub bounds: Vec<(usize, usize)>,
    /// The servant number each key must reach.
    pub expected: Vec<u64>,
}

impl KeyRing {
    pub fn new(keys: &[Vec<u8>], seed: u64) -> Self {
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

    /// The `i`th key of the ring.
    pub fn key(&self, i: usize) -> &[u8] {
        let (s, e) = self.bounds[i];
        &self.octets[s..e]
    }
}

/// A POA of `strategy` under an active manager, with `servants` activated in order; the
/// keys of their references, in the same order.
pub fn populated(strategy: AomStrategy, servants: &[S]) -> (PoaTree<S>, Vec<Vec<u8>>) {
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
    let keys = servants
        .iter()
        .map(|s| {
            let id = poa.activate_object(s.clone()).unwrap();
            poa.id_to_reference(&id).unwrap()
        })
        .collect();
    (tree, keys)
}

/// Every key of the ring must reach its own servant before it is timed — but for the linear
/// map, whose full check would take O(n²) (half a minute at 100,000), 1,000 keys spread over
/// the ring.
pub fn check_ring(tree: &PoaTree<S>, ring: &KeyRing, strategy: AomStrategy) {
    let step = match strategy {
        AomStrategy::Linear => ring.bounds.len().div_ceil(1_000),
        _ => 1,
    };
    let keys = ring.bounds.iter().zip(&ring.expected).step_by(step);
    for (&(a, b), &n) in keys {
        match tree.dispatch_decision(&ring.octets[a..b]) {
            Decision::Dispatch(t) => assert_eq!(t.servant.number(), n),
            Decision::Hold => panic!("key {n}: the manager must be active"),
            Decision::Reject(e) => panic!("key {n} must dispatch before it is timed, got {e:?}"),
        }
    }
}

/// ns per lookup of `one(i)` for `lookups` successive positions of a ring of `len`, going on
/// from `*at`, after as many untimed: the rounds alternate between contenders, whose tables
/// evict each other's from the caches, and each is timed in its own steady state (with 100,000
/// servants, the warm-up pass touches them all).
pub fn time_round(len: usize, lookups: usize, at: &mut usize, mut one: impl FnMut(usize)) -> f64 {
    let mut go = |n: usize| {
        for _ in 0..n {
            one(*at);
            *at += 1;
            if *at == len {
                *at = 0;
            }
        }
    };
    go(lookups);
    let start = Instant::now();
    go(lookups);
    start.elapsed().as_nanos() as f64 / lookups as f64
}

/// The linear map is measured up to this many servants: making 100,000 keys for it is itself
/// O(n²) (each `id_to_reference` searches the map), half a minute of setup.
pub const LINEAR_MAX: usize = 10_000;

/// The experiment: for each of `sizes`, `rounds` rounds that time the floor (`vec_floor`),
/// `active_demux`, `dynamic_hash` and (up to [`LINEAR_MAX`]) `linear` in turn, each over at
/// least `lookups` keys (and a whole pass over the servants; the linear map, whose lookups
/// cost O(n), over fewer: about `lookups × 100 / n`). One sample per contender, size and round,
/// in ns per lookup; `tick` is called after each size.
pub fn run(sizes: &[usize], rounds: usize, lookups: usize, tick: &mut dyn FnMut()) -> Vec<Sample> {
    let mut samples = Vec::new();
    for &n in sizes {
        // Every map gets the same servants, so that the figures differ by what the maps
        // touch, not by where the allocator put the servants.
        let servants = servants(n);
        let mut maps = vec![
            ("active_demux", AomStrategy::ActiveDemux),
            ("dynamic_hash", AomStrategy::DynamicHash),
        ];
        if n <= LINEAR_MAX {
            maps.push(("linear", AomStrategy::Linear));
        }
        let maps: Vec<(&str, PoaTree<S>, KeyRing)> = maps
            .into_iter()
            .map(|(name, strategy)| {
                let (tree, keys) = populated(strategy, &servants);
                let ring = KeyRing::new(&keys, SEED);
                check_ring(&tree, &ring, strategy);
                (name, tree, ring)
            })
            .collect();
        // The same spread order as the rings' (same seed, same length).
        let order: Vec<usize> = maps[0].2.expected.iter().map(|&i| i as usize).collect();
        let lookups_of = |name: &str| match name {
            "linear" => (lookups * 100 / n).clamp(10, lookups),
            _ => lookups.max(n),
        };
        let mut at = vec![0; maps.len() + 1];
        for round in 0..rounds {
            let floor = time_round(n, lookups.max(n), &mut at[0], |i| {
                black_box(servants[black_box(order[i])].clone());
            });
            samples.push(Sample::new("vec_floor", n as f64, round, floor));
            for (k, (name, tree, ring)) in maps.iter().enumerate() {
                let ns = time_round(n, lookups_of(name), &mut at[k + 1], |i| {
                    black_box(tree.dispatch_decision(black_box(ring.key(i))));
                });
                samples.push(Sample::new(name, n as f64, round, ns));
            }
        }
        tick();
    }
    samples
}

// ---- key → POA, by depth --------------------------------------------------------------------

/// The depths of POA nesting measured.
pub const DEPTHS: [usize; 4] = [1, 5, 10, 25];

/// The kinds of key looked up through nested POAs, by name: the first is the baseline.
pub const DEPTH_CASES: [&str; 3] = ["transient", "persistent", "persistent_after_restart"];

/// POAs nested `depth` deep below the RootPOA (each under the RootPOA's active manager), the
/// deepest handed back.
pub fn nested(tree: &PoaTree<S>, depth: usize, lifespan: Lifespan) -> Poa<S> {
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

/// A tree with 100 objects in POAs nested `depth` deep, and the ring of their keys, for the
/// depth case `case` (one of [`DEPTH_CASES`]): transient or persistent keys made by this tree
/// (active demultiplexing finds the POA at once), or persistent keys made by an earlier
/// instance of the same tree (an ORB restarted: the key's POA path is walked, the slow path,
/// which grows with the depth).
pub fn depth_ring(case: &str, depth: usize) -> (PoaTree<S>, KeyRing) {
    let tree: PoaTree<S> = PoaTree::new();
    let keys: Vec<Vec<u8>> = match case {
        "transient" | "persistent" => {
            let lifespan = if case == "transient" {
                Lifespan::Transient
            } else {
                Lifespan::Persistent
            };
            let poa = nested(&tree, depth, lifespan);
            (0..100u64)
                .map(|i| {
                    let id = poa.activate_object(Arc::new(Object(i))).unwrap();
                    poa.id_to_reference(&id).unwrap()
                })
                .collect()
        }
        "persistent_after_restart" => {
            let old: PoaTree<S> = PoaTree::new();
            let old_poa = nested(&old, depth, Lifespan::Persistent);
            let poa = nested(&tree, depth, Lifespan::Persistent);
            (0..100u64)
                .map(|i| {
                    let id = old_poa.activate_object(Arc::new(Object(i))).unwrap();
                    poa.activate_object_with_id(&id, Arc::new(Object(i)))
                        .unwrap();
                    old_poa.id_to_reference(&id).unwrap()
                })
                .collect()
        }
        other => panic!("no depth case named {other}; the cases are {DEPTH_CASES:?}"),
    };
    let ring = KeyRing::new(&keys, 7);
    (tree, ring)
}

/// The depth experiment: for each of [`DEPTHS`], `rounds` rounds that time each of
/// [`DEPTH_CASES`] in turn over `lookups` keys after as many untimed, every key checked first.
/// One sample per case, depth and round, in ns per lookup; `tick` is called after each depth.
pub fn run_depths(rounds: usize, lookups: usize, tick: &mut dyn FnMut()) -> Vec<Sample> {
    let mut samples = Vec::new();
    for depth in DEPTHS {
        let cases: Vec<(&str, PoaTree<S>, KeyRing)> = DEPTH_CASES
            .iter()
            .map(|&case| {
                let (tree, ring) = depth_ring(case, depth);
                check_ring(&tree, &ring, AomStrategy::ActiveDemux);
                (case, tree, ring)
            })
            .collect();
        let mut at = vec![0; cases.len()];
        for round in 0..rounds {
            for (k, (case, tree, ring)) in cases.iter().enumerate() {
                let ns = time_round(ring.bounds.len(), lookups, &mut at[k], |i| {
                    black_box(tree.dispatch_decision(black_box(ring.key(i))));
                });
                samples.push(Sample::new(case, depth as f64, round, ns));
            }
        }
        tick();
    }
    samples
}
