//! Settings -> Users and role checks.

use crate::helpers::{location, TestApp, PASSWORD};
use app::domain::Role;
use app::error::AppError;
use reqwest::StatusCode;

crate::on_both_engines!(
    admin_creates_users_with_roles,
    new_user_bad_input_gets_field_messages_and_changes_nothing,
    viewers_and_editors_get_403_on_admin_actions,
    roles_change_and_deactivation_ends_sessions,
    the_last_admin_cannot_be_demoted_or_deactivated,
);

fn new_user<'a>(
    email: &'a str,
    password: &'a str,
    confirm: &'a str,
    role: &'a str,
) -> [(&'static str, &'a str); 4] {
    [
        ("email", email),
        ("password", password),
        ("password_confirm", confirm),
        ("role", role),
    ]
}

async fn admin_creates_users_with_roles(app: &TestApp) {
    let admin = app.signed_in("root@example.com", "admin").await;
    let r = app
        .call(
            &admin,
            "create_user",
            &new_user("ed@example.com", PASSWORD, PASSWORD, "editor"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let users = app.services.list_users().await.unwrap();
    let ed = users
        .iter()
        .find(|u| u.email == "ed@example.com")
        .expect("created");
    assert_eq!(ed.role, Role::Editor);
    assert!(ed.active);
    let html = app
        .get(&admin, "/settings/users")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("ed@example.com"));
}

async fn new_user_bad_input_gets_field_messages_and_changes_nothing(app: &TestApp) {
    let admin = app.signed_in("root@example.com", "admin").await;
    app.create_user("taken@example.com", "viewer").await;
    let before = app.services.list_users().await.unwrap();
    let long = format!("{}@example.com", "x".repeat(245));
    let cases = [
        (new_user("", PASSWORD, PASSWORD, "viewer"), "email"),
        (new_user(&long, PASSWORD, PASSWORD, "viewer"), "email"),
        (
            new_user("no at sign", PASSWORD, PASSWORD, "viewer"),
            "email",
        ),
        (
            new_user("new@example.com", "tooshort", "tooshort", "viewer"),
            "password",
        ),
        (
            new_user("new@example.com", PASSWORD, "mismatch here", "viewer"),
            "password_confirm",
        ),
        (
            new_user("new@example.com", PASSWORD, PASSWORD, "superuser"),
            "role",
        ),
        (
            new_user("TAKEN@example.com", PASSWORD, PASSWORD, "viewer"),
            "email",
        ),
    ];
    for (form, field) in cases {
        let r = app.call(&admin, "create_user", &form).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{form:?}");
        let err: AppError = r.json().await.unwrap();
        let message = err.form().and_then(|f| f.message_for(field));
        assert!(message.is_some(), "{field}: {err:?}");
    }
    assert_eq!(
        app.services.list_users().await.unwrap(),
        before,
        "nothing stored changed"
    );
}

async fn viewers_and_editors_get_403_on_admin_actions(app: &TestApp) {
    app.create_user("root@example.com", "admin").await;
    for role in ["viewer", "editor"] {
        let client = app.signed_in(&format!("{role}@example.com"), role).await;
        let r = app
            .call(
                &client,
                "create_user",
                &new_user("x@example.com", PASSWORD, PASSWORD, "admin"),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role} creating a user");
        assert_eq!(r.json::<AppError>().await.unwrap(), AppError::Forbidden);
        for (function, form) in [
            ("list_users", vec![]),
            ("set_user_role", vec![("user_id", "1"), ("role", "viewer")]),
            (
                "set_user_active",
                vec![("user_id", "1"), ("active", "false")],
            ),
            ("create_api_key", vec![("name", "mine")]),
            ("api_keys", vec![]),
            ("revoke_api_key", vec![("key_id", "1")]),
        ] {
            let r = app.call(&client, function, &form).await;
            assert_eq!(
                r.status(),
                StatusCode::FORBIDDEN,
                "{role} calling {function}"
            );
        }
        let page = app.get(&client, "/settings/users").await;
        assert_eq!(
            page.status(),
            StatusCode::FORBIDDEN,
            "{role} opening Settings -> Users"
        );
    }
    assert_eq!(
        app.services.list_users().await.unwrap().len(),
        3,
        "no user was created"
    );
    // Signed out, the same calls are refused as unauthenticated.
    let r = app.call(&TestApp::browser(), "list_users", &[]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn roles_change_and_deactivation_ends_sessions(app: &TestApp) {
    let admin = app.signed_in("root@example.com", "admin").await;
    let viewer = app.signed_in("vi@example.com", "viewer").await;
    let id = app
        .services
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == "vi@example.com")
        .unwrap()
        .id;
    let id_text = id.to_string();

    let r = app
        .call(
            &admin,
            "set_user_role",
            &[("user_id", &id_text), ("role", "admin")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.call(&viewer, "list_users", &[]).await.status(),
        StatusCode::UNAUTHORIZED,
        "a role change ends the user's sessions"
    );
    let viewer = TestApp::browser();
    let r = app
        .call(
            &viewer,
            "login",
            &[("email", "vi@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert!(r.status().is_success());
    assert_eq!(
        app.call(&viewer, "list_users", &[]).await.status(),
        StatusCode::OK,
        "signed in again, now an admin"
    );
    let r = app
        .call(
            &admin,
            "set_user_role",
            &[("user_id", &id_text), ("role", "owner")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let r = app
        .call(
            &admin,
            "set_user_active",
            &[("user_id", &id_text), ("active", "false")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        location(&app.get(&viewer, "/alerts").await),
        "/login",
        "session ended"
    );
    let r = app
        .call(
            &TestApp::browser(),
            "login",
            &[("email", "vi@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "deactivated users cannot sign in"
    );

    let r = app
        .call(
            &admin,
            "set_user_active",
            &[("user_id", &id_text), ("active", "true")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .call(
            &TestApp::browser(),
            "login",
            &[("email", "vi@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .call(
            &admin,
            "set_user_active",
            &[("user_id", "999999"), ("active", "false")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn the_last_admin_cannot_be_demoted_or_deactivated(app: &TestApp) {
    let admin = app.signed_in("root@example.com", "admin").await;
    let id = app.services.list_users().await.unwrap()[0].id.to_string();
    let r = app
        .call(
            &admin,
            "set_user_role",
            &[("user_id", &id), ("role", "viewer")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = app
        .call(
            &admin,
            "set_user_active",
            &[("user_id", &id), ("active", "false")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let users = app.services.list_users().await.unwrap();
    assert_eq!(users[0].role, Role::Admin);
    assert!(users[0].active);
}
