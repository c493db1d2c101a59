//! The documented JSON body of a delivery.

use app::format::rfc3339;
use rand::distributions::Alphanumeric;
use rand::Rng;
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

/// A random id with a prefix: `alert_…`, `msg_…`.
pub fn random_id(prefix: &str) -> String {
    let tail: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    format!("{prefix}_{tail}")
}

pub fn links(public_url: &Url, alert_id: &str, qualified_name: &str) -> Links {
    let join = |path: &str| {
        public_url
            .join(path)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| path.to_owned())
    };
    Links {
        alert_url: join(&format!("alerts/{alert_id}")),
        asset_url: join(&format!("assets/{}", path_segment(qualified_name))),
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
    let id = random_id("alert");
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
}
