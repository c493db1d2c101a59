//! Strategies for hostile input: near-valid text with edits, JSON with wrong
//! types, huge and deeply nested values, control characters, multi-byte and
//! case-changing characters, and bytes that are not UTF-8.

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value};

/// Characters parsers trip on, weighted towards the ones with meaning.
pub fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('a', 'z'),
        3 => prop::sample::select(vec![
            '0', '1', '7', '9', '.', ':', '/', '%', '*', '?', '[', ']', '@', '#', '-', '_', ' ',
            '\t', '\r', '\n', '\0', '"', '\'', '\\', '{', '}', ',', '=', '&', '+', 'x', 'X', 'Z',
            'T', 'A',
        ]),
        1 => prop::sample::select(vec![
            '\u{7f}', '\u{85}', '\u{a0}', '\u{200b}', '\u{202e}', '\u{3002}', '\u{ff0e}',
            '\u{ff10}', '\u{ff41}', '\u{fffd}', '\u{feff}', '\u{10ffff}', 'é', 'ß', 'İ', 'ﬃ',
            '😀', '\u{301}', 'K', 'Σ',
        ]),
        1 => any::<char>(),
    ]
}

/// Up to `max` hostile characters, or now and then one repeated up to 100,000 times.
pub fn hostile_string(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        16 => prop::collection::vec(hostile_char(), 0..max).prop_map(String::from_iter),
        1 => (hostile_char(), 0usize..100_000).prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
    ]
}

/// Inserts, replaces, removes or cuts at up to four places of `base`.
pub fn edited(base: &str, edits: &[(Index, u8, char)]) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    for (at, op, c) in edits {
        let i = at.index(chars.len() + 1);
        match op {
            0 => chars.insert(i, *c),
            1 if i < chars.len() => chars[i] = *c,
            2 if i < chars.len() => {
                chars.remove(i);
            }
            3 => chars.truncate(i),
            _ => chars.insert(i, *c),
        }
    }
    chars.into_iter().collect()
}

/// One of `valid`, as it is or with a few edits, or a hostile string.
pub fn near(valid: &[&'static str]) -> impl Strategy<Value = String> {
    let valid = valid.to_vec();
    prop_oneof![
        2 => prop::sample::select(valid.clone()).prop_map(str::to_owned),
        6 => (
            prop::sample::select(valid),
            prop::collection::vec((any::<Index>(), 0u8..5, hostile_char()), 1..4)
        )
            .prop_map(|(base, edits)| edited(base, &edits)),
        2 => hostile_string(40),
    ]
}

fn number(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

pub fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(number),
        hostile_string(48).prop_map(Value::from),
    ]
}

/// Arbitrary JSON, a few levels deep.
pub fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(hostile_string(12), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Arrays or objects nested `depth` deep around `core`.
pub fn nested(depth: usize, objects: bool, core: Value) -> Value {
    (0..depth).fold(core, |inner, _| {
        if objects {
            let mut map = Map::new();
            map.insert("a".into(), inner);
            Value::Object(map)
        } else {
            Value::Array(vec![inner])
        }
    })
}

/// Deep (up to 300 levels) or huge (70,000-character strings, 5,000
/// members) values.
pub fn extreme_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (1usize..300, any::<bool>()).prop_map(|(d, o)| nested(d, o, Value::from(1))),
        (60_000usize..70_000).prop_map(|n| Value::from("x".repeat(n))),
        (1000usize..5000).prop_map(|n| Value::Array(vec![Value::from(0); n])),
        (1000usize..5000).prop_map(|n| {
            Value::Object((0..n).map(|i| (format!("k{i}"), Value::from(i))).collect())
        }),
    ]
}

/// Any JSON a hostile client might send.
pub fn hostile_json() -> impl Strategy<Value = Value> {
    prop_oneof![8 => json_value(), 1 => extreme_value()]
}

/// Bytes that are not UTF-8 inside otherwise plausible text.
pub fn invalid_utf8(base: &'static str) -> impl Strategy<Value = Vec<u8>> {
    (
        any::<Index>(),
        prop::sample::select(vec![
            vec![0xff],
            vec![0xc3],
            vec![0xc0, 0x80],
            vec![0xed, 0xa0, 0x80],
            vec![0xf4, 0x90, 0x80, 0x80],
            vec![0xe2, 0x82],
            vec![0x80],
        ]),
    )
        .prop_map(move |(at, bad)| {
            let mut bytes = base.as_bytes().to_vec();
            let i = at.index(bytes.len() + 1);
            let tail = bytes.split_off(i);
            bytes.extend(bad);
            bytes.extend(tail);
            bytes
        })
}
