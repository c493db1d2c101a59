//! One line per received request, with whether its signatures verify.

use super::Received;
use crate::delivery::signer::{anomalyarmor_signature, standard_signature};

/// `POST /path alert.triggered alert_… schema_change production.public.orders | signatures: …`
pub fn describe(got: &Received, secret: Option<&str>) -> String {
    let body: serde_json::Value = serde_json::from_slice(&got.body).unwrap_or_default();
    let field = |path: &[&str]| {
        let mut v = &body;
        for key in path {
            v = &v[*key];
        }
        v.as_str().unwrap_or("-").to_owned()
    };
    let summary = format!(
        "POST {} {} {} {} {}",
        got.path,
        field(&["event_type"]),
        field(&["alert", "id"]),
        field(&["event", "type"]),
        field(&["event", "asset", "qualified_name"]),
    );
    match secret {
        None => format!("{summary} | signatures not checked (pass --secret)"),
        Some(secret) => format!("{summary} | {}", verdicts(got, secret)),
    }
}

fn verdicts(got: &Received, secret: &str) -> String {
    let documented = got.header("x-anomalyarmor-signature")
        == Some(anomalyarmor_signature(secret, &got.body).as_str());
    let standard = match (
        got.header("webhook-id"),
        got.header("webhook-timestamp"),
        got.header("webhook-signature"),
    ) {
        (Some(id), Some(ts), Some(sigs)) => ts.parse::<i64>().is_ok_and(|ts| {
            let expected = standard_signature(secret, id, ts, &got.body);
            sigs.split(' ').any(|s| s == expected)
        }),
        _ => false,
    };
    let word = |ok: bool| if ok { "verified" } else { "NOT VERIFIED" };
    format!(
        "X-AnomalyArmor-Signature {}, webhook-signature {}",
        word(documented),
        word(standard)
    )
}
