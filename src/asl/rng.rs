//! The one random generator: SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom
//! number generators", OOPSLA 2014), seeded by the caller.
//!
//! Everything random an execution sees draws from it: retry jitter, `States.UUID`,
//! `States.MathRandom`, JSONata's `$random` and `$uuid`. Seeds come from the execution (its ARN,
//! an event id, an expression), never from the operating system, so a step run again after a
//! restart draws the same numbers.

/// A SplitMix64 stream. `Copy`, so a caller can keep it in a `Cell`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in [0, 1) from the next 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    #[test]
    fn matches_the_reference_sequence() {
        // The first outputs for seed 0 of the published reference implementation.
        let mut r = SplitMix64::new(0);
        let got = [r.next_u64(), r.next_u64(), r.next_u64()];
        assert_eq!(
            got,
            [
                0xE220_A839_7B1D_CDAF,
                0x6E78_9E6A_A1B9_65F4,
                0x06C4_5D18_8009_454F
            ]
        );
        for seed in 0..100 {
            let x = SplitMix64::new(seed).next_f64();
            assert!((0.0..1.0).contains(&x), "seed {seed}: {x}");
        }
    }
}
