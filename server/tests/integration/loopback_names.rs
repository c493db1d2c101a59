//! Every name for this machine is refused when a URL is saved, as loopback
//! addresses are: before, `localhost.` and `foo.localhost` passed (they do not
//! resolve here, and a name that does not resolve yet is accepted), and the
//! connection later failed with "does not resolve" instead of "blocked address".

use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};

crate::on_both_engines!(loopback_names_are_refused_at_save);

const LOOPBACK_NAMES: [&str; 8] = [
    "localhost",
    "LOCALHOST",
    "localhost.",
    "foo.localhost",
    "foo.localhost.",
    "a.b.localhost",
    "localhost.localdomain",
    "ip6-localhost",
];

async fn loopback_names_are_refused_at_save(app: &TestApp) {
    let key = app
        .services
        .create_api_key(
            "loopback",
            "admin",
            &server::services::Actor::command_line(),
        )
        .await
        .unwrap()
        .secret;
    let client = reqwest::Client::new();
    for host in LOOPBACK_NAMES {
        let url = format!("https://{host}:9443/hook");
        let response = client
            .post(app.url("/api/v1/destinations"))
            .bearer_auth(&key)
            .json(&json!({"name": "Loopback", "url": url}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        let err: Value = response.json().await.unwrap();
        assert_eq!(err["error"]["code"], "invalid", "{url}: {err}");
        assert_eq!(err["error"]["field"], "url", "{url}: {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("loopback") && message.contains("only sends to public addresses"),
            "{url}: {message}"
        );
    }
    assert!(
        app.services.list_destinations().await.unwrap().is_empty(),
        "nothing saved"
    );
}
