//! First-run setup, sign-in, sign-out, lockout, cross-origin refusal.

use crate::helpers::{location, TestApp, PASSWORD};
use app::error::AppError;
use reqwest::header::{ORIGIN, SET_COOKIE};
use reqwest::StatusCode;

crate::on_both_engines!(
    every_page_leads_to_setup_until_a_user_exists,
    setup_creates_an_admin_once,
    setup_refuses_bad_input_and_stores_nothing,
    login_and_logout_with_a_fresh_session_id,
    wrong_password_and_unknown_email_get_the_same_answer,
    lockout_after_five_failures,
    cross_origin_posts_are_refused,
    no_javascript_form_login_redirects,
    viewing_pages_does_not_write_the_session,
    no_javascript_form_errors_come_back_on_the_page,
    change_own_password,
);

async fn setup_form(
    app: &TestApp,
    email: &str,
    password: &str,
    confirm: &str,
) -> reqwest::Response {
    let client = TestApp::browser();
    app.call(
        &client,
        "setup",
        &[
            ("email", email),
            ("password", password),
            ("password_confirm", confirm),
        ],
    )
    .await
}

async fn every_page_leads_to_setup_until_a_user_exists(app: &TestApp) {
    for path in ["/", "/alerts", "/login", "/settings/users"] {
        let response = app.get(&app.client, path).await;
        assert!(response.status().is_redirection(), "{path}");
        assert_eq!(location(&response), "/setup", "{path}");
    }
    let response = app.get(&app.client, "/setup").await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("Create admin account"));
    assert!(html.contains(r#"for="password_confirm""#));
}

async fn setup_creates_an_admin_once(app: &TestApp) {
    let response = app
        .post_form(
            &app.client,
            "/setup",
            "setup",
            &[
                ("email", "Admin@Example.com"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/alerts");

    // Signed in straight away, as an admin, in the Alerts area with its three tabs.
    let html = app.get(&app.client, "/alerts").await.text().await.unwrap();
    for text in [
        "Rules",
        "Destinations",
        "Deliveries",
        "admin@example.com",
        "Admin",
        "Sign out",
    ] {
        assert!(html.contains(text), "missing {text:?}");
    }

    // The setup page is gone, for pages and for a direct POST.
    let response = app.get(&TestApp::browser(), "/setup").await;
    assert_eq!(location(&response), "/login");
    let response = setup_form(app, "second@example.com", PASSWORD, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let users = app.services.list_users().await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].email, "admin@example.com");
}

async fn setup_refuses_bad_input_and_stores_nothing(app: &TestApp) {
    let long = format!("{}@example.com", "a".repeat(250));
    let cases: [(&str, &str, &str, &str); 6] = [
        ("", PASSWORD, PASSWORD, "email"),
        (&long, PASSWORD, PASSWORD, "email"),
        ("not-an-email", PASSWORD, PASSWORD, "email"),
        ("a@example.com", "short", "short", "password"),
        (
            "a@example.com",
            PASSWORD,
            "something else",
            "password_confirm",
        ),
        ("a@example.com", "", "", "password"),
    ];
    for (email, password, confirm, field) in cases {
        let response = setup_form(app, email, password, confirm).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{email:?}");
        let err: AppError = response.json().await.unwrap();
        let form = err.form().expect("field errors");
        assert!(
            form.message_for(field).is_some(),
            "{field} should have a message: {form:?}"
        );
    }
    assert!(app.services.list_users().await.unwrap().is_empty());
    assert!(!app.services.users_exist().await.unwrap());
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("alertwire_session="))
        .map(str::to_owned)
}

async fn login_and_logout_with_a_fresh_session_id(app: &TestApp) {
    app.create_user("ada@example.com", "editor").await;
    let client = TestApp::browser();
    let first = app
        .call(
            &client,
            "login",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    let first_cookie = session_cookie(&first).expect("session cookie");
    assert!(first_cookie.contains("HttpOnly"));
    assert!(first_cookie.contains("SameSite=Lax"));
    assert!(
        !first_cookie.contains("Secure"),
        "plain-http public URL: no Secure flag"
    );

    let second = app
        .call(
            &client,
            "login",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    let second_cookie = session_cookie(&second).expect("new session cookie");
    let id = |c: &str| c.split(';').next().unwrap_or_default().to_string();
    assert_ne!(
        id(&first_cookie),
        id(&second_cookie),
        "session id must change at login"
    );

    // The old id no longer signs anyone in.
    let stale = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = stale
        .get(app.url("/alerts"))
        .header("cookie", id(&first_cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/login");

    assert_eq!(app.get(&client, "/alerts").await.status(), StatusCode::OK);
    let out = app.call(&client, "logout", &[]).await;
    assert_eq!(out.status(), StatusCode::OK);
    // The server forgot the session: replaying the cookie does not help.
    let response = stale
        .get(app.url("/alerts"))
        .header("cookie", id(&second_cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/login");
    assert_eq!(location(&app.get(&client, "/alerts").await), "/login");
}

async fn wrong_password_and_unknown_email_get_the_same_answer(app: &TestApp) {
    app.create_user("ada@example.com", "viewer").await;
    let client = TestApp::browser();
    let wrong = app
        .call(
            &client,
            "login",
            &[
                ("email", "ada@example.com"),
                ("password", "wrong password!"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong: AppError = wrong.json().await.unwrap();
    let unknown = app
        .call(
            &client,
            "login",
            &[("email", "nobody@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown: AppError = unknown.json().await.unwrap();
    assert_eq!(wrong, AppError::BadCredentials);
    assert_eq!(wrong.to_string(), "Invalid email or password");
    assert_eq!(unknown, wrong);
}

async fn lockout_after_five_failures(app: &TestApp) {
    app.create_user("ada@example.com", "viewer").await;
    let client = TestApp::browser();
    for _ in 0..5 {
        let r = app
            .call(
                &client,
                "login",
                &[
                    ("email", "ada@example.com"),
                    ("password", "not the password"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused now, with a clear message.
    let r = app
        .call(
            &client,
            "login",
            &[("email", "ADA@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let err: AppError = r.json().await.unwrap();
    assert!(
        err.to_string().contains("Too many failed sign-in attempts"),
        "{err}"
    );
    assert!(err.to_string().contains("15 minutes"), "{err}");
    // Other accounts are not affected.
    app.create_user("bob@example.com", "viewer").await;
    let r = app
        .call(
            &client,
            "login",
            &[("email", "bob@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

async fn cross_origin_posts_are_refused(app: &TestApp) {
    app.create_user("ada@example.com", "admin").await;
    let client = TestApp::browser();
    let evil = client
        .post(app.url("/fn/login"))
        .header(ORIGIN, "https://evil.example")
        .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&evil).is_none());
    let bare = client
        .post(app.url("/fn/login"))
        .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        bare.status(),
        StatusCode::FORBIDDEN,
        "no Origin and no Referer"
    );
    let evil_referer = client
        .post(app.url("/fn/login"))
        .header("referer", "https://evil.example/page")
        .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(evil_referer.status(), StatusCode::FORBIDDEN);
    // A signed-in admin's session cannot be used from another origin either.
    let admin = app.signed_in("root@example.com", "admin").await;
    let r = admin
        .post(app.url("/fn/create_api_key"))
        .header(ORIGIN, "https://evil.example")
        .form(&[("name", "stolen")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn no_javascript_form_login_redirects(app: &TestApp) {
    app.create_user("ada@example.com", "viewer").await;
    let response = app
        .post_form(
            &app.client,
            "/login",
            "login",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/alerts");
    assert!(session_cookie(&response).is_some());
    let page = app.get(&app.client, "/alerts").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("ada@example.com"));
}

async fn no_javascript_form_errors_come_back_on_the_page(app: &TestApp) {
    app.create_user("ada@example.com", "viewer").await;
    let response = app
        .post_form(
            &app.client,
            "/login",
            "login",
            &[
                ("email", "ada@example.com"),
                ("password", "wrong password!"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let back = location(&response);
    assert!(back.starts_with(&app.url("/login?")), "{back}");
    let html = app
        .client
        .get(&back)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Invalid email or password"),
        "error shown on the reloaded page"
    );
}

async fn change_own_password(app: &TestApp) {
    let client = app.signed_in("ada@example.com", "viewer").await;
    let new = "a brand new passphrase";
    let r = app
        .call(
            &client,
            "change_password",
            &[
                ("current_password", "not it at all"),
                ("new_password", new),
                ("new_password_confirm", new),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let err: AppError = r.json().await.unwrap();
    assert!(err
        .form()
        .unwrap()
        .message_for("current_password")
        .is_some());
    let r = app
        .call(
            &client,
            "change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "short"),
                ("new_password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .call(
            &client,
            "change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new),
                ("new_password_confirm", new),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let fresh = TestApp::browser();
    let old = app
        .call(
            &fresh,
            "login",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let ok = app
        .call(
            &fresh,
            "login",
            &[("email", "ada@example.com"), ("password", new)],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
}

/// Each session's stored expiry, as text.
async fn session_expiries(app: &TestApp) -> Vec<String> {
    match app.services.db() {
        server::store::Db::Sqlite(p, _) => {
            sqlx::query_scalar("SELECT CAST(expiry_date AS TEXT) FROM tower_sessions")
                .fetch_all(p)
                .await
        }
        server::store::Db::Postgres(p) => {
            sqlx::query_scalar(r#"SELECT expiry_date::text FROM "tower_sessions"."session""#)
                .fetch_all(p)
                .await
        }
    }
    .expect("session expiries")
}

/// The destination pages took a flash message out of the session on every
/// view, which wrote the session back: one database write per page view,
/// waiting on the engine's writes under load. Now a view only reads it.
async fn viewing_pages_does_not_write_the_session(app: &TestApp) {
    let client = app.signed_in("ada@example.com", "admin").await;
    let before = session_expiries(app).await;
    assert_eq!(before.len(), 1);
    // Expiries are stored to the second: a write now would move it.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for path in [
        "/alerts/destinations/new/webhook",
        "/alerts/deliveries",
        "/alerts/rules",
        "/settings/api-keys",
    ] {
        let response = app.get(&client, path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(session_expiries(app).await, before);
}
