//! The one random generator, from the shared vocabulary: SplitMix64, seeded by the caller.
//!
//! Everything random an execution sees draws from it: retry jitter, `States.UUID`,
//! `States.MathRandom`, JSONata's `$random` and `$uuid`. Seeds come from the execution (its ARN,
//! an event id, an expression), never from the operating system, so a step run again after a
//! restart draws the same numbers.

pub use crate::model::rng::SplitMix64;
