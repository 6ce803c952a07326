//! Consistent hashing's tables: a Ketama ring and Maglev's lookup table over a callee's
//! weighted replicas, and the 64-bit mix both hash keys with.

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
pub(super) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A Ketama ring of `size` points over replicas with `weights`: each replica gets points in
/// proportion to its weight (at least one), each point at the hash of (replica, point).
pub(super) fn ring(weights: &[f64], size: u32) -> Vec<(u64, u32)> {
    let total: f64 = weights.iter().sum();
    let mut points: Vec<(u64, u32)> = Vec::new();
    for (r, w) in weights.iter().enumerate() {
        let count = ((f64::from(size) * w / total).round() as u64).max(1);
        for p in 0..count {
            points.push((mix(mix(r as u64) ^ p), r as u32));
        }
    }
    points.sort_unstable();
    points
}

/// Maglev's lookup table of prime size `m` (Eisenbud et al., NSDI 2016): each replica walks
/// its own permutation of the slots (offset and skip from two hashes of it) and takes the
/// next free one in turn, a replica of higher weight taking proportionally more turns,
/// until the table is full.
pub(super) fn maglev(weights: &[f64], m: u32) -> Vec<(u64, u32)> {
    let n = weights.len();
    let m64 = u64::from(m);
    let perm = |r: usize, j: u64| {
        let offset = mix(r as u64 ^ 0x6d61_676c) % m64;
        let skip = mix(r as u64 ^ 0x736b_6970) % (m64 - 1) + 1;
        (offset + j * skip) % m64
    };
    let max = weights.iter().cloned().fold(0.0, f64::max);
    let mut next = vec![0u64; n];
    let mut credit = vec![0.0; n];
    let mut table = vec![(0u64, u32::MAX); m as usize];
    let mut filled = 0;
    while filled < m as usize {
        for r in 0..n {
            credit[r] += weights[r] / max;
            if credit[r] < 1.0 {
                continue;
            }
            credit[r] -= 1.0;
            let mut slot = perm(r, next[r]);
            while table[slot as usize].1 != u32::MAX {
                next[r] += 1;
                slot = perm(r, next[r]);
            }
            table[slot as usize] = (0, r as u32);
            next[r] += 1;
            filled += 1;
            if filled == m as usize {
                break;
            }
        }
    }
    table
}
