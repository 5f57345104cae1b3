//! Running a fuzz target over many inputs and judging every answer.
//!
//! A target takes the [`Mutator`] of one input, builds the input, drives it through the
//! parser and returns a [`Verdict`]: accepted, refused with a reason, or wrong (a 5xx, an
//! empty reason, an accepted input without its event). A panic is caught and is wrong too.
//! [`Campaign`] counts, tallies the distinct refusal reasons, measures the rate, and names
//! every wrong input by seed and index so that it can be replayed alone.
//!
//! Environment: `FUZZ_SEED` (else `PROPTEST_RNG_SEED`, which CI fixes, else a fresh seed,
//! printed), `FUZZ_INPUTS` (the long run's count; the short pass has its own), `FUZZ_FROM`
//! (the first index: `FUZZ_FROM=<index> FUZZ_INPUTS=1` replays one input).

use super::mutate::Mutator;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// What became of one input.
#[derive(Debug)]
pub enum Verdict {
    /// Taken in: a canonical event came out (or the topic is one Relance ignores).
    Accepted,
    /// Refused as it should be, with this reason.
    Refused(String),
    /// The property does not hold: what went wrong.
    Wrong(String),
}

/// A seeded run of `inputs` inputs from index `from`.
#[derive(Debug, Clone, Copy)]
pub struct Campaign {
    pub seed: u64,
    pub from: u64,
    pub inputs: u64,
}

/// Wrong inputs kept (and the run stopped) at most: enough to see a pattern.
const MAX_WRONG: usize = 10;
/// Distinct refusal reasons kept; beyond, they are counted as one.
const MAX_REASONS: usize = 2_000;

impl Campaign {
    /// The short pass of `make test`: `inputs` inputs (`FUZZ_INPUTS` does not apply).
    pub fn short(inputs: u64) -> Self {
        Self { seed: seed(), from: 0, inputs }
    }

    /// The long run of `make fuzz`: `FUZZ_INPUTS` inputs, 10,000,000 by default.
    pub fn long() -> Self {
        let from = env("FUZZ_FROM").unwrap_or(0);
        Self { seed: seed(), from, inputs: env("FUZZ_INPUTS").unwrap_or(10_000_000) }
    }

    /// Runs `target` over the campaign's inputs and reports; panics if any input was wrong.
    pub fn run(&self, name: &str, mut target: impl FnMut(&mut Mutator) -> Verdict) -> Report {
        let mut report = Report { name: name.to_owned(), seed: self.seed, ..Report::default() };
        let started = Instant::now();
        for index in self.from..self.from + self.inputs {
            let mut mutator = Mutator::new(self.seed, index);
            let verdict = catch_unwind(AssertUnwindSafe(|| target(&mut mutator)))
                .unwrap_or_else(|panic| Verdict::Wrong(format!("panicked: {}", panic_message(&*panic))));
            report.inputs += 1;
            match verdict {
                Verdict::Accepted => report.accepted += 1,
                Verdict::Refused(reason) if reason.trim().is_empty() => {
                    report.wrong.push((index, "refused without a reason".to_owned()))
                }
                Verdict::Refused(reason) => {
                    report.refused += 1;
                    let shape = shape(&reason);
                    let others = report.reasons.len() >= MAX_REASONS && !report.reasons.contains_key(&shape);
                    *report.reasons.entry(if others { "(other reasons)".to_owned() } else { shape }).or_default() += 1;
                }
                Verdict::Wrong(what) => report.wrong.push((index, what)),
            }
            if report.wrong.len() >= MAX_WRONG {
                break;
            }
        }
        report.elapsed = started.elapsed();
        report.print();
        report.assert_right();
        report
    }
}

/// What a campaign saw.
#[derive(Debug, Default)]
pub struct Report {
    pub name: String,
    pub seed: u64,
    pub inputs: u64,
    pub accepted: u64,
    pub refused: u64,
    /// Refusal reasons with their values blanked (`"…"`, `#`), and how often each came.
    pub reasons: BTreeMap<String, u64>,
    /// `(index, what went wrong)`.
    pub wrong: Vec<(u64, String)>,
    pub elapsed: Duration,
}

impl Report {
    pub fn rate(&self) -> f64 {
        self.inputs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn print(&self) {
        eprintln!(
            "fuzz {}: {} inputs in {:.1} s ({:.0}/s), {} accepted, {} refused ({} distinct reasons), {} wrong; seed {}",
            self.name,
            self.inputs,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.accepted,
            self.refused,
            self.reasons.len(),
            self.wrong.len(),
            self.seed
        );
        if std::env::var_os("FUZZ_REASONS").is_some() {
            for (reason, count) in &self.reasons {
                eprintln!("  {count:>10}  {reason}");
            }
        }
    }

    fn assert_right(&self) {
        if self.wrong.is_empty() {
            return;
        }
        let lines: Vec<String> = self
            .wrong
            .iter()
            .map(|(index, what)| format!("  FUZZ_SEED={} FUZZ_FROM={index} FUZZ_INPUTS=1: {what}", self.seed))
            .collect();
        panic!("fuzz {}: {} wrong inputs (replay each with its line):\n{}", self.name, lines.len(), lines.join("\n"));
    }
}

fn seed() -> u64 {
    let seed = env("FUZZ_SEED").or_else(|| env("PROPTEST_RNG_SEED")).unwrap_or_else(fresh_seed);
    eprintln!("fuzz: replay with FUZZ_SEED={seed}");
    seed
}

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok())
}

fn fresh_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    hasher.finish()
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// A reason with what the input put in it blanked, so that `"1e400" is not a plain decimal`
/// and `"NaN" is not a plain decimal` count as one reason: quoted text becomes `"…"`, digit
/// runs `#`, and the line and column of a JSON error go.
pub fn shape(reason: &str) -> String {
    let reason = reason.split(" at line ").next().unwrap_or(reason);
    let mut out = String::with_capacity(reason.len().min(160));
    let mut chars = reason.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '`' => {
                for inner in chars.by_ref() {
                    if inner == c {
                        break;
                    }
                }
                out.push(c);
                out.push('…');
                out.push(c);
            }
            '0'..='9' => {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
                out.push('#');
            }
            _ => out.push(c),
        }
        if out.len() > 160 {
            out.push('…');
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_that_differ_only_in_the_input_are_one_shape() {
        assert_eq!(shape(r#"total: "1e400" is not a plain decimal"#), shape(r#"total: "NaN" is not a plain decimal"#));
        assert_eq!(shape("invalid batch: expected value at line 1 column 12"), "invalid batch: expected value");
        assert_eq!(shape("events[12]: id: too long"), "events[#]: id: too long");
        assert_ne!(shape("total: is missing"), shape("price: is missing"));
    }

    #[test]
    fn a_panic_or_an_empty_reason_is_reported_with_the_input_that_caused_it() {
        let campaign = Campaign { seed: 5, from: 0, inputs: 50 };
        let result = catch_unwind(AssertUnwindSafe(|| {
            campaign.run("demo", |m| match m.rng().u8(..3) {
                0 => panic!("boom"),
                1 => Verdict::Refused(String::new()),
                _ => Verdict::Accepted,
            })
        }));
        let message = panic_message(&*result.unwrap_err());
        assert!(message.contains("FUZZ_SEED=5 FUZZ_FROM=") && message.contains("panicked: boom"), "{message}");
        assert!(message.contains("refused without a reason"), "{message}");
    }
}
