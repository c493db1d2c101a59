//! A destination form parsed into values that can only be valid.

use super::header::{check_value, is_sensitive, reserved_reason, CustomHeader, HeaderName};
use super::name::Name;
use super::webhook_url::WebhookUrl;
use app::error::FormErrors;
use app::model::{AuthKind, DestinationForm, HeaderRow};
use std::net::IpAddr;

pub const MAX_SECRET_BYTES: usize = 4096;
pub const MAX_HEADERS: usize = 20;
pub const MAX_HEADERS_BYTES: usize = 8192;

/// Authentication with its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Bearer(String),
    ApiKey { header: HeaderName, key: String },
}

impl Auth {
    pub fn kind(&self) -> AuthKind {
        match self {
            Auth::None => AuthKind::None,
            Auth::Bearer(_) => AuthKind::Bearer,
            Auth::ApiKey { .. } => AuthKind::ApiKey,
        }
    }

    /// The header this authentication sets, which custom headers may not repeat.
    fn header_name(&self) -> Option<&str> {
        match self {
            Auth::None => None,
            Auth::Bearer(_) => Some("authorization"),
            Auth::ApiKey { header, .. } => Some(header.as_str()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ValidDestination {
    pub name: String,
    pub url: WebhookUrl,
    pub auth: Auth,
    pub headers: Vec<CustomHeader>,
}

/// Secrets already stored, used when an edit leaves a secret field empty.
#[derive(Debug, Default, Clone)]
pub struct KeptSecrets {
    pub bearer_token: Option<String>,
    pub api_key: Option<String>,
    /// Values of the stored secret custom headers.
    pub headers: Vec<(HeaderName, String)>,
    /// The stored origin, when the form's URL points at another one: stored
    /// credentials are only ever sent where they were given, so none are kept.
    pub withheld_for: Option<String>,
}

impl KeptSecrets {
    /// What an edit may keep when its URL is `url`: everything for the same
    /// origin (scheme, host, port) as `stored_url`, nothing for another.
    pub fn for_url(self, stored_url: &str, url: &str) -> KeptSecrets {
        let stored = origin(stored_url);
        if stored.is_some() && stored == origin(url) {
            return self;
        }
        KeptSecrets {
            withheld_for: Some(stored.unwrap_or_else(|| stored_url.to_owned())),
            ..KeptSecrets::default()
        }
    }

    fn header(&self, name: &HeaderName) -> Option<&String> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The message for a secret left empty that cannot be kept.
    fn missing(&self, what: &str) -> String {
        match &self.withheld_for {
            Some(origin) => format!(
                "Enter {what} again: the stored one is only sent to {origin}, and the URL now points elsewhere"
            ),
            None => format!("Enter {what}"),
        }
    }
}

/// `scheme://host:port` of a URL, the port spelled out.
fn origin(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw.trim()).ok()?;
    Some(format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str()?,
        url.port_or_known_default()?
    ))
}

/// Parses the whole form, collecting every field's problem at once.
pub fn parse(
    form: &DestinationForm,
    allowed: &[(IpAddr, u8)],
    kept: &KeptSecrets,
) -> Result<ValidDestination, FormErrors> {
    let mut errors = FormErrors::default();
    let name = Name::parse(&form.name, "the destination")
        .map(Name::into_string)
        .map_err(|m| errors.add("name", m))
        .ok();
    let url = WebhookUrl::parse(&form.url, allowed)
        .map_err(|m| errors.add("url", m))
        .ok();
    let auth = parse_auth(form, kept, &mut errors);
    let headers = parse_headers(&form.headers, auth.as_ref(), kept, &mut errors);
    match (name, url, auth) {
        (Some(name), Some(url), Some(auth)) if errors.is_empty() => Ok(ValidDestination {
            name,
            url,
            auth,
            headers,
        }),
        _ => Err(errors),
    }
}

fn secret(
    raw: &str,
    kept: Option<&String>,
    missing: impl FnOnce() -> String,
) -> Result<String, String> {
    let value = if raw.is_empty() {
        kept.cloned().unwrap_or_default()
    } else {
        raw.to_owned()
    };
    if value.trim().is_empty() {
        return Err(missing());
    }
    check_value(&value, MAX_SECRET_BYTES)?;
    Ok(value)
}

fn parse_auth(form: &DestinationForm, kept: &KeptSecrets, errors: &mut FormErrors) -> Option<Auth> {
    match AuthKind::parse(&form.auth_type) {
        None => {
            errors.add("auth_type", "Choose None, Bearer token or API key");
            None
        }
        Some(AuthKind::None) => Some(Auth::None),
        Some(AuthKind::Bearer) => secret(&form.bearer_token, kept.bearer_token.as_ref(), || {
            kept.missing("the bearer token")
        })
        .map(Auth::Bearer)
        .map_err(|m| errors.add("bearer_token", m))
        .ok(),
        Some(AuthKind::ApiKey) => {
            let header_raw = if form.api_key_header.trim().is_empty() {
                "X-API-Key"
            } else {
                &form.api_key_header
            };
            let header = HeaderName::parse(header_raw)
                .and_then(|h| match reserved_reason(&h) {
                    Some(why) => Err(format!(
                        "{header_raw} {why}, so it cannot carry the API key"
                    )),
                    None => Ok(h),
                })
                .map_err(|m| errors.add("api_key_header", m))
                .ok();
            let key = secret(&form.api_key, kept.api_key.as_ref(), || {
                kept.missing("the API key")
            })
            .map_err(|m| errors.add("api_key", m))
            .ok();
            Some(Auth::ApiKey {
                header: header?,
                key: key?,
            })
        }
    }
}

fn parse_headers(
    rows: &[HeaderRow],
    auth: Option<&Auth>,
    kept: &KeptSecrets,
    errors: &mut FormErrors,
) -> Vec<CustomHeader> {
    let filled: Vec<(usize, &HeaderRow)> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| !(r.name.trim().is_empty() && r.value.is_empty()))
        .collect();
    if filled.len() > MAX_HEADERS {
        errors.add("headers", format!("At most {MAX_HEADERS} custom headers"));
        return Vec::new();
    }
    let total: usize = filled
        .iter()
        .map(|(_, r)| r.name.trim().len() + r.value.len())
        .sum();
    if total > MAX_HEADERS_BYTES {
        errors.add(
            "headers",
            format!(
                "Custom headers can be at most {} KiB in all",
                MAX_HEADERS_BYTES / 1024
            ),
        );
    }
    let auth_header = auth.and_then(Auth::header_name);
    let mut parsed: Vec<CustomHeader> = Vec::new();
    for (i, row) in filled {
        match parse_header(row, auth_header, &parsed, kept) {
            Ok(header) => parsed.push(header),
            Err((field, m)) => errors.add(&format!("headers.{i}.{field}"), m),
        }
    }
    parsed
}

fn parse_header(
    row: &HeaderRow,
    auth_header: Option<&str>,
    earlier: &[CustomHeader],
    kept: &KeptSecrets,
) -> Result<CustomHeader, (&'static str, String)> {
    let name = HeaderName::parse(&row.name).map_err(|m| ("name", m))?;
    let shown = row.name.trim();
    if let Some(why) = reserved_reason(&name) {
        return Err(("name", format!("{shown} {why}, so it cannot be set here")));
    }
    if auth_header == Some(name.as_str()) {
        return Err((
            "name",
            format!("{shown} is set by the Authentication you chose"),
        ));
    }
    if earlier.iter().any(|h| h.name == name) {
        return Err(("name", format!("{shown} is already set above")));
    }
    let secret = row.secret || is_sensitive(&name);
    // A secret value is never shown again: left empty, it keeps the stored one.
    let value = match (secret && row.value.is_empty(), kept.header(&name)) {
        (true, Some(stored)) => stored.clone(),
        (true, None) => return Err(("value", kept.missing(&format!("the value of {shown}")))),
        (false, _) => row.value.clone(),
    };
    check_value(&value, MAX_HEADERS_BYTES).map_err(|m| ("value", m))?;
    Ok(CustomHeader {
        name,
        value,
        secret,
    })
}

#[cfg(test)]
mod tests;
