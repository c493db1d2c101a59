//! A signing-secret rotation's grace period is at most 7 days: past that the
//! old secret would go on signing for ever (or, summed with the clock,
//! overflow). Refused where the value is parsed and again in the service.

use crate::destinations::Env;
use crate::destinations_api::Api;
use crate::receivers::{receiver, url};
use app::error::AppError;
use reqwest::StatusCode;
use serde_json::json;
use server::receiver::Behaviour;
use std::time::Duration;

crate::on_both_engines!(with crate::destinations::Env::new;
    huge_grace_periods_are_refused_and_rotate_nothing,
    the_service_caps_the_grace_period,
);

const WEEK_SECS: u64 = 7 * 24 * 3600;

/// A destination to rotate, at a receiver that answers 200.
async fn destination(api: &Api, env: &Env) -> i64 {
    let rx = receiver(&env.ca.tls, Behaviour::default()).await;
    let body = json!({"name": "Rotating", "url": url(&rx, "localhost", "/rotate")});
    let (status, created) = api.post_raw("/destinations", &body.to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["destination"]["id"].as_i64().unwrap()
}

async fn huge_grace_periods_are_refused_and_rotate_nothing(env: &Env) {
    let api = Api::new(env).await;
    let id = destination(&api, env).await;
    let path = format!("/destinations/{id}/rotate-secret");
    let max = u64::MAX;
    // i64::MAX milliseconds, in seconds: added to the clock it overflowed.
    let overflows = i64::MAX as u64 / 1000;
    for grace in [
        format!("{max}"),
        format!("{overflows}"),
        "1e30".to_owned(),
        format!("{}", WEEK_SECS + 1),
        "-1".to_owned(),
        "1.5".to_owned(),
        "\"60\"".to_owned(),
    ] {
        let body = format!("{{\"grace_seconds\": {grace}}}");
        let (status, err) = api.post_raw(&path, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert_eq!(err["error"]["code"], "invalid", "{body}: {err}");
        assert_eq!(err["error"]["field"], "grace_seconds", "{body}: {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains("604800"),
            "{body}: {err}"
        );
        let destination = env.app.services.destination(id).await.unwrap();
        assert_eq!(
            destination.previous_secret_expires_at, None,
            "{body} rotated the secret"
        );
    }

    // Exactly 7 days is allowed.
    let before = server::clock::now_ms();
    let (status, rotated) = api
        .post_raw(&path, &format!("{{\"grace_seconds\": {WEEK_SECS}}}"))
        .await;
    let after = server::clock::now_ms();
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let expires = crate::helpers::epoch_ms(&rotated["destination"]["previous_secret_expires_at"]);
    let week_ms = i64::try_from(WEEK_SECS * 1000).unwrap();
    assert!(
        (before + week_ms..=after + week_ms).contains(&expires),
        "{expires} is not 7 days after the rotation"
    );
}

async fn the_service_caps_the_grace_period(env: &Env) {
    let api = Api::new(env).await;
    let id = destination(&api, env).await;
    for grace in [
        Duration::MAX,
        Duration::from_secs(u64::MAX),
        Duration::from_secs(WEEK_SECS) + Duration::from_millis(1),
    ] {
        let refused = env
            .app
            .services
            .rotate_signing_secret(&server::services::Actor::command_line(), id, grace)
            .await;
        let Err(AppError::Invalid(form)) = refused else {
            panic!("{grace:?} was not refused: {refused:?}");
        };
        assert!(form.message_for("grace_seconds").is_some(), "{form:?}");
        let destination = env.app.services.destination(id).await.unwrap();
        assert_eq!(destination.previous_secret_expires_at, None);
    }
    let rotated = env
        .app
        .services
        .rotate_signing_secret(
            &server::services::Actor::command_line(),
            id,
            Duration::from_secs(WEEK_SECS),
        )
        .await
        .unwrap();
    assert!(rotated.destination.previous_secret_expires_at.is_some());
}
