//! Every failure under `/api/v1` answers with the error shape, and one thing
//! is spelled one way (`auth` is always an object).

use crate::helpers::{error_json, TestApp};
use reqwest::{Method, StatusCode};

crate::on_both_engines!(
    every_api_failure_has_the_error_shape,
    destinations_and_rules_are_listed_in_cursor_pages,
    a_request_refused_before_its_body_is_read_gets_its_answer
);

async fn every_api_failure_has_the_error_shape(app: &TestApp) {
    let key = app
        .services
        .create_api_key("tests", "admin", &server::services::Actor::command_line())
        .await
        .unwrap()
        .secret;
    let api = reqwest::Client::new();
    let send = |method: Method, path: &str| {
        api.request(method, app.url(&format!("/api/v1{path}")))
            .bearer_auth(&key)
    };
    let cases = [
        (
            send(Method::GET, "/destinations/abc"),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            send(Method::GET, "/rules/1.5"),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            send(Method::POST, "/deliveries/x/redeliver"),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            send(Method::DELETE, "/events"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            send(Method::PUT, "/destinations"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            send(Method::GET, "/no-such-thing"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        // Found by the 1,000,000-case HTTP run: the API's own root, with its
        // trailing slash, got the HTML page of the site's 404.
        (send(Method::PATCH, "/"), StatusCode::NOT_FOUND, "not_found"),
        (send(Method::GET, "/"), StatusCode::NOT_FOUND, "not_found"),
        (send(Method::GET, ""), StatusCode::NOT_FOUND, "not_found"),
    ];
    for (request, status, code) in cases {
        let response = request.send().await.unwrap();
        let described = format!("{} {}", response.status(), response.url());
        assert_eq!(response.status(), status, "{described}");
        let allow = response.headers().get("allow").cloned();
        let body = error_json(response).await;
        assert_eq!(body["error"]["code"], code, "{described}: {body}");
        assert!(body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
        if status == StatusCode::METHOD_NOT_ALLOWED {
            assert!(allow.is_some(), "{described} says which methods it takes");
        }
    }
    // Over the 2 MiB body limit (read over a raw connection: see `post_oversized`).
    let (status, body) = app
        .post_oversized("/api/v1/destinations", &key, 3 << 20)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error"]["code"], "too_large");
    // `auth` appears once, as an object, in the raw answer.
    let created = send(Method::POST, "/destinations")
        .json(
            &serde_json::json!({"name": "Ops", "url": "https://hooks.example.com/a",
            "auth": {"type": "api_key", "header": "X-Key", "key": "k"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let raw = send(Method::GET, "/destinations")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(raw.matches("\"auth\"").count(), 1, "{raw}");
    assert!(
        raw.contains(r#""auth":{"header":"x-key","type":"api_key"}"#),
        "{raw}"
    );
}

async fn destinations_and_rules_are_listed_in_cursor_pages(app: &TestApp) {
    let key = app
        .services
        .create_api_key("tests", "admin", &server::services::Actor::command_line())
        .await
        .unwrap()
        .secret;
    let api = reqwest::Client::new();
    let call = |method: Method, path: String, body: Option<serde_json::Value>| {
        let mut request = api
            .request(method, app.url(&format!("/api/v1{path}")))
            .bearer_auth(&key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let r = request.send().await.unwrap();
            let status = r.status();
            (status, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    let mut ids = Vec::new();
    for name in ["A", "B", "C"] {
        let body =
            serde_json::json!({"name": name, "url": format!("https://hooks.example.com/{name}")});
        let (status, created) = call(Method::POST, "/destinations".into(), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED);
        ids.push(created["destination"]["id"].as_i64().unwrap());
    }
    for name in ["R1", "R2", "R3"] {
        let body =
            serde_json::json!({"name": name, "alert_type": "schema", "destination_ids": [ids[0]]});
        assert_eq!(
            call(Method::POST, "/rules".into(), Some(body)).await.0,
            StatusCode::CREATED
        );
    }
    // Three users and three keys too (the admin key itself is one).
    for email in ["u1@example.com", "u2@example.com", "u3@example.com"] {
        app.create_user(email, "viewer").await;
    }
    for name in ["k2", "k3"] {
        app.services
            .create_api_key(name, "ingest", &server::services::Actor::command_line())
            .await
            .unwrap();
    }
    for list in ["/destinations", "/rules", "/users", "/api-keys"] {
        let (status, first) = call(Method::GET, format!("{list}?limit=2"), None).await;
        assert_eq!(status, StatusCode::OK, "{list}: {first}");
        assert_eq!(first["items"].as_array().unwrap().len(), 2, "{list}");
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        let (_, rest) = call(Method::GET, format!("{list}?limit=2&cursor={cursor}"), None).await;
        assert_eq!(rest["items"].as_array().unwrap().len(), 1, "{list}");
        assert_eq!(rest["next_cursor"], serde_json::Value::Null);
        let seen: Vec<&serde_json::Value> = first["items"]
            .as_array()
            .unwrap()
            .iter()
            .chain(rest["items"].as_array().unwrap())
            .map(|item| &item["id"])
            .collect();
        let mut unique = seen.clone();
        unique.dedup();
        assert_eq!(unique.len(), 3, "{list}: every item once, in order");
        for bad in ["limit=0", "limit=201", "limit=x", "cursor=abc"] {
            let (status, body) = call(Method::GET, format!("{list}?{bad}"), None).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{list}?{bad}");
            assert_eq!(body["error"]["code"], "invalid");
        }
    }
}

/// A request refused before its body is read gets its answer, and its
/// connection serves the next request. Before, the server closed the
/// connection with the body unread, and the reset the kernel sends for unread
/// bytes could destroy the answer: the client saw a broken pipe or "connection
/// reset" instead of the 401 (three "no answer" cases of the 1,000,000-case
/// HTTP fuzz run). Each body is larger than what loopback's buffers hold, so
/// the write only ends if the server reads it.
async fn a_request_refused_before_its_body_is_read_gets_its_answer(app: &TestApp) {
    use tokio::io::AsyncWriteExt;
    let key = app.api_key("admin").await;
    let cases = [
        (
            "/api/v1/events",
            "aw_wrong_key",
            6 << 20,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "/api/v1/no-such-route",
            key.as_str(),
            6 << 20,
            StatusCode::NOT_FOUND,
        ),
        // Over the 8 MiB limit, refused from its Content-Length.
        (
            "/api/v1/events",
            key.as_str(),
            10 << 20,
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    for (path, key, len, status) in cases {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        if let Err(e) = stream.write_all(&vec![b' '; len]).await {
            panic!("POST {path}: the server stopped reading the body: {e}");
        }
        let (got, headers, body) = read_answer(&mut stream).await;
        assert_eq!(got, status, "POST {path}: {headers}");
        assert!(
            !headers.to_ascii_lowercase().contains("connection: close"),
            "POST {path}: the connection is kept: {headers}"
        );
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(body["error"]["message"].is_string(), "POST {path}: {body}");
    }
    let head = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let (got, headers, _) = read_answer(&mut stream).await;
    assert_eq!(
        got,
        StatusCode::OK,
        "the same connection serves on: {headers}"
    );
}

/// One answer off a kept-alive connection: status, head, and body (by its
/// Content-Length, which the API's answers carry).
async fn read_answer(stream: &mut tokio::net::TcpStream) -> (StatusCode, String, Vec<u8>) {
    use tokio::io::AsyncReadExt;
    let mut read = Vec::new();
    let mut buf = [0u8; 8192];
    let end = loop {
        if let Some(at) = read.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf).await.expect("the answer");
        assert!(n > 0, "the connection closed before an answer: {read:?}");
        read.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&read[..end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or_else(|| panic!("a status line: {head}"));
    let len: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or_else(|| panic!("a Content-Length: {head}"));
    let mut body = read.split_off(end);
    while body.len() < len {
        let n = stream.read(&mut buf).await.expect("the body");
        assert!(n > 0, "the connection closed inside the body");
        body.extend_from_slice(&buf[..n]);
    }
    (status, head, body)
}
