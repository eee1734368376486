//! The fuzz targets' properties on stable: every input of `fuzz/corpus/<target>/`, then inputs
//! made from them by mutation (byte flips, insertions of SQL's special characters, splices of
//! two inputs) for `TREK_FUZZ_SECONDS` per target (default 1). Deterministic: the mutations
//! come from a fixed-seed generator, so a failure reproduces.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use trek_core::fuzzing::{check_directives, check_file_name, check_split};

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that mean something to the splitter, the name parser or the directive parser.
const SPECIAL: &[&[u8]] = &[
    b";",
    b"'",
    b"''",
    b"\"",
    b"$",
    b"$$",
    b"$a$",
    b"--",
    b"/*",
    b"*/",
    b"\n",
    b"\r\n",
    b"(",
    b")",
    b"E'",
    b"\\",
    b"BEGIN ATOMIC",
    b"CASE",
    b"END",
    b"_",
    b".",
    b"..",
    b".sql",
    b".down",
    b".up",
    b"-- trek:",
    b"no_transaction",
    b"lock_timeout 5s",
    b"run always",
    b"0",
    b"9",
    b"\xef\xbb\xbf",
    b"\xc3\xa9",
    b" ",
];

fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut input = corpus[rng.below(corpus.len())].clone();
    for _ in 0..=rng.below(4) {
        let at = rng.below(input.len() + 1);
        match rng.below(4) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] = (rng.next() & 0x7f) as u8;
            }
            1 if !input.is_empty() => {
                let end = (at + rng.below(8)).min(input.len());
                input.drain(at.min(end)..end);
            }
            2 => {
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len() + 1);
                input.splice(at..at, other[from..].iter().copied());
            }
            _ => {
                let special = SPECIAL[rng.below(SPECIAL.len())];
                input.splice(at..at, special.iter().copied());
            }
        }
    }
    input
}

fn budget() -> Duration {
    let seconds = std::env::var("TREK_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(1.0);
    Duration::from_secs_f64(seconds)
}

fn run(target: &str, check: fn(&[u8]), seed: u64) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let corpus: Vec<Vec<u8>> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| fs::read(entry.unwrap().path()).unwrap())
        .collect();
    assert!(!corpus.is_empty(), "no seed corpus in {}", dir.display());
    for input in &corpus {
        check(input);
    }
    let mut rng = Rng(seed);
    let started = Instant::now();
    let budget = budget();
    let mut runs = 0u64;
    while started.elapsed() < budget {
        let input = mutate(&mut rng, &corpus);
        let outcome = std::panic::catch_unwind(|| check(&input));
        assert!(
            outcome.is_ok(),
            "{target}: the input {:?} breaks a property (run {runs}, seed {seed})",
            String::from_utf8_lossy(&input)
        );
        runs += 1;
    }
}

#[test]
fn split_keeps_its_properties_on_the_corpus_and_mutations() {
    run("split", check_split, 0x5eed_0001);
}

#[test]
fn file_names_keep_their_properties_on_the_corpus_and_mutations() {
    run("file_name", check_file_name, 0x5eed_0002);
}

#[test]
fn directives_keep_their_properties_on_the_corpus_and_mutations() {
    run("directives", check_directives, 0x5eed_0003);
}
