//! Which API keys may call a route. Each handler names its scope as its first
//! extractor after the state, so the check runs before anything is parsed
//! and the route's scope is read off its signature (ARCHITECTURE.md "API keys").

use super::error::error_response;
use crate::services::api_keys::ApiCaller;
use app::domain::KeyRole;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why a call was refused before its handler ran.
pub enum Refused {
    NoKey,
    Role { role: KeyRole, needed: KeyRole },
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::NoKey => error_response(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Send an API key as `Authorization: Bearer <key>`",
                None,
            ),
            Refused::Role { role, needed } => {
                let message = format!(
                    "This API key's role is {role}, which may not do this (it needs {})",
                    needs(needed)
                );
                error_response(StatusCode::FORBIDDEN, "forbidden", &message, None)
            }
        }
    }
}

/// The caller `require_api_key` put into the request, if its role allows `needed`.
fn caller_with(parts: &Parts, needed: KeyRole) -> Result<ApiCaller, Refused> {
    let caller = parts.extensions.get::<ApiCaller>().ok_or(Refused::NoKey)?;
    if caller.role.allows(needed) {
        Ok(caller.clone())
    } else {
        Err(Refused::Role {
            role: caller.role,
            needed,
        })
    }
}

fn needs(needed: KeyRole) -> &'static str {
    match needed {
        KeyRole::Ingest => "ingest, editor or admin",
        KeyRole::Viewer => "viewer, editor or admin",
        KeyRole::Editor => "editor or admin",
        KeyRole::Admin => "admin",
    }
}

macro_rules! scope {
    ($(#[$doc:meta])* $name:ident => $role:expr) => {
        $(#[$doc])*
        pub struct $name(#[allow(dead_code)] pub ApiCaller);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = Refused;

            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Refused> {
                caller_with(parts, $role).map($name)
            }
        }
    };
}

scope!(
    /// Posting events: `ingest`, `editor` and `admin` keys.
    Ingest => KeyRole::Ingest
);
scope!(
    /// Reading destinations, rules, alerts and deliveries: `viewer`, `editor`, `admin`.
    Read => KeyRole::Viewer
);
scope!(
    /// Creating, changing, testing and deleting destinations and rules: `editor`, `admin`.
    Edit => KeyRole::Editor
);
scope!(
    /// Re-driving deliveries and everything else: `admin` only.
    Manage => KeyRole::Admin
);
