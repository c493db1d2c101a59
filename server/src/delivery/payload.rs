//! The documented JSON body of a delivery.

use crate::ids::new_id;
use app::format::rfc3339;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookPayload {
    pub event_type: String,
    pub alert: AlertPart,
    pub event: EventPart,
    pub links: Links,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertPart {
    pub id: String,
    pub rule_name: String,
    pub alert_type: String,
    pub status: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPart {
    #[serde(rename = "type")]
    pub kind: String,
    pub change_type: Option<String>,
    pub asset: Asset,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    pub qualified_name: String,
    pub asset_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Links {
    pub alert_url: String,
    pub asset_url: String,
}

/// Operational alerts (Settings -> Notifications) are stored as alerts of this
/// type, raised by no rule, under this rule name.
pub const OPERATIONAL_ALERT_TYPE: &str = "operational";
pub const OPERATIONAL_RULE_NAME: &str = "Alertwire";
/// The `event_type` of the operational event sent when a destination is disabled automatically.
pub const DESTINATION_DISABLED: &str = "destination.disabled";

/// The body of a `destination.disabled` event: the alert envelope
/// (`event_type`, `alert`, `links`) around the documented fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DestinationDisabledPayload {
    pub event_type: String,
    pub alert: AlertPart,
    pub destination: DestinationPart,
    /// `auto`.
    pub reason: String,
    pub failing_since: String,
    pub disabled_at: String,
    pub links: DestinationLinks,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DestinationPart {
    pub id: i64,
    pub name: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DestinationLinks {
    pub destination_url: String,
    pub alert_url: String,
}

/// What an automatic disable is about.
pub struct Disabled<'a> {
    pub destination: DestinationPart,
    pub failing_since_ms: i64,
    pub disabled_at_ms: i64,
    pub public_url: &'a Url,
}

/// The `destination.disabled` body; `alert.id` is `alert_` + a new random id.
pub fn destination_disabled(d: Disabled<'_>) -> DestinationDisabledPayload {
    let id = new_id("alert");
    DestinationDisabledPayload {
        event_type: DESTINATION_DISABLED.into(),
        links: DestinationLinks {
            destination_url: join(
                d.public_url,
                &format!("alerts/destinations/{}", d.destination.id),
            ),
            alert_url: join(d.public_url, &format!("alerts/{id}")),
        },
        alert: AlertPart {
            id,
            rule_name: OPERATIONAL_RULE_NAME.into(),
            alert_type: OPERATIONAL_ALERT_TYPE.into(),
            status: "triggered".into(),
            created_at: rfc3339(d.disabled_at_ms),
        },
        destination: d.destination,
        reason: "auto".into(),
        failing_since: rfc3339(d.failing_since_ms),
        disabled_at: rfc3339(d.disabled_at_ms),
    }
}

fn join(public_url: &Url, path: &str) -> String {
    public_url
        .join(path)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| path.to_owned())
}

pub fn links(public_url: &Url, alert_id: &str, qualified_name: &str) -> Links {
    Links {
        alert_url: join(public_url, &format!("alerts/{alert_id}")),
        asset_url: join(
            public_url,
            &format!("assets/{}", path_segment(qualified_name)),
        ),
    }
}

/// A name as one path segment: everything but unreserved characters percent-encoded.
fn path_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// The sample alert Send Test Alert delivers (`event_type: alert.test`).
pub fn test_alert(public_url: &Url, now_ms: i64) -> WebhookPayload {
    let id = new_id("alert");
    let asset = Asset {
        qualified_name: "production.public.orders".into(),
        asset_type: "table".into(),
    };
    WebhookPayload {
        event_type: "alert.test".into(),
        links: links(public_url, &id, &asset.qualified_name),
        alert: AlertPart {
            id,
            rule_name: "Test alert from Alertwire".into(),
            alert_type: "schema".into(),
            status: "triggered".into(),
            created_at: rfc3339(now_ms),
        },
        event: EventPart {
            kind: "schema_change".into(),
            change_type: Some("column_removed".into()),
            asset,
            details: serde_json::json!({
                "column_name": "shipping_status",
                "column_type": "varchar",
                "note": "This is a test alert sent with Send Test Alert."
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_asset_link_names_the_asset_in_one_segment() {
        let base = Url::parse("https://alertwire.example.com/").unwrap();
        let l = links(&base, "alert_1", "production.public.orders");
        assert_eq!(
            l.asset_url,
            "https://alertwire.example.com/assets/production.public.orders"
        );
        assert_eq!(l.alert_url, "https://alertwire.example.com/alerts/alert_1");
        let odd = links(&base, "alert_1", "s3://bucket/a b?x");
        assert_eq!(
            odd.asset_url,
            "https://alertwire.example.com/assets/s3%3A%2F%2Fbucket%2Fa%20b%3Fx"
        );
    }

    #[test]
    fn the_test_alert_has_the_documented_shape() {
        let url = Url::parse("https://alertwire.example.com/").unwrap();
        let payload = test_alert(&url, 1_705_305_600_000);
        let json = serde_json::to_value(&payload).unwrap();
        assert_eq!(json["event_type"], "alert.test");
        assert!(json["alert"]["id"].as_str().unwrap().starts_with("alert_"));
        assert_eq!(json["alert"]["status"], "triggered");
        assert_eq!(json["alert"]["created_at"], "2024-01-15T08:00:00Z");
        assert_eq!(json["event"]["type"], "schema_change");
        assert_eq!(
            json["event"]["asset"]["qualified_name"],
            "production.public.orders"
        );
        let alert_url = json["links"]["alert_url"].as_str().unwrap();
        assert!(alert_url.starts_with("https://alertwire.example.com/alerts/alert_"));
        for key in ["event_type", "alert", "event", "links"] {
            assert!(json.get(key).is_some(), "{key}");
        }
    }

    #[test]
    fn destination_disabled_has_the_designed_shape() {
        let url = Url::parse("https://alertwire.example.com/").unwrap();
        let payload = destination_disabled(Disabled {
            destination: DestinationPart {
                id: 7,
                name: "Dead".into(),
                url: "https://dead.example.com/hook".into(),
            },
            failing_since_ms: 1_705_305_600_000,
            disabled_at_ms: 1_705_737_600_000,
            public_url: &url,
        });
        let json = serde_json::to_value(&payload).unwrap();
        assert_eq!(json["event_type"], "destination.disabled");
        assert_eq!(json["destination"]["id"], 7);
        assert_eq!(json["destination"]["name"], "Dead");
        assert_eq!(json["destination"]["url"], "https://dead.example.com/hook");
        assert_eq!(json["reason"], "auto");
        assert_eq!(json["failing_since"], "2024-01-15T08:00:00Z");
        assert_eq!(json["disabled_at"], "2024-01-20T08:00:00Z");
        assert_eq!(
            json["links"]["destination_url"],
            "https://alertwire.example.com/alerts/destinations/7"
        );
        let id = json["alert"]["id"].as_str().unwrap();
        assert!(id.starts_with("alert_"));
        assert_eq!(
            json["links"]["alert_url"],
            format!("https://alertwire.example.com/alerts/{id}")
        );
        assert_eq!(json["alert"]["rule_name"], "Alertwire");
        assert_eq!(json["alert"]["alert_type"], "operational");
        assert_eq!(json["alert"]["created_at"], "2024-01-20T08:00:00Z");
    }
}
