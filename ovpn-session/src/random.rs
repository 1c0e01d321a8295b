//! Where the session's randomness comes from (session ids, key material, IV seeds). The default is
//! the operating system's generator through ring; tests and simulations inject a seeded one.

use std::fmt::Debug;

/// A source of random bytes. Implementations must be cryptographically secure outside tests.
pub trait Random: Debug + Send + Sync {
    /// Fills `out` with random bytes.
    fn fill(&self, out: &mut [u8]);
}

/// The operating system's generator (ring's `SystemRandom`).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRandom;

impl Random for SystemRandom {
    fn fill(&self, out: &mut [u8]) {
        use ring::rand::SecureRandom as _;
        // getrandom does not fail on Linux after boot; a failure here is unrecoverable.
        if ring::rand::SystemRandom::new().fill(out).is_err() {
            panic!("the operating system's random number generator failed");
        }
    }
}

/// A deterministic generator for tests and simulations (not secure: never use it for real
/// sessions). Each call continues the same stream.
#[derive(Debug)]
pub struct SeededRandom(std::sync::Mutex<u64>);

impl SeededRandom {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(std::sync::Mutex::new(seed))
    }
}

impl Random for SeededRandom {
    fn fill(&self, out: &mut [u8]) {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for chunk in out.chunks_mut(8) {
            let z = splitmix64(&mut state);
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

/// SplitMix64: a tiny generator whose output never changes between versions of anything, so a
/// seed replays the same run forever (tests and simulations only; not for cryptography).
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A random array.
pub(crate) fn array<const N: usize>(rng: &dyn Random) -> [u8; N] {
    let mut a = [0u8; N];
    rng.fill(&mut a);
    a
}
