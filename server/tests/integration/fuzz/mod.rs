//! Generated hostile input (RELIABILITY.md section 1): every parser that reads
//! what a client, a receiver or an operator sends, and the live HTTP surface.
//!
//! Each target runs `PROPTEST_CASES` cases (the long run,
//! `scripts/reliability/10-fuzz.sh`, sets 1,000,000), or a short default here
//! so `make test` stays quick, and prints `fuzz <target>: N cases, P panics`.
//! The short run draws from a fixed seed, so a gate like CI replays the same
//! cases every time; the long run (or `PROPTEST_RNG_SEED`) explores anew.
//! A failing case's seed is kept in `proptest-regressions/` (replayed first on
//! every run) and its input as a named test in `regressions.rs`.

mod delivery;
mod destinations;
mod events;
mod hostile;
mod http;
mod patterns;
mod regressions;

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed, TestCaseError, TestRunner};
use std::sync::atomic::{AtomicU64, Ordering};

/// `PROPTEST_CASES`, or `default` when it is not set.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The short run's fixed seed, unless the caller asked for a long run or a seed.
pub fn seed() -> RngSeed {
    let exploring = [
        "PROPTEST_CASES",
        "PROPTEST_RNG_SEED",
        "ALERTWIRE_FUZZ_HTTP_CASES",
    ]
    .iter()
    .any(|name| std::env::var_os(name).is_some());
    if exploring {
        Config::default().rng_seed
    } else {
        RngSeed::Fixed(0x00a1_e27e)
    }
}

/// Runs `test` on `cases` values of `strategy` (shrinking a failure to its
/// smallest form) and prints the target's figures; fails the calling test on
/// a panic or a broken property.
pub fn run<S: Strategy>(
    source_file: &'static str,
    target: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let config = Config {
        cases,
        source_file: Some(source_file),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        // Shrinking a failure of a big input can take long; this is plenty.
        max_shrink_iters: 2048,
        rng_seed: seed(),
        ..Config::default()
    };
    let ran = AtomicU64::new(0);
    let started = std::time::Instant::now();
    let result = TestRunner::new(config).run(&strategy, |value| {
        ran.fetch_add(1, Ordering::Relaxed);
        test(value)
    });
    let ran = ran.load(Ordering::Relaxed);
    let failed = u32::from(result.is_err());
    let secs = started.elapsed().as_secs_f64();
    println!("fuzz {target}: {ran} cases, {failed} panics, {secs:.1} s");
    if let Err(err) = result {
        panic!("fuzz {target} failed: {err}");
    }
}
