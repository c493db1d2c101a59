//! Sign-in and password re-entry limits that hold under concurrency, and
//! sessions that end when a user's password or role changes. Each test runs
//! the attack as described: many tries at once, from one client.

use crate::helpers::{TestApp, PASSWORD};
use futures::future::join_all;
use reqwest::StatusCode;

crate::on_both_engines!(
    fifty_parallel_wrong_passwords_get_at_most_five_checks,
    one_address_is_limited_across_accounts,
    password_reentry_is_limited_too,
    overlong_emails_are_refused_before_any_work_and_emails_are_not_stored,
    password_and_role_changes_end_other_sessions,
    two_admins_demoting_each_other_at_once_leave_one,
);

async fn sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.call(
        &TestApp::browser(),
        "login",
        &[("email", email), ("password", password)],
    )
    .await
}

/// Statuses of `n` sign-ins sent at once, and whether every 429 said when to retry.
async fn burst(
    app: &TestApp,
    n: usize,
    email: impl Fn(usize) -> String,
) -> (Vec<StatusCode>, bool) {
    let answers = join_all((0..n).map(|i| {
        let email = email(i);
        async move { sign_in(app, &email, "wrong password, again").await }
    }))
    .await;
    let retry_after = answers
        .iter()
        .filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .all(|r| r.headers().get("retry-after").is_some());
    (answers.iter().map(|r| r.status()).collect(), retry_after)
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

async fn fifty_parallel_wrong_passwords_get_at_most_five_checks(app: &TestApp) {
    app.create_user("victim@example.com", "admin").await;
    let (statuses, retry_after) = burst(app, 50, |_| "victim@example.com".into()).await;
    let checked = count(&statuses, StatusCode::UNAUTHORIZED);
    let refused = count(&statuses, StatusCode::TOO_MANY_REQUESTS);
    assert!(checked <= 5, "{checked} password checks: {statuses:?}");
    assert_eq!(checked + refused, 50, "{statuses:?}");
    assert!(retry_after, "every 429 carries Retry-After");
    // Locked now, even with the right password.
    let r = sign_in(app, "victim@example.com", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let seconds: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&seconds), "{seconds}");
}

async fn one_address_is_limited_across_accounts(app: &TestApp) {
    // 40 different accounts from one address: at most 30 checks.
    let (statuses, _) = burst(app, 40, |i| format!("user{i}@example.com")).await;
    let checked = count(&statuses, StatusCode::UNAUTHORIZED);
    assert!(checked <= 30, "{checked} checks from one address");
    assert!(count(&statuses, StatusCode::TOO_MANY_REQUESTS) >= 10);
    let r = sign_in(app, "someone-else@example.com", "whatever it is").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let err: app::error::AppError = r.json().await.unwrap();
    assert!(err.to_string().contains("network address"), "{err}");
}

async fn password_reentry_is_limited_too(app: &TestApp) {
    let editor = app.signed_in("ed@example.com", "editor").await;
    let answers = join_all((0..20).map(|_| {
        let editor = editor.clone();
        async move {
            app.call(
                &editor,
                "change_password",
                &[
                    ("current_password", "not my password"),
                    ("new_password", "a brand new password"),
                    ("new_password_confirm", "a brand new password"),
                ],
            )
            .await
            .status()
        }
    }))
    .await;
    let checked = count(&answers, StatusCode::BAD_REQUEST);
    assert!(checked <= 5, "{checked} re-entry checks: {answers:?}");
    assert_eq!(checked + count(&answers, StatusCode::TOO_MANY_REQUESTS), 20);
    // Revealing a signing secret counts against the same limit.
    let r = app
        .call(
            &editor,
            "reveal_signing_secret",
            &[("id", "1"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn overlong_emails_are_refused_before_any_work_and_emails_are_not_stored(app: &TestApp) {
    let long = format!("{}@example.com", "x".repeat(300));
    let r = sign_in(app, &long, "whatever it is").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = sign_in(app, "someone@example.com", "whatever it is").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let sql = "SELECT subject FROM auth_attempts ORDER BY id";
    let subjects = app.texts(sql).await;
    assert_eq!(
        subjects.len(),
        2,
        "the overlong one counted nothing: {subjects:?}"
    );
    assert!(
        subjects.iter().all(|s| !s.contains("example.com")),
        "{subjects:?}"
    );
    assert!(subjects
        .iter()
        .any(|s| s.starts_with("account:") && s.len() == "account:".len() + 64));
}

async fn signed_in(app: &TestApp, client: &reqwest::Client) -> bool {
    app.call(client, "destinations", &[]).await.status() == StatusCode::OK
}

async fn password_and_role_changes_end_other_sessions(app: &TestApp) {
    let admin = app.signed_in("root@example.com", "admin").await;
    let laptop = app.signed_in("ed@example.com", "editor").await;
    let phone = TestApp::browser();
    let r = app
        .call(
            &phone,
            "login",
            &[("email", "ed@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert!(r.status().is_success());
    assert!(signed_in(app, &phone).await && signed_in(app, &laptop).await);
    // A password change on the laptop ends the phone's session, not the laptop's.
    let new = "a brand new password";
    let r = app
        .call(
            &laptop,
            "change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new),
                ("new_password_confirm", new),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!signed_in(app, &phone).await, "the other session ended");
    assert!(
        signed_in(app, &laptop).await,
        "the session that changed it goes on"
    );
    // A role change ends every session of that user.
    let users = app.services.list_users().await.unwrap();
    let ed = users
        .iter()
        .find(|u| u.email == "ed@example.com")
        .unwrap()
        .id
        .to_string();
    let r = app
        .call(
            &admin,
            "set_user_role",
            &[("user_id", ed.as_str()), ("role", "viewer")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!signed_in(app, &laptop).await, "the role change ended it");
    assert!(signed_in(app, &admin).await);
}

async fn two_admins_demoting_each_other_at_once_leave_one(app: &TestApp) {
    let a = app.signed_in("a@example.com", "admin").await;
    let b = app.signed_in("b@example.com", "admin").await;
    let users = app.services.list_users().await.unwrap();
    let id = |email: &str| {
        users
            .iter()
            .find(|u| u.email == email)
            .unwrap()
            .id
            .to_string()
    };
    let (a_id, b_id) = (id("a@example.com"), id("b@example.com"));
    let demote_b = [("user_id", b_id.as_str()), ("role", "viewer")];
    let demote_a = [("user_id", a_id.as_str()), ("role", "viewer")];
    let (ra, rb) = tokio::join!(
        app.call(&a, "set_user_role", &demote_b),
        app.call(&b, "set_user_role", &demote_a),
    );
    let statuses = [ra.status(), rb.status()];
    let admins = app
        .services
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.role == app::domain::Role::Admin && u.active)
        .count();
    assert_eq!(admins, 1, "exactly one admin left: {statuses:?}");
    // The loser is refused, or its session was ended by the winner's change first.
    assert!(
        statuses.contains(&StatusCode::CONFLICT) || statuses.contains(&StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    // Below the sessions, the two changes meet in the store: 20 rounds, each leaving one admin.
    let users = app.services.list_users().await.unwrap();
    let actor = |email: &str| {
        let u = users.iter().find(|u| u.email == email).unwrap();
        server::services::Actor::user(u.id, &u.email, None)
    };
    let (a, b) = (actor("a@example.com"), actor("b@example.com"));
    for round in 0..20 {
        for who in [&a, &b] {
            app.services
                .set_user_role(who, who.id.unwrap(), "admin")
                .await
                .unwrap();
        }
        let (ra, rb) = tokio::join!(
            app.services.set_user_role(&a, b.id.unwrap(), "viewer"),
            app.services.set_user_role(&b, a.id.unwrap(), "viewer"),
        );
        let left = app
            .services
            .list_users()
            .await
            .unwrap()
            .into_iter()
            .filter(|u| u.role == app::domain::Role::Admin && u.active)
            .count();
        assert_eq!(left, 1, "round {round}: {ra:?} {rb:?}");
    }
}
