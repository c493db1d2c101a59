//! Which API keys may call a route. Each handler names its scope as its first
//! extractor after the state, so the check runs before anything is parsed
//! and the route's scope is read off its signature (ARCHITECTURE.md "API keys").

use super::error::error_response;
use crate::services::api_keys::ApiCaller;
use crate::services::Actor;
use app::domain::KeyRole;
use axum::extract::{ConnectInfo, FromRequestParts};
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

/// The caller `require_api_key` put into the request, if its role allows
/// `needed`, and who it is for the audit log (the key, from the peer address).
fn caller_with(parts: &Parts, needed: KeyRole) -> Result<(ApiCaller, Actor), Refused> {
    let caller = parts.extensions.get::<ApiCaller>().ok_or(Refused::NoKey)?;
    if caller.role.allows(needed) {
        let address = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        let actor = Actor::api_key(caller.key_id, &caller.key_name, address);
        Ok((caller.clone(), actor))
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
        /// Holds the caller and, for the audit log, the caller as an `Actor`.
        pub struct $name(#[allow(dead_code)] pub ApiCaller, #[allow(dead_code)] pub Actor);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = Refused;

            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Refused> {
                caller_with(parts, $role).map(|(caller, actor)| $name(caller, actor))
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
