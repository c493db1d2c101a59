//! Settings -> Audit log's and `GET /api/v1/audit-log`'s filters, parsed;
//! every bad one is named.

use super::event::parse_time;
use app::domain::{ActorKind, ObjectKind};
use app::error::FormErrors;
use app::model::AuditFilter;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValidAuditFilter {
    pub actor: Option<(ActorKind, i64)>,
    pub object: Option<(ObjectKind, Option<i64>)>,
    /// Epoch ms, inclusive.
    pub since: Option<i64>,
    /// Epoch ms, exclusive.
    pub until: Option<i64>,
    /// Entries with an id below this one (the previous page's last).
    pub before: Option<i64>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn positive(text: &str) -> Option<i64> {
    text.parse::<i64>().ok().filter(|n| *n > 0)
}

/// `user:3` or `api_key:5`.
fn actor(text: &str) -> Result<(ActorKind, i64), String> {
    text.split_once(':')
        .and_then(|(kind, id)| Some((ActorKind::parse(kind).ok()?, positive(id)?)))
        .ok_or_else(|| "actor is user:<id> or api_key:<id>, like user:3".to_owned())
}

/// `destination`, or `destination:4`.
fn object(text: &str) -> Result<(ObjectKind, Option<i64>), String> {
    let (kind, id) = match text.split_once(':') {
        Some((kind, id)) => (kind, Some(id)),
        None => (text, None),
    };
    let kinds: Vec<&str> = ObjectKind::ALL.iter().map(|k| k.as_str()).collect();
    let bad = || {
        format!(
            "object is a kind ({}), or a kind and an id like destination:4",
            kinds.join(", ")
        )
    };
    let kind = ObjectKind::parse(kind).map_err(|_| bad())?;
    match id {
        None => Ok((kind, None)),
        Some(id) => positive(id).map(|id| (kind, Some(id))).ok_or_else(bad),
    }
}

/// RFC 3339, or what a `datetime-local` field sends (`2024-01-15T08:00`),
/// read as UTC.
fn time(field: &str, text: &str) -> Result<i64, String> {
    let local = text.len() == 16 || text.len() == 19;
    let with_zone = if local && !text.ends_with('Z') && text.as_bytes().get(10) == Some(&b'T') {
        if text.len() == 16 {
            format!("{text}:00Z")
        } else {
            format!("{text}Z")
        }
    } else {
        text.to_owned()
    };
    parse_time(&with_zone)
        .map_err(|_| format!("{field} is a time like 2024-01-15T08:00:00Z (RFC 3339)"))
}

pub fn parse(filter: &AuditFilter) -> Result<ValidAuditFilter, FormErrors> {
    let mut errors = FormErrors::default();
    for (name, value) in [
        ("actor", &filter.actor),
        ("object", &filter.object),
        ("since", &filter.since),
        ("until", &filter.until),
    ] {
        if let Some(v) = given(value) {
            errors.keep(name, v);
        }
    }
    let actor =
        given(&filter.actor).and_then(|a| actor(a).map_err(|m| errors.add("actor", m)).ok());
    let object =
        given(&filter.object).and_then(|o| object(o).map_err(|m| errors.add("object", m)).ok());
    let since = given(&filter.since)
        .and_then(|t| time("since", t).map_err(|m| errors.add("since", m)).ok());
    let until = given(&filter.until)
        .and_then(|t| time("until", t).map_err(|m| errors.add("until", m)).ok());
    if let (Some(since), Some(until)) = (since, until) {
        if until <= since {
            errors.add("until", "until must be later than since");
        }
    }
    let before = given(&filter.cursor).and_then(|c| {
        let cursor = positive(c);
        if cursor.is_none() {
            errors.add("cursor", "cursor is the next_cursor of an earlier page");
        }
        cursor
    });
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidAuditFilter {
        actor,
        object,
        since,
        until,
        before,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(pairs: &[(&str, &str)]) -> AuditFilter {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        };
        AuditFilter {
            actor: get("actor"),
            object: get("object"),
            since: get("since"),
            until: get("until"),
            cursor: get("cursor"),
        }
    }

    fn fields(errors: &FormErrors) -> Vec<&str> {
        errors.fields.iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn good_filters_parse() {
        let f = parse(&filter(&[
            ("actor", "api_key:5"),
            ("object", " destination:4 "),
            ("since", "2024-01-15T08:00:00Z"),
            ("until", "2024-01-15T09:00"),
            ("cursor", "120"),
        ]))
        .unwrap();
        assert_eq!(f.actor, Some((ActorKind::ApiKey, 5)));
        assert_eq!(f.object, Some((ObjectKind::Destination, Some(4))));
        assert_eq!(f.since, Some(1_705_305_600_000));
        assert_eq!(f.until, Some(1_705_309_200_000));
        assert_eq!(f.before, Some(120));
        let kind_only = parse(&filter(&[("object", "rule"), ("actor", "")])).unwrap();
        assert_eq!(kind_only.object, Some((ObjectKind::Rule, None)));
        assert_eq!(kind_only.actor, None);
        assert_eq!(
            parse(&AuditFilter::default()).unwrap(),
            ValidAuditFilter::default()
        );
    }

    #[test]
    fn every_bad_filter_is_named() {
        let errors = parse(&filter(&[
            ("actor", "root"),
            ("object", "widget:1"),
            ("since", "yesterday"),
            ("until", "2024-13-01T00:00:00Z"),
            ("cursor", "-3"),
        ]))
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            ["actor", "object", "since", "until", "cursor"]
        );
        for bad in ["user:", "user:x", "user:0", "api_key", "robot:3"] {
            assert!(parse(&filter(&[("actor", bad)])).is_err(), "{bad}");
        }
        for bad in ["destination:", "destination:abc", "destination:-1", ""] {
            let result = parse(&filter(&[("object", bad)]));
            assert_eq!(result.is_err(), !bad.is_empty(), "{bad}");
        }
        let inverted = parse(&filter(&[
            ("since", "2024-01-15T09:00:00Z"),
            ("until", "2024-01-15T08:00:00Z"),
        ]))
        .unwrap_err();
        assert_eq!(fields(&inverted), ["until"]);
    }
}
