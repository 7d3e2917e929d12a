//! The generation-time half of the skeletons' perfect hash (hash-and-displace, the `phf`
//! crate's algorithm): keys are spread over buckets of about five, and each bucket, largest
//! first, gets the displacement pair `(d1, d2)` that puts all its keys in free slots of a table
//! exactly as long as the key set. At run time a lookup is one hash, two multiply-shifts and one
//! string comparison, whatever the number of operations.
//!
//! [`hash`] and [`slot`] must compute exactly what `orb::codegen::phf_hash` and
//! `orb::codegen::phf_slot` compute; a test pins them together. They are copied rather than
//! called because idlc runs in build scripts and should not pull in the ORB runtime (orb is only
//! a dev-dependency), as prost-build and tonic-build stay apart from their runtimes.

const K0: u64 = 0x9e37_79b9_7f4a_7c15;
const K1: u64 = 0xd6e8_feb8_6659_fd93;
const K2: u64 = 0xa076_1d64_78bd_642f;

/// Keys per bucket, on average: phf's choice, a good balance of table size and search time.
const LAMBDA: usize = 5;

/// Seeds tried before giving up; a handful suffice in practice.
const MAX_SEEDS: u64 = 1000;

fn fold_mul(a: u64, b: u64) -> u64 {
    let p = (a as u128).wrapping_mul(b as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Eight octets as a little-endian word (zero if out of range, which callers rule out).
fn read8(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

fn read4(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, |w: [u8; 4]| u32::from_le_bytes(w) as u64)
}

/// Same as `orb::codegen::phf_hash`.
pub fn hash(key: &[u8], seed: u64) -> u64 {
    let len = key.len();
    let mut h = seed ^ K0.wrapping_mul(len as u64 + 1);
    let (a, b) = if len > 8 {
        let mut at = 0;
        while at + 8 < len {
            h = fold_mul(h ^ read8(key, at), K1);
            at += 8;
        }
        (read8(key, len - 8), 0)
    } else if len >= 4 {
        (read4(key, 0), read4(key, len - 4))
    } else if len > 0 {
        let b = |i: usize| key.get(i).copied().unwrap_or(0) as u64;
        ((b(0) << 16) | (b(len / 2) << 8) | b(len - 1), 0)
    } else {
        (0, 0)
    };
    fold_mul(h ^ a, K2 ^ b)
}

/// `x` mapped onto `0..n` by a multiply and a shift (Lemire's "fastrange"), no division.
fn reduce(x: u32, n: usize) -> usize {
    ((x as u64 * n as u64) >> 32) as usize
}

fn bucket(hash: u64, buckets: usize) -> usize {
    reduce(fold_mul(hash, K0) as u32, buckets)
}

fn displace(hash: u64, (d1, d2): (u32, u32), len: usize) -> usize {
    let (f1, f2) = (hash as u32, (hash >> 32) as u32);
    // d2 is spread over the high bits, which are the ones `reduce` keeps.
    let x = f1
        .wrapping_mul(d1)
        .wrapping_add(f2)
        .wrapping_add(d2.wrapping_mul(0x9e37_79b9));
    reduce(x, len)
}

/// Same as `orb::codegen::phf_slot`.
pub fn slot(hash: u64, displacements: &[(u32, u32)], len: usize) -> usize {
    let g = bucket(hash, displacements.len());
    let d = displacements.get(g).copied().unwrap_or((0, 0));
    displace(hash, d, len)
}

/// A perfect hash over a key set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phf {
    pub seed: u64,
    pub displacements: Vec<(u32, u32)>,
    /// `order[slot]` is the index (in the caller's key list) of the key in that slot.
    pub order: Vec<usize>,
}

/// Builds a perfect hash for distinct `keys`; `None` if the keys repeat (or, in theory, if no
/// seed works).
pub fn generate(keys: &[&str]) -> Option<Phf> {
    let n = keys.len();
    let mut distinct: Vec<&str> = keys.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != n {
        return None;
    }
    (0..MAX_SEEDS).find_map(|i| try_seed(keys, splitmix(i)))
}

fn splitmix(i: u64) -> u64 {
    let mut z = i.wrapping_add(1).wrapping_mul(K0);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn try_seed(keys: &[&str], seed: u64) -> Option<Phf> {
    let n = keys.len();
    let hashes: Vec<u64> = keys.iter().map(|k| hash(k.as_bytes(), seed)).collect();
    let buckets_len = n.div_ceil(LAMBDA).max(1);
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); buckets_len];
    for (i, &h) in hashes.iter().enumerate() {
        buckets[bucket(h, buckets_len)].push(i);
    }
    let mut by_size: Vec<usize> = (0..buckets_len).collect();
    by_size.sort_by_key(|&b| std::cmp::Reverse(buckets[b].len()));

    let mut table: Vec<Option<usize>> = vec![None; n];
    let mut stamp = vec![0u64; n];
    let mut generation = 0u64;
    let mut displacements = vec![(0u32, 0u32); buckets_len];
    let limit = u32::try_from(n).ok()?;
    for b in by_size {
        let keys_in = &buckets[b];
        if keys_in.is_empty() {
            continue;
        }
        let mut placed = false;
        'search: for d1 in 0..limit {
            for d2 in 0..limit {
                generation += 1;
                let fits = keys_in.iter().all(|&k| {
                    let s = displace(hashes[k], (d1, d2), n);
                    let free = table[s].is_none() && stamp[s] != generation;
                    stamp[s] = generation;
                    free
                });
                if fits {
                    for &k in keys_in {
                        table[displace(hashes[k], (d1, d2), n)] = Some(k);
                    }
                    displacements[b] = (d1, d2);
                    placed = true;
                    break 'search;
                }
            }
        }
        if !placed {
            return None;
        }
    }
    let order = table.into_iter().collect::<Option<Vec<usize>>>()?;
    Some(Phf {
        seed,
        displacements,
        order,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_finds_its_slot() {
        for n in [1usize, 2, 5, 10, 50, 300] {
            let keys: Vec<String> = (0..n).map(|i| format!("operation_{i}")).collect();
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            let phf = generate(&refs).expect("perfect hash");
            assert_eq!(phf.order.len(), n);
            for (i, k) in refs.iter().enumerate() {
                let s = slot(hash(k.as_bytes(), phf.seed), &phf.displacements, n);
                assert_eq!(phf.order[s], i, "{k}");
            }
        }
    }

    #[test]
    fn repeated_keys_are_refused() {
        assert_eq!(generate(&["a", "b", "a"]), None);
    }

    #[test]
    fn agrees_with_the_runtime_half_in_orb() {
        for (k, seed) in [
            ("", 0),
            ("_is_a", 1),
            ("echo_string", 99),
            ("a_much_longer_name_x", 7),
        ] {
            let h = hash(k.as_bytes(), seed);
            assert_eq!(h, orb::codegen::phf_hash(k.as_bytes(), seed));
            let d = [(1, 2), (3, 4), (5, 6)];
            assert_eq!(slot(h, &d, 11), orb::codegen::phf_slot(h, &d, 11));
        }
    }
}
