//! The glob matcher of rules, and the filters and cursors of the Deliveries
//! tab and the audit log (`GET /api/v1/deliveries`, `GET /api/v1/audit-log`).

use super::hostile::{hostile_string, near};
use app::model::{AuditFilter, DeliveryFilter};
use proptest::prelude::*;
use server::domain::glob::AssetPattern;
use server::domain::{audit_filter, delivery_filter};

const NOW: i64 = 1_700_000_000_000;

/// `pattern[i..]` matches `text[j..]`, by dynamic programming: slow and plainly right.
fn reference_matches(pattern: &[char], text: &[char]) -> bool {
    let (m, n) = (pattern.len(), text.len());
    let mut next = vec![false; n + 1];
    next[n] = true;
    for i in (0..m).rev() {
        let mut row = vec![false; n + 1];
        for j in (0..=n).rev() {
            row[j] = match pattern[i] {
                '*' => next[j] || (j < n && row[j + 1]),
                '?' => j < n && next[j + 1],
                c => j < n && text[j] == c && next[j + 1],
            };
        }
        next = row;
    }
    next[0]
}

/// Small alphabets, so patterns and names often nearly match.
fn glob_text(max: usize) -> impl Strategy<Value = String> {
    let c = prop::sample::select(vec!['a', 'b', 'A', '.', '*', '?', 'İ', 'i', 'ß', ' ']);
    prop::collection::vec(c, 0..max).prop_map(String::from_iter)
}

#[test]
fn glob_matcher() {
    let strategy = prop_oneof![
        4 => (glob_text(12), glob_text(16)),
        1 => (hostile_string(600), hostile_string(600)),
    ];
    super::run(
        file!(),
        "glob_matcher",
        super::cases(256),
        strategy,
        |(raw, name)| {
            let Ok(pattern) = AssetPattern::parse(&raw) else {
                return Ok(());
            };
            let stored = pattern.as_string();
            prop_assert_eq!(
                AssetPattern::parse(&stored),
                Ok(pattern.clone()),
                "stored as {:?}",
                stored
            );
            let got = pattern.matches(&name);
            if name.len() <= 64 {
                let p: Vec<char> = stored.chars().collect();
                let t: Vec<char> = name.to_lowercase().chars().collect();
                prop_assert_eq!(got, reference_matches(&p, &t), "{:?} on {:?}", raw, name);
            }
            Ok(())
        },
    );
}

fn opt(s: impl Strategy<Value = String>) -> impl Strategy<Value = Option<String>> {
    proptest::option::of(s)
}

const TIMES: [&str; 5] = [
    "2024-01-15T08:00:00Z",
    "2024-01-15T08:00",
    "2024-01-15T08:00:00",
    "2024-01-15T08:00:00.5-23:59",
    "9999-12-31T23:59:59Z",
];

fn delivery_filter() -> impl Strategy<Value = DeliveryFilter> {
    let id = || opt(near(&["1", "42", "9223372036854775807", "-1", "0"]));
    (
        (
            opt(near(&["failed", "retrying", "pending", "delivered"])),
            id(),
            id(),
        ),
        opt(near(&["schema_change", "connection_failed"])),
        opt(near(&["1h", "24h", "7d", "custom"])),
        (opt(near(&TIMES)), opt(near(&TIMES))),
        opt(near(&["alert_abc", "msg_abc", "production.public"])),
        id(),
    )
        .prop_map(
            |((status, destination_id, rule_id), event_type, range, (since, until), q, cursor)| {
                DeliveryFilter {
                    status,
                    destination_id,
                    rule_id,
                    event_type,
                    range,
                    since,
                    until,
                    q,
                    cursor,
                }
            },
        )
}

#[test]
fn delivery_filters_and_cursors() {
    let strategy = (delivery_filter(), any::<i64>());
    super::run(
        file!(),
        "delivery_filters_and_cursors",
        super::cases(256),
        strategy,
        |(filter, now)| {
            let now = now.clamp(0, 4_102_444_800_000);
            let parsed = delivery_filter::parse(&filter, now);
            let _ = delivery_filter::parse_for_job(&filter, now);
            if let Ok(valid) = &parsed {
                let cursor = filter
                    .cursor
                    .as_deref()
                    .map(str::trim)
                    .filter(|c| !c.is_empty());
                prop_assert_eq!(valid.before, cursor.map(|c| c.parse::<i64>().unwrap_or(-1)));
                prop_assert!(valid.before.is_none_or(|b| b > 0));
                if let (Some(s), Some(u)) = (valid.since, valid.until) {
                    prop_assert!(s < u);
                }
                if let Some(delivery_filter::Search::AssetPrefix(p)) = &valid.search {
                    let _ = delivery_filter::prefix_upper_bound(p);
                }
            }
            Ok(())
        },
    );
}

/// A page's `next_cursor` reads back as itself; an edited one is a named
/// error, never a panic nor another page.
#[test]
fn cursor_round_trip() {
    let strategy = (1i64..=i64::MAX, proptest::option::of(hostile_string(3)));
    super::run(
        file!(),
        "cursor_round_trip",
        super::cases(256),
        strategy,
        |(id, edit)| {
            let text = match &edit {
                Some(extra) => format!("{id}{extra}"),
                None => id.to_string(),
            };
            let deliveries = delivery_filter::parse(
                &DeliveryFilter {
                    cursor: Some(text.clone()),
                    ..Default::default()
                },
                NOW,
            );
            let audit = audit_filter::parse(&AuditFilter {
                cursor: Some(text.clone()),
                ..Default::default()
            });
            let expected = text.trim().parse::<i64>().ok().filter(|n| *n > 0);
            match expected {
                Some(n) => {
                    prop_assert_eq!(deliveries.map(|f| f.before), Ok(Some(n)));
                    prop_assert_eq!(audit.map(|f| f.before), Ok(Some(n)));
                }
                None if text.trim().is_empty() => {}
                None => {
                    let d = deliveries.err().and_then(|e| e.message_for("cursor"));
                    let a = audit.err().and_then(|e| e.message_for("cursor"));
                    prop_assert!(d.is_some() && a.is_some(), "{:?} was not refused", text);
                }
            }
            Ok(())
        },
    );
}

fn audit_filter() -> impl Strategy<Value = AuditFilter> {
    (
        opt(near(&["user:3", "api_key:5", "user:9223372036854775807"])),
        opt(near(&["destination", "destination:4", "rule:1", "user"])),
        opt(near(&TIMES)),
        opt(near(&TIMES)),
        opt(near(&["120", "1"])),
    )
        .prop_map(|(actor, object, since, until, cursor)| AuditFilter {
            actor,
            object,
            since,
            until,
            cursor,
        })
}

#[test]
fn audit_filters() {
    super::run(
        file!(),
        "audit_filters",
        super::cases(256),
        audit_filter(),
        |filter| {
            if let Ok(valid) = audit_filter::parse(&filter) {
                if let (Some(s), Some(u)) = (valid.since, valid.until) {
                    prop_assert!(s < u);
                }
                prop_assert!(valid.actor.is_none_or(|(_, id)| id > 0));
            }
            Ok(())
        },
    );
}
