use super::*;

fn form() -> DestinationForm {
    DestinationForm {
        name: "Internal Alerting System".into(),
        url: "https://hooks.example.com/alerts".into(),
        auth_type: "none".into(),
        ..DestinationForm::default()
    }
}

fn row(name: &str, value: &str) -> HeaderRow {
    HeaderRow {
        name: name.into(),
        value: value.into(),
        secret: false,
    }
}

fn errors_of(form: &DestinationForm) -> FormErrors {
    parse(form, &[], &KeptSecrets::default()).expect_err("should be refused")
}

#[test]
fn a_plain_destination_parses() {
    let valid = parse(&form(), &[], &KeptSecrets::default()).unwrap();
    assert_eq!(valid.name, "Internal Alerting System");
    assert_eq!(valid.auth, Auth::None);
    assert!(valid.headers.is_empty());
}

#[test]
fn names_are_required_short_and_clean() {
    for bad in ["", "   ", "a\u{7}b"] {
        let f = DestinationForm {
            name: bad.into(),
            ..form()
        };
        assert!(errors_of(&f).message_for("name").is_some(), "{bad:?}");
    }
    let f = DestinationForm {
        name: "n".repeat(101),
        ..form()
    };
    assert!(errors_of(&f).message_for("name").unwrap().contains("100"));
    let f = DestinationForm {
        name: "n".repeat(100),
        ..form()
    };
    assert!(parse(&f, &[], &KeptSecrets::default()).is_ok());
}

#[test]
fn http_urls_are_refused_with_the_documented_reason() {
    let f = DestinationForm {
        url: "http://hooks.example.com".into(),
        ..form()
    };
    assert!(errors_of(&f)
        .message_for("url")
        .unwrap()
        .starts_with("Webhook URLs must be HTTPS"));
}

#[test]
fn bearer_tokens_are_required_and_single_line() {
    let f = DestinationForm {
        auth_type: "bearer".into(),
        ..form()
    };
    assert_eq!(
        errors_of(&f).message_for("bearer_token").unwrap(),
        "Enter the bearer token"
    );
    let f = DestinationForm {
        auth_type: "bearer".into(),
        bearer_token: "abc\r\nX-Evil: 1".into(),
        ..form()
    };
    assert!(errors_of(&f).message_for("bearer_token").is_some());
    let f = DestinationForm {
        auth_type: "bearer".into(),
        bearer_token: "t".repeat(4097),
        ..form()
    };
    assert!(errors_of(&f)
        .message_for("bearer_token")
        .unwrap()
        .contains("4 KiB"));
    let f = DestinationForm {
        auth_type: "bearer".into(),
        bearer_token: "tok-123".into(),
        ..form()
    };
    assert_eq!(
        parse(&f, &[], &KeptSecrets::default()).unwrap().auth,
        Auth::Bearer("tok-123".into())
    );
}

#[test]
fn an_empty_secret_keeps_the_stored_one_when_editing() {
    let kept = KeptSecrets {
        bearer_token: Some("stored".into()),
        ..KeptSecrets::default()
    };
    let f = DestinationForm {
        auth_type: "bearer".into(),
        ..form()
    };
    assert_eq!(
        parse(&f, &[], &kept).unwrap().auth,
        Auth::Bearer("stored".into())
    );
}

fn stored() -> KeptSecrets {
    KeptSecrets {
        bearer_token: Some("stored-token".into()),
        headers: vec![(
            HeaderName::parse("X-Session").unwrap(),
            "stored-session".into(),
        )],
        ..KeptSecrets::default()
    }
}

#[test]
fn stored_credentials_stay_with_their_origin() {
    let stored_url = "https://hooks.example.com/alerts";
    let edit = |url: &str| DestinationForm {
        url: url.into(),
        auth_type: "bearer".into(),
        headers: vec![HeaderRow {
            name: "X-Session".into(),
            value: String::new(),
            secret: true,
        }],
        ..form()
    };
    // Another path on the same origin keeps them; the port spelled out is the same origin.
    for same in [
        "https://hooks.example.com/other",
        "https://HOOKS.example.com:443/a",
    ] {
        let kept = stored().for_url(stored_url, same);
        let valid = parse(&edit(same), &[], &kept).unwrap();
        assert_eq!(valid.auth, Auth::Bearer("stored-token".into()), "{same}");
        assert_eq!(valid.headers[0].value, "stored-session");
    }
    // Another host, port or scheme keeps nothing, and says why.
    for other in [
        "https://attacker.example.net/alerts",
        "https://hooks.example.com:8443/alerts",
        "https://hooks.example.com.attacker.example.net/",
    ] {
        let kept = stored().for_url(stored_url, other);
        let errors = parse(&edit(other), &[], &kept).unwrap_err();
        let token = errors.message_for("bearer_token").unwrap();
        assert!(
            token.contains("again") && token.contains("https://hooks.example.com:443"),
            "{token}"
        );
        assert!(errors
            .message_for("headers.0.value")
            .unwrap()
            .contains("again"));
    }
    // A new value for the other origin is fine.
    let other = "https://attacker.example.net/alerts";
    let mut f = edit(other);
    f.bearer_token = "new-token".into();
    f.headers[0].value = "new-session".into();
    let valid = parse(&f, &[], &stored().for_url(stored_url, other)).unwrap();
    assert_eq!(valid.auth, Auth::Bearer("new-token".into()));
}

#[test]
fn credential_headers_are_secret_whatever_the_form_says() {
    let f = DestinationForm {
        headers: vec![
            row("Cookie", "a=b"),
            row("X-Auth-Token", "t"),
            row("X-Team", "data"),
        ],
        ..form()
    };
    let valid = parse(&f, &[], &KeptSecrets::default()).unwrap();
    let secret: Vec<bool> = valid.headers.iter().map(|h| h.secret).collect();
    assert_eq!(secret, [true, true, false]);
    // A secret header needs a value when none is stored.
    let f = DestinationForm {
        headers: vec![row("X-Auth-Token", "")],
        ..form()
    };
    assert!(errors_of(&f).message_for("headers.0.value").is_some());
}

#[test]
fn api_keys_default_to_x_api_key_and_need_a_valid_header() {
    let f = DestinationForm {
        auth_type: "api_key".into(),
        api_key: "k-1".into(),
        ..form()
    };
    match parse(&f, &[], &KeptSecrets::default()).unwrap().auth {
        Auth::ApiKey { header, key } => {
            assert_eq!(header.as_str(), "x-api-key");
            assert_eq!(key, "k-1");
        }
        other => panic!("{other:?}"),
    }
    let f = DestinationForm {
        auth_type: "api_key".into(),
        api_key_header: "Bad Header".into(),
        api_key: "k".into(),
        ..form()
    };
    assert!(errors_of(&f).message_for("api_key_header").is_some());
    let f = DestinationForm {
        auth_type: "api_key".into(),
        api_key_header: "Content-Type".into(),
        api_key: "k".into(),
        ..form()
    };
    assert!(errors_of(&f).message_for("api_key_header").is_some());
    let f = DestinationForm {
        auth_type: "api_key".into(),
        ..form()
    };
    assert_eq!(
        errors_of(&f).message_for("api_key").unwrap(),
        "Enter the API key"
    );
}

#[test]
fn unknown_auth_types_are_refused() {
    let f = DestinationForm {
        auth_type: "basic".into(),
        ..form()
    };
    assert!(errors_of(&f).message_for("auth_type").is_some());
}

#[test]
fn custom_headers_are_checked_one_by_one() {
    let f = DestinationForm {
        headers: vec![row("X-Team", "data"), row("", ""), row("X-Env", "prod")],
        ..form()
    };
    let valid = parse(&f, &[], &KeptSecrets::default()).unwrap();
    assert_eq!(valid.headers.len(), 2, "blank rows are ignored");

    let f = DestinationForm {
        headers: vec![row("X Team", "data")],
        ..form()
    };
    assert!(errors_of(&f).message_for("headers.0.name").is_some());
    let f = DestinationForm {
        headers: vec![row("X-Team", "a\nb")],
        ..form()
    };
    assert!(errors_of(&f).message_for("headers.0.value").is_some());
    let f = DestinationForm {
        headers: vec![row("X-A", "1"), row("x-a", "2")],
        ..form()
    };
    assert!(errors_of(&f)
        .message_for("headers.1.name")
        .unwrap()
        .contains("already"));
}

#[test]
fn headers_the_sender_controls_are_refused_with_a_reason() {
    for name in [
        "Host",
        "Content-Type",
        "Content-Length",
        "Transfer-Encoding",
        "Connection",
        "User-Agent",
        "X-AnomalyArmor-Signature",
        "webhook-id",
        "webhook-signature",
        "Webhook-Timestamp",
    ] {
        let f = DestinationForm {
            headers: vec![row(name, "x")],
            ..form()
        };
        let message = errors_of(&f).message_for("headers.0.name").unwrap();
        assert!(message.contains("cannot be set here"), "{name}: {message}");
    }
}

#[test]
fn the_authentication_header_cannot_be_repeated() {
    let f = DestinationForm {
        auth_type: "bearer".into(),
        bearer_token: "t".into(),
        headers: vec![row("Authorization", "x")],
        ..form()
    };
    assert!(errors_of(&f)
        .message_for("headers.0.name")
        .unwrap()
        .contains("Authentication"));
    let f = DestinationForm {
        auth_type: "api_key".into(),
        api_key_header: "X-Key".into(),
        api_key: "k".into(),
        headers: vec![row("x-key", "x")],
        ..form()
    };
    assert!(errors_of(&f).message_for("headers.0.name").is_some());
    // Without bearer auth, Authorization is an ordinary custom header.
    let f = DestinationForm {
        headers: vec![row("Authorization", "Basic abc")],
        ..form()
    };
    assert!(parse(&f, &[], &KeptSecrets::default()).is_ok());
}

#[test]
fn at_most_twenty_headers_and_eight_kib() {
    let many: Vec<HeaderRow> = (0..21).map(|i| row(&format!("X-H{i}"), "v")).collect();
    let f = DestinationForm {
        headers: many,
        ..form()
    };
    assert!(errors_of(&f).message_for("headers").unwrap().contains("20"));
    let twenty: Vec<HeaderRow> = (0..20).map(|i| row(&format!("X-H{i}"), "v")).collect();
    assert!(parse(
        &DestinationForm {
            headers: twenty,
            ..form()
        },
        &[],
        &KeptSecrets::default()
    )
    .is_ok());
    let big = vec![row("X-A", &"a".repeat(5000)), row("X-B", &"b".repeat(5000))];
    assert!(errors_of(&DestinationForm {
        headers: big,
        ..form()
    })
    .message_for("headers")
    .unwrap()
    .contains("8 KiB"));
}

#[test]
fn every_problem_is_reported_at_once() {
    let f = DestinationForm {
        name: String::new(),
        url: "http://x.example".into(),
        auth_type: "bearer".into(),
        ..form()
    };
    let errors = errors_of(&f);
    for field in ["name", "url", "bearer_token"] {
        assert!(errors.message_for(field).is_some(), "{field}");
    }
}
