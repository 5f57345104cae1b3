//! Structured mutations of real JSON bodies, for fuzzing the parsers past their first line.
//!
//! Random bytes almost never parse as JSON, so a byte fuzzer tests the JSON parser and stops
//! there. These mutations start from a body a platform really sends (a fixture) and change
//! it the way a broken, hostile or newer sender would: a field of another type, a field
//! missing or repeated, an amount with too many digits, text nobody expected, nesting beyond
//! serde_json's recursion limit. Most inputs stay JSON and reach the normalisers; some are
//! broken at the text level on purpose — duplicate keys and lone surrogates (which
//! `serde_json::Value` cannot hold), numbers beyond f64, truncation, invalid UTF-8 —
//! because what arrives is bytes.
//!
//! Deterministic: input `index` of campaign `seed` is always the same bytes (its own wyrand
//! stream, [`fastrand`]), so one failing input out of millions replays alone.

use super::oddities;
use fastrand::Rng;
use serde_json::{Map, Value};

/// A body to mutate, parsed once, with the strings and keys it holds (a mutation may move
/// a value of one field into another: a date into an amount, a status into an id).
pub struct Seed {
    value: Value,
    words: Vec<String>,
}

impl Seed {
    pub fn new(value: Value) -> Self {
        let mut words = Vec::new();
        collect_words(&value, &mut words);
        words.sort();
        words.dedup();
        Self { value, words }
    }

    pub fn value(&self) -> &Value {
        &self.value
    }
}

fn collect_words(value: &Value, words: &mut Vec<String>) {
    match value {
        Value::String(s) => words.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_words(v, words)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            words.push(k.clone());
            collect_words(v, words)
        }),
        _ => {}
    }
}

/// One input's mutations. Raw text a `Value` cannot hold is put in as a marker string (or
/// key) and spliced in when the body is written.
pub struct Mutator {
    rng: Rng,
    raw: Vec<(String, String)>,
}

/// serde_json's parser refuses deeper nesting than this.
pub const SERDE_RECURSION_LIMIT: usize = 128;

impl Mutator {
    /// The mutator of input `index` of the campaign `seed`.
    pub fn new(seed: u64, index: u64) -> Self {
        // splitmix64 of the pair, so neighbouring indices get unrelated streams.
        let mut z = seed ^ index.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Self { rng: Rng::with_seed(z ^ (z >> 31)), raw: Vec::new() }
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// A mutation of `seed` as body bytes: one to a few structural changes, sometimes a
    /// text-level one on top, sometimes none (the body as sent must still be accepted).
    pub fn json(&mut self, seed: &Seed) -> Vec<u8> {
        let mut value = seed.value.clone();
        if self.rng.u8(..20) != 0 {
            for _ in 0..1 + self.rng.usize(..3) * self.rng.usize(..2) {
                self.mutate(&mut value, seed);
            }
        }
        let mut bytes = self.write(&value);
        if self.rng.u8(..8) == 0 {
            self.mangle(&mut bytes);
        }
        bytes
    }

    /// `value` written as JSON (compact or pretty), with the raw markers spliced in.
    pub fn write(&mut self, value: &Value) -> Vec<u8> {
        let text = if self.rng.bool() { value.to_string() } else { format!("{value:#}") };
        // Latest first: a raw nesting holds the markers put in before it.
        let text = self.raw.drain(..).rev().fold(text, |text, (marker, raw)| text.replace(&marker, &raw));
        text.into_bytes()
    }

    /// One structural change at a node of `value`.
    pub fn mutate(&mut self, value: &mut Value, seed: &Seed) {
        let node = if self.rng.bool() {
            let mut n = self.rng.usize(..count(value));
            match nth_mut(value, &mut n) {
                Some(node) => node,
                None => unreachable!("n is below the node count"),
            }
        } else {
            descend(&mut self.rng, value)
        };
        if is_marker(node) {
            return;
        }
        match self.rng.u8(..16) {
            0 | 1 => *node = self.retype(node),
            2 | 3 => self.remove(node),
            4 => self.repeat(node),
            5 => *node = oddities::number(&mut self.rng),
            6 => *node = self.raw_value(oddities::RAW_NUMBERS),
            7 => *node = Value::String(oddities::MONEY[self.rng.usize(..oddities::MONEY.len())].to_owned()),
            8 => *node = Value::String(oddities::string(&mut self.rng)),
            9 => *node = self.raw_value(oddities::RAW_STRINGS),
            10 if !seed.words.is_empty() => {
                *node = Value::String(seed.words[self.rng.usize(..seed.words.len())].clone())
            }
            11 => *node = self.nest(node.clone()),
            12 => {
                *node = [Value::Object(Map::new()), Value::Array(Vec::new()), Value::Null][self.rng.usize(..3)].clone()
            }
            13 => self.rename(node),
            14 => match node {
                Value::String(s) => *s = self.text(s),
                other => *other = self.retype(other),
            },
            _ => *node = self.retype(node),
        }
    }

    /// The same content as another JSON type (a number's text as a string, a string's
    /// number as a number, a scalar wrapped in an array or object), or a bare other type.
    fn retype(&mut self, node: &Value) -> Value {
        let number = |s: &str| s.trim().parse::<serde_json::Number>().ok().map(Value::Number);
        match (node, self.rng.u8(..6)) {
            (Value::String(s), 0) => number(s).unwrap_or_else(|| oddities::number(&mut self.rng)),
            (Value::Number(n), 0) => Value::String(n.to_string()),
            (Value::Bool(b), 0) => Value::String(b.to_string()),
            (_, 1) => Value::Array(vec![node.clone()]),
            (_, 2) => Value::Object(Map::from_iter([("value".to_owned(), node.clone())])),
            (_, 3) => Value::Bool(self.rng.bool()),
            (_, 4) => Value::Null,
            _ => oddities::number(&mut self.rng),
        }
    }

    /// A field or element fewer.
    fn remove(&mut self, node: &mut Value) {
        match node {
            Value::Object(map) if !map.is_empty() => {
                let key = map.keys().nth(self.rng.usize(..map.len())).cloned().unwrap_or_default();
                map.remove(&key);
            }
            Value::Array(items) if !items.is_empty() => {
                items.remove(self.rng.usize(..items.len()));
            }
            other => *other = Value::Null,
        }
    }

    /// A repeated key (raw: a `Value` keeps one), or an element repeated up to 200 times.
    fn repeat(&mut self, node: &mut Value) {
        match node {
            Value::Object(map) if !map.is_empty() => {
                let key = map.keys().nth(self.rng.usize(..map.len())).cloned().unwrap_or_default();
                let twin =
                    if self.rng.bool() { map[&key].clone() } else { Value::String(oddities::string(&mut self.rng)) };
                let marker = self.marker();
                self.raw.push((format!("\"{marker}\""), Value::String(key).to_string()));
                map.insert(marker, twin);
            }
            Value::Array(items) if !items.is_empty() => {
                let item = items[self.rng.usize(..items.len())].clone();
                let times = [1, 2, 99, 100, 101, 200][self.rng.usize(..6)];
                items.extend(std::iter::repeat_n(item, times));
            }
            other => *other = Value::Array(vec![other.clone(), other.clone()]),
        }
    }

    /// `node` under `depth` arrays or objects: within, at and beyond serde_json's limit
    /// (deeper than a `Value` should hold goes in as raw text).
    fn nest(&mut self, node: Value) -> Value {
        let limit = SERDE_RECURSION_LIMIT;
        let depth = [1, 2, 10, limit - 2, limit - 1, limit, limit + 1, 1_000, 100_000][self.rng.usize(..9)];
        if depth > limit + 1 {
            let (open, close) = if self.rng.bool() { ("[", "]") } else { ("{\"a\":", "}") };
            return self.raw_value(&[&format!("{}{}{}", open.repeat(depth), node, close.repeat(depth))]);
        }
        let objects = self.rng.bool();
        (0..depth).fold(node, |inner, _| {
            if objects { Value::Object(Map::from_iter([("a".to_owned(), inner)])) } else { Value::Array(vec![inner]) }
        })
    }

    /// A key renamed (case, spacing, an unknown neighbour), or an unknown key added.
    fn rename(&mut self, node: &mut Value) {
        let Value::Object(map) = node else { return };
        let Some(key) = map.keys().nth(self.rng.usize(..map.len().max(1))).cloned() else {
            map.insert("unexpected".to_owned(), Value::Bool(true));
            return;
        };
        if key.starts_with(MARKER) {
            return;
        }
        let renamed = match self.rng.u8(..4) {
            0 => key.to_uppercase(),
            1 => format!("{key} "),
            2 => format!("{key}_x"),
            _ => "unexpected".to_owned(),
        };
        if let Some(value) = map.remove(&key) {
            map.insert(renamed, value);
        }
    }

    /// A mutation of a string (a header, a token, an amount): characters dropped, added,
    /// changed or repeated, cut short, padded, or replaced by an oddity.
    pub fn text(&mut self, original: &str) -> String {
        let mut chars: Vec<char> = original.chars().collect();
        const ALPHABET: &[char] =
            &['0', '9', 'a', 'f', 'A', 'Z', 'g', '+', '/', '=', '-', '_', '.', ',', ' ', '\t', 'é', '\0', '#', '%'];
        for _ in 0..1 + self.rng.usize(..3) {
            let at = self.rng.usize(..=chars.len());
            match self.rng.u8(..9) {
                0 if at < chars.len() => drop(chars.remove(at)),
                1 => chars.insert(at, ALPHABET[self.rng.usize(..ALPHABET.len())]),
                2 if at < chars.len() => chars[at] = ALPHABET[self.rng.usize(..ALPHABET.len())],
                3 => chars.truncate(at),
                4 => chars = chars.repeat(2),
                5 => chars
                    .iter_mut()
                    .for_each(|c| *c = if c.is_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }),
                6 => chars.splice(at..at, oddities::string(&mut self.rng).chars()).for_each(drop),
                7 => chars.insert(at, self.rng.char(..)),
                _ => chars = oddities::string(&mut self.rng).chars().collect(),
            }
        }
        chars.into_iter().collect()
    }

    /// A text-level change of the written body: cut short, a byte changed, invalid UTF-8,
    /// a byte-order mark, trailing data, or another document altogether.
    fn mangle(&mut self, bytes: &mut Vec<u8>) {
        let at = self.rng.usize(..=bytes.len());
        match self.rng.u8(..8) {
            0 => bytes.truncate(at),
            1 if at < bytes.len() => bytes[at] = self.rng.u8(..),
            2 => bytes
                .splice(
                    at..at,
                    [&[0xffu8][..], &[0xc0, 0x80], &[0xed, 0xa0, 0x80]][self.rng.usize(..3)].iter().copied(),
                )
                .for_each(drop),
            3 => bytes.splice(0..0, [0xef, 0xbb, 0xbf]).for_each(drop),
            4 => bytes.extend_from_slice([b" x".as_slice(), b"{}", b"\0"][self.rng.usize(..3)]),
            5 => *bytes = [b"".as_slice(), b"[]", b"null", b"\"s\"", b"1", b"{"][self.rng.usize(..6)].to_vec(),
            6 => *bytes = format!("{}{}{}", "[".repeat(100_000), "{}", "]".repeat(100_000)).into_bytes(),
            _ => bytes.splice(0..0, *b" \n\t").for_each(drop),
        }
    }

    /// A string marker that [`Mutator::write`] replaces by one of `raw` (quotes and all).
    fn raw_value(&mut self, raw: &[&str]) -> Value {
        let marker = self.marker();
        self.raw.push((format!("\"{marker}\""), raw[self.rng.usize(..raw.len())].to_owned()));
        Value::String(marker)
    }

    fn marker(&self) -> String {
        format!("{MARKER}{}@@", self.raw.len())
    }
}

const MARKER: &str = "@@relance-fuzz-raw-";

/// A marker is never mutated itself: the raw text it stands for would be lost.
fn is_marker(value: &Value) -> bool {
    value.as_str().is_some_and(|s| s.starts_with(MARKER))
}

/// Nodes of `value`, itself included.
fn count(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

/// The `n`-th node of `value` in pre-order: every node is as likely.
fn nth_mut<'v>(value: &'v mut Value, n: &mut usize) -> Option<&'v mut Value> {
    if *n == 0 {
        return Some(value);
    }
    *n -= 1;
    match value {
        Value::Array(items) => items.iter_mut().find_map(|item| nth_mut(item, n)),
        Value::Object(map) => map.values_mut().find_map(|item| nth_mut(item, n)),
        _ => None,
    }
}

/// A node reached by walking down from the root, stopping at each level with some
/// probability: the top-level fields, the ones the normalisers read most, come up most.
fn descend<'v>(rng: &mut Rng, value: &'v mut Value) -> &'v mut Value {
    let len = match &*value {
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        _ => 0,
    };
    if len == 0 || rng.u8(..3) == 0 {
        return value;
    }
    let i = rng.usize(..len);
    let child = match value {
        Value::Array(items) => items.get_mut(i),
        Value::Object(map) => map.values_mut().nth(i),
        _ => None,
    };
    match child {
        Some(child) => descend(rng, child),
        None => unreachable!("i is below the container's length"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seed() -> Seed {
        Seed::new(json!({"id": 1, "total": "12.50", "lines": [{"price": "1.00", "title": "a"}], "email": "a@b.fr"}))
    }

    #[test]
    fn the_same_seed_and_index_give_the_same_bytes_and_others_differ() {
        let seed = seed();
        let run = |s, i| Mutator::new(s, i).json(&seed);
        assert_eq!(run(7, 3), run(7, 3));
        let distinct: std::collections::HashSet<Vec<u8>> = (0..200).map(|i| run(7, i)).collect();
        assert!(distinct.len() > 150, "only {} distinct inputs of 200", distinct.len());
        assert_ne!((0..20).map(|i| run(7, i)).collect::<Vec<_>>(), (0..20).map(|i| run(8, i)).collect::<Vec<_>>());
    }

    #[test]
    fn mutations_reach_every_kind_the_parsers_must_survive() {
        let seed = seed();
        let inputs: Vec<String> =
            (0..5_000).map(|i| String::from_utf8_lossy(&Mutator::new(1, i).json(&seed)).into_owned()).collect();
        let seen = |what: &str, found: &dyn Fn(&str) -> bool| {
            assert!(inputs.iter().any(|i| found(i)), "no input has {what}");
        };
        seen("a duplicate key", &|i| i.matches("\"total\"").count() > 1 || i.matches("\"id\"").count() > 1);
        seen("a lone surrogate", &|i| i.contains(r"\ud800"));
        seen("a number beyond f64", &|i| i.contains("1e400"));
        seen("nesting beyond the limit", &|i| i.contains(&"[".repeat(SERDE_RECURSION_LIMIT + 1)));
        seen("a 100 KB string", &|i| i.len() > 100 * 1024);
        seen("an amount with too many decimals", &|i| i.contains("12.345"));
        seen("a dropped field", &|i| !i.contains("\"email\""));
        seen("the body unchanged", &|i| serde_json::from_str::<Value>(i).is_ok_and(|v| v == *seed.value()));
        seen("text that is no JSON", &|i| serde_json::from_str::<Value>(i).is_err());
        assert!(!inputs.iter().any(|i| i.contains(MARKER)), "a raw marker was left in");
    }
}
