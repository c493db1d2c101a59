//! The Deliveries tab's and `GET /api/v1/deliveries`' filters, parsed: every
//! bad value is named at once, and what comes out can only be a valid query.

use crate::domain::event::{parse_time, EVENT_TYPES};
use app::domain::DeliveryState;
use app::error::FormErrors;
use app::model::DeliveryFilter;

const HOUR_MS: i64 = 3_600_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidFilter {
    pub status: Option<DeliveryState>,
    pub destination_id: Option<i64>,
    pub rule_id: Option<i64>,
    pub event_type: Option<&'static str>,
    /// Created at or after (Unix ms).
    pub since: Option<i64>,
    /// Created before (Unix ms).
    pub until: Option<i64>,
    pub search: Option<Search>,
    /// Deliveries with an id below this one (the previous page's last).
    pub before: Option<i64>,
}

/// What the search box found in its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    AlertId(String),
    MsgId(String),
    /// The start of an asset's qualified name (case-sensitive, as stored).
    AssetPrefix(String),
}

/// Parses the filters as of `now` (the quick ranges count back from it).
pub fn parse(filter: &DeliveryFilter, now: i64) -> Result<ValidFilter, FormErrors> {
    let mut errors = FormErrors::default();
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let mut number = |field: &str, v: &Option<String>, what: &str| match text(v) {
        None => None,
        Some(t) => t.parse::<i64>().ok().filter(|n| *n > 0).or_else(|| {
            errors.add(field, format!("{field} is {what}, not {t:?}"));
            None
        }),
    };
    let destination_id = number(
        "destination_id",
        &filter.destination_id,
        "a destination's number",
    );
    let rule_id = number("rule_id", &filter.rule_id, "a rule's number");
    let before = number(
        "cursor",
        &filter.cursor,
        "the next_cursor of an earlier page",
    );
    let status = text(&filter.status).and_then(|s| {
        DeliveryState::parse(&s)
            .map_err(|m| errors.add("status", m))
            .ok()
    });
    let event_type = text(&filter.event_type).and_then(|t| {
        let known = EVENT_TYPES.iter().find(|(kind, _)| *kind == t);
        if known.is_none() {
            let names: Vec<&str> = EVENT_TYPES.iter().map(|(k, _)| *k).collect();
            errors.add(
                "event_type",
                format!("event_type is one of {}, not {t:?}", names.join(", ")),
            );
        }
        known.map(|(kind, _)| *kind)
    });
    let (since, until) = time_range(filter, now, &mut errors);
    let search = text(&filter.q).and_then(|q| search(&q, &mut errors));
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidFilter {
        status,
        destination_id,
        rule_id,
        event_type,
        since,
        until,
        search,
        before,
    })
}

/// The filters of a bulk redelivery: those of the list, with `status`
/// `failed` (the default; nothing else can be redelivered in bulk) and a
/// time range required. Also returns the filter as it is stored with the job:
/// absolute times (RFC 3339 with milliseconds), no quick range, no cursor,
/// so the same job asked for twice has the same text.
pub fn parse_for_job(
    filter: &DeliveryFilter,
    now: i64,
) -> Result<(ValidFilter, DeliveryFilter), FormErrors> {
    let mut errors = match parse(filter, now) {
        Ok(valid) => return job_filter(valid, filter),
        Err(errors) => errors,
    };
    add_job_errors(filter, &mut errors);
    Err(errors)
}

fn job_filter(
    valid: ValidFilter,
    filter: &DeliveryFilter,
) -> Result<(ValidFilter, DeliveryFilter), FormErrors> {
    let mut errors = FormErrors::default();
    add_job_errors(filter, &mut errors);
    if valid.since.is_none() && errors.message_for("since").is_none() {
        errors.add(
            "since",
            "Choose a time range: a bulk redelivery needs since (From), e.g. the last 24 hours",
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let valid = ValidFilter {
        status: Some(DeliveryState::Failed),
        before: None,
        ..valid
    };
    let time = |at: Option<i64>| at.map(app::format::rfc3339_millis);
    let stored = DeliveryFilter {
        status: Some("failed".into()),
        destination_id: valid.destination_id.map(|id| id.to_string()),
        rule_id: valid.rule_id.map(|id| id.to_string()),
        event_type: valid.event_type.map(str::to_owned),
        range: None,
        since: time(valid.since),
        until: time(valid.until),
        q: filter
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned),
        cursor: None,
    };
    Ok((valid, stored))
}

/// What a job refuses beyond the list's rules: another status, a cursor.
fn add_job_errors(filter: &DeliveryFilter, errors: &mut FormErrors) {
    let status = filter.status.as_deref().map(str::trim).unwrap_or("");
    if !status.is_empty() && status != "failed" && errors.message_for("status").is_none() {
        errors.add(
            "status",
            format!("Only failed deliveries are redelivered in bulk: status is failed or left out, not {status:?}"),
        );
    }
    if filter
        .cursor
        .as_deref()
        .is_some_and(|c| !c.trim().is_empty())
        && errors.message_for("cursor").is_none()
    {
        errors.add(
            "cursor",
            "A bulk redelivery takes every match: leave cursor out",
        );
    }
}

/// A quick range, or from/to; both together are refused rather than guessed at.
fn time_range(
    filter: &DeliveryFilter,
    now: i64,
    errors: &mut FormErrors,
) -> (Option<i64>, Option<i64>) {
    fn field(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
    let mut at = |name: &str, v: Option<&str>| {
        v.and_then(|t| parse_instant(t).map_err(|m| errors.add(name, m)).ok())
    };
    let since = at("since", field(&filter.since));
    let until = at("until", field(&filter.until));
    let range = match field(&filter.range) {
        None | Some("custom") => None,
        Some("1h") => Some(HOUR_MS),
        Some("24h") => Some(24 * HOUR_MS),
        Some("7d") => Some(7 * 24 * HOUR_MS),
        Some(other) => {
            errors.add(
                "range",
                format!("range is 1h, 24h, 7d or custom, not {other:?}"),
            );
            None
        }
    };
    if let Some(span) = range {
        if since.is_some() || until.is_some() {
            errors.add("range", "Choose a quick range or a From/To time, not both");
        }
        return (Some(now - span), None);
    }
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            errors.add("until", "To must be later than From");
        }
    }
    (since, until)
}

/// RFC 3339, or what a browser's `datetime-local` field sends, read as UTC.
fn parse_instant(text: &str) -> Result<i64, String> {
    if let Ok(ms) = parse_time(text) {
        return Ok(ms);
    }
    let with_seconds = match text.len() {
        16 => format!("{text}:00Z"),
        19 => format!("{text}Z"),
        _ => String::new(),
    };
    parse_time(&with_seconds).map_err(|_| {
        format!("{text:?} is not a time like 2026-01-15T08:00:00Z or 2026-01-15T08:00 (UTC)")
    })
}

fn search(q: &str, errors: &mut FormErrors) -> Option<Search> {
    if q.len() > 512 || q.chars().any(char::is_control) {
        errors.add("q", "Search for an alert id, a webhook-id or the start of an asset name (up to 512 characters)");
        return None;
    }
    Some(if q.starts_with("alert_") {
        Search::AlertId(q.to_owned())
    } else if q.starts_with("msg_") {
        Search::MsgId(q.to_owned())
    } else {
        Search::AssetPrefix(q.to_owned())
    })
}

/// The smallest string above every string that starts with `prefix`, in
/// code-point (byte) order; `None` when there is none.
pub fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        if (0xD800..0xE000).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(pairs: &[(&str, &str)]) -> DeliveryFilter {
        let mut f = DeliveryFilter::default();
        for (k, v) in pairs {
            let v = Some((*v).to_owned());
            match *k {
                "status" => f.status = v,
                "destination_id" => f.destination_id = v,
                "rule_id" => f.rule_id = v,
                "event_type" => f.event_type = v,
                "range" => f.range = v,
                "since" => f.since = v,
                "until" => f.until = v,
                "q" => f.q = v,
                "cursor" => f.cursor = v,
                _ => unreachable!(),
            }
        }
        f
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<String> {
        parse(&filter(pairs), 0)
            .unwrap_err()
            .fields
            .into_iter()
            .map(|f| f.field)
            .collect()
    }

    #[test]
    fn filters_parse() {
        let now = 1_800_000_000_000;
        let f = parse(
            &filter(&[
                ("status", " retrying "),
                ("destination_id", "4"),
                ("rule_id", "2"),
                ("event_type", "schema_change"),
                ("range", "24h"),
                ("q", "production.public"),
                ("cursor", "120"),
            ]),
            now,
        )
        .unwrap();
        assert_eq!(
            f,
            ValidFilter {
                status: Some(DeliveryState::Retrying),
                destination_id: Some(4),
                rule_id: Some(2),
                event_type: Some("schema_change"),
                since: Some(now - 24 * HOUR_MS),
                until: None,
                search: Some(Search::AssetPrefix("production.public".into())),
                before: Some(120),
            }
        );
        assert_eq!(
            parse(&DeliveryFilter::default(), now).unwrap(),
            ValidFilter::default()
        );
        let custom = parse(
            &filter(&[
                ("since", "2026-01-15T08:00"),
                ("until", "2026-01-15T09:00:30Z"),
                ("q", "alert_x"),
            ]),
            now,
        )
        .unwrap();
        assert_eq!(custom.since, parse_time("2026-01-15T08:00:00Z").ok());
        assert_eq!(custom.until, parse_time("2026-01-15T09:00:30Z").ok());
        assert_eq!(custom.search, Some(Search::AlertId("alert_x".into())));
        assert_eq!(
            parse(&filter(&[("q", "msg_2a")]), now).unwrap().search,
            Some(Search::MsgId("msg_2a".into()))
        );
    }

    #[test]
    fn every_bad_value_is_named() {
        assert_eq!(
            fields(&[
                ("status", "lost"),
                ("destination_id", "x"),
                ("rule_id", "-1"),
                ("event_type", "boom"),
                ("since", "yesterday"),
                ("q", "a\u{7}b"),
                ("cursor", "x"),
            ]),
            [
                "destination_id",
                "rule_id",
                "cursor",
                "status",
                "event_type",
                "since",
                "q"
            ]
        );
        assert_eq!(fields(&[("range", "2w")]), ["range"]);
        assert_eq!(
            fields(&[("range", "1h"), ("since", "2026-01-15T08:00")]),
            ["range"]
        );
        // Inverted, and empty.
        assert_eq!(
            fields(&[("since", "2026-01-15T09:00"), ("until", "2026-01-15T08:00")]),
            ["until"]
        );
        assert_eq!(
            fields(&[("since", "2026-01-15T09:00"), ("until", "2026-01-15T09:00")]),
            ["until"]
        );
    }

    #[test]
    fn job_filters_need_failed_and_a_time() {
        let now = 1_800_000_000_000;
        let (valid, stored) =
            parse_for_job(&filter(&[("range", "1h"), ("destination_id", "3")]), now).unwrap();
        assert_eq!(valid.status, Some(DeliveryState::Failed));
        assert_eq!(valid.since, Some(now - HOUR_MS));
        assert_eq!(stored.range, None);
        assert_eq!(stored.status.as_deref(), Some("failed"));
        assert_eq!(stored.since.as_deref(), Some("2027-01-15T07:00:00.000Z"));
        // The stored filter reads back as the same job.
        assert_eq!(parse_for_job(&stored, now + 5).unwrap().1, stored);
        let job_fields = |pairs: &[(&str, &str)]| -> Vec<String> {
            parse_for_job(&filter(pairs), now)
                .unwrap_err()
                .fields
                .into_iter()
                .map(|f| f.field)
                .collect()
        };
        assert_eq!(job_fields(&[]), ["since"]);
        assert_eq!(
            job_fields(&[("status", "delivered"), ("range", "1h")]),
            ["status"]
        );
        assert_eq!(
            job_fields(&[("status", "lost"), ("since", "x")]),
            ["status", "since"]
        );
        assert_eq!(
            job_fields(&[("since", "2026-01-15T09:00"), ("until", "2026-01-15T08:00")]),
            ["until"]
        );
    }

    #[test]
    fn prefix_bounds_cover_exactly_the_prefix() {
        assert_eq!(prefix_upper_bound("prod").as_deref(), Some("proe"));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_upper_bound(""), None);
        let upper = prefix_upper_bound("prod.x").unwrap();
        for inside in ["prod.x", "prod.x.y", "prod.x\u{10FFFF}"] {
            assert!(inside >= "prod.x" && inside < upper.as_str(), "{inside}");
        }
        for outside in ["prod.w", "prod.y", "prod"] {
            assert!(
                !(outside >= "prod.x" && outside < upper.as_str()),
                "{outside}"
            );
        }
    }
}
