//! Destinations as the sender needs them: the URL, the authentication with
//! its secret opened, the custom headers and the live signing secrets. Send
//! Test Alert and the engine both read destinations through here.

use crate::clock::now_ms;
use crate::crypto::{CryptoError, SecretBox};
use crate::domain::destination::{Auth, KeptSecrets};
use crate::domain::header::HeaderName;
use crate::store::destinations::{self as rows, DestinationRow};
use crate::store::{Db, StoreResult};
use app::model::{AuthKind, HeaderRow};
use std::collections::HashMap;
use std::sync::Arc;

/// Purposes bound into sealed values (see `crypto`).
pub const AUTH_PURPOSE: &str = "destination.auth";
pub const SIGNING_PURPOSE: &str = "destination.signing";

/// A destination ready to send to.
#[derive(Debug)]
pub struct Target {
    pub url: url::Url,
    pub auth: Auth,
    pub headers: Vec<(HeaderName, String)>,
    pub secrets: Vec<String>,
}

/// Why a stored destination cannot be sent to: its deliveries fail instead of looping.
#[derive(Debug, thiserror::Error)]
pub enum Unsendable {
    #[error("The destination's secrets cannot be opened with this secret key")]
    Secrets(#[from] CryptoError),
    #[error("The destination's stored URL is not a valid URL")]
    Url,
}

/// Opens destinations' secrets with the instance's key.
#[derive(Clone)]
pub struct Targets {
    secrets: SecretBox,
}

impl Targets {
    pub fn new(secrets: SecretBox) -> Self {
        Targets { secrets }
    }

    /// The given destinations, each ready to send to or the reason it is not.
    pub async fn load(
        &self,
        db: &Db,
        ids: &[i64],
    ) -> StoreResult<HashMap<i64, Result<Arc<Target>, String>>> {
        let rows = rows::by_ids(db, ids).await?;
        Ok(rows
            .iter()
            .map(|row| {
                let target = self.target(row).map(Arc::new).map_err(|e| e.to_string());
                (row.id, target)
            })
            .collect())
    }

    pub fn target(&self, row: &DestinationRow) -> Result<Target, Unsendable> {
        let kept = self.kept_secrets(row)?;
        let auth = match row.auth_type {
            AuthKind::None => Auth::None,
            AuthKind::Bearer => Auth::Bearer(kept.bearer_token.unwrap_or_default()),
            AuthKind::ApiKey => Auth::ApiKey {
                // Stored only after `HeaderName::parse`; the default covers a row edited by hand.
                header: row
                    .auth_header
                    .as_deref()
                    .and_then(|h| HeaderName::parse(h).ok())
                    .unwrap_or_else(HeaderName::x_api_key),
                key: kept.api_key.unwrap_or_default(),
            },
        };
        let stored: Vec<HeaderRow> = serde_json::from_str(&row.headers).unwrap_or_default();
        let headers = stored
            .into_iter()
            .filter_map(|h| HeaderName::parse(&h.name).ok().map(|n| (n, h.value)))
            .collect();
        Ok(Target {
            url: url::Url::parse(&row.url).map_err(|_| Unsendable::Url)?,
            auth,
            headers,
            secrets: self.live_secrets(row)?,
        })
    }

    /// The stored authentication secret, for an edit that leaves it empty.
    pub fn kept_secrets(&self, row: &DestinationRow) -> Result<KeptSecrets, CryptoError> {
        let secret = row
            .auth_secret
            .as_deref()
            .map(|s| self.secrets.open(AUTH_PURPOSE, s))
            .transpose()?;
        Ok(match row.auth_type {
            AuthKind::Bearer => KeptSecrets {
                bearer_token: secret,
                api_key: None,
            },
            AuthKind::ApiKey => KeptSecrets {
                bearer_token: None,
                api_key: secret,
            },
            AuthKind::None => KeptSecrets::default(),
        })
    }

    /// The current signing secret, and the previous one while its grace period lasts.
    pub fn live_secrets(&self, row: &DestinationRow) -> Result<Vec<String>, CryptoError> {
        let mut secrets = vec![self.secrets.open(SIGNING_PURPOSE, &row.signing_secret)?];
        if let (Some(previous), Some(until)) =
            (&row.previous_secret, row.previous_secret_expires_at)
        {
            if until > now_ms() {
                secrets.push(self.secrets.open(SIGNING_PURPOSE, previous)?);
            }
        }
        Ok(secrets)
    }
}
