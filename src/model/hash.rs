//! One hash that is the same in every process and on every machine (std's hasher is seeded
//! at random): FNV-1a, 64 bits. Partitions and lock stripes are chosen with it, so it must
//! never change (partitions are stored).

/// A map for the hot paths in memory: foldhash, seeded at random per process, in place of
/// std's SipHash, which cost a start 2-4% of its instructions in lookups of ARNs and timer
/// keys. Nothing hashed with it is stored or leaves the process.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A set hashed as [`FastMap`] is.
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// FNV-1a of `s`.
pub fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_of_known_strings() {
        let cases = [
            ("empty", "", 0xcbf2_9ce4_8422_2325),
            ("a", "a", 0xaf63_dc4c_8601_ec8c),
            ("foobar", "foobar", 0x85944171f73967e8),
        ];
        for (name, s, want) in cases {
            assert_eq!(stable_hash(s), want, "{name}");
        }
    }
}
