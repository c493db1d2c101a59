//! Destinations as the sender needs them: the URL, the authentication with
//! its secret opened, the custom headers and the live signing secrets. Send
//! Test Alert and the engine both read destinations through here.

use crate::clock::now_ms;
use crate::crypto::{CryptoError, SecretBox};
use crate::domain::destination::{Auth, KeptSecrets};
use crate::domain::header::{is_sensitive, CustomHeader, HeaderName};
use crate::store::destinations::{self as rows, DestinationRow};
use crate::store::{generation, Db, StoreResult};
use app::model::AuthKind;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Purposes bound into sealed values (see `crypto`).
pub const AUTH_PURPOSE: &str = "destination.auth";
pub const SIGNING_PURPOSE: &str = "destination.signing";
pub const HEADER_PURPOSE: &str = "destination.header";

/// A custom header as the `headers` column keeps it: a secret one's value is
/// sealed. Rows from before secret headers have no `secret` and plain values.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredHeader {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub secret: bool,
}

impl StoredHeader {
    /// Whether its value must be hidden: marked secret, or named like a credential.
    pub fn hidden(&self) -> bool {
        self.secret || HeaderName::parse(&self.name).is_ok_and(|n| is_sensitive(&n))
    }
}

/// The `headers` column of a row (an unreadable one reads as no headers).
pub fn stored_headers(row: &DestinationRow) -> Vec<StoredHeader> {
    serde_json::from_str(&row.headers).unwrap_or_default()
}

/// The `headers` column for `headers`, secret values sealed.
pub fn seal_headers(secrets: &SecretBox, headers: &[CustomHeader]) -> Result<String, CryptoError> {
    let stored = headers
        .iter()
        .map(|h| {
            let value = if h.secret {
                secrets.seal(HEADER_PURPOSE, &h.value)?
            } else {
                h.value.clone()
            };
            Ok(StoredHeader {
                name: h.name.as_str().to_owned(),
                value,
                secret: h.secret,
            })
        })
        .collect::<Result<Vec<_>, CryptoError>>()?;
    serde_json::to_string(&stored).map_err(|_| CryptoError::Encrypt)
}

/// A destination ready to send to.
#[derive(Debug)]
pub struct Target {
    pub url: url::Url,
    pub auth: Auth,
    pub headers: Vec<CustomHeader>,
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

/// A destination as `Targets::load` gives it: ready, or why it cannot be sent to.
pub type Loaded = Result<Arc<Target>, String>;

/// Opens destinations' secrets with the instance's key, and keeps what it
/// opened while the configuration generation holds (`store::generation`), so
/// the engine neither reads nor decrypts a destination per batch.
#[derive(Clone)]
pub struct Targets {
    secrets: SecretBox,
    kept: Arc<Mutex<Kept>>,
}

/// Destinations opened at one generation.
#[derive(Default)]
struct Kept {
    generation: i64,
    targets: HashMap<i64, KeptTarget>,
}

struct KeptTarget {
    target: Loaded,
    /// When the previous signing secret's grace ends: the entry is opened
    /// again then, so that secret stops signing on time.
    stale_at: Option<i64>,
}

impl Kept {
    /// The destination if it is kept, fresh, at exactly `generation`.
    fn get(&self, generation: i64, id: i64, now: i64) -> Option<Loaded> {
        let k = self.targets.get(&id)?;
        let fresh = k.stale_at.is_none_or(|at| now < at);
        (self.generation == generation && fresh).then(|| k.target.clone())
    }
}

impl Targets {
    pub fn new(secrets: SecretBox) -> Self {
        Targets {
            secrets,
            kept: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        // Only a cache: what a panicking holder left is still usable.
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The destination if it is kept, fresh, at exactly `generation`.
    pub fn kept(&self, generation: i64, id: i64, now: i64) -> Option<Loaded> {
        self.lock().get(generation, id, now)
    }

    /// The given destinations, each ready to send to or the reason it is not.
    /// Costs one read of the generation when all of them are kept.
    pub async fn load(&self, db: &Db, ids: &[i64]) -> StoreResult<HashMap<i64, Loaded>> {
        let generation = generation::current(db).await?;
        let now = now_ms();
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let mut kept = self.lock();
            if kept.generation < generation {
                kept.generation = generation;
                kept.targets.clear();
            }
            // A reader behind the kept generation finds nothing and reads for itself.
            for id in ids {
                match kept.get(generation, *id, now) {
                    Some(target) => {
                        found.insert(*id, target);
                    }
                    None => missing.push(*id),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let rows = rows::by_ids(db, &missing).await?;
        let opened: Vec<(i64, KeptTarget)> = rows
            .iter()
            .map(|row| {
                let target = self.target(row).map(Arc::new).map_err(|e| e.to_string());
                let stale_at = row.previous_secret_expires_at.filter(|at| *at > now);
                (row.id, KeptTarget { target, stale_at })
            })
            .collect();
        let mut kept = self.lock();
        // Rows read at an older generation than the one kept now are not kept.
        let keep = kept.generation == generation;
        for (id, k) in opened {
            found.insert(id, k.target.clone());
            if keep {
                kept.targets.insert(id, k);
            }
        }
        Ok(found)
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
        let headers = self.headers(row)?;
        Ok(Target {
            url: url::Url::parse(&row.url).map_err(|_| Unsendable::Url)?,
            auth,
            headers,
            secrets: self.live_secrets(row)?,
        })
    }

    /// The custom headers, secret values opened.
    pub fn headers(&self, row: &DestinationRow) -> Result<Vec<CustomHeader>, CryptoError> {
        let mut headers = Vec::new();
        for stored in stored_headers(row) {
            // Stored only after `HeaderName::parse`.
            let Ok(name) = HeaderName::parse(&stored.name) else {
                continue;
            };
            let secret = stored.hidden();
            let value = if stored.secret {
                self.secrets.open(HEADER_PURPOSE, &stored.value)?
            } else {
                stored.value
            };
            headers.push(CustomHeader {
                name,
                value,
                secret,
            });
        }
        Ok(headers)
    }

    /// The stored credentials, for an edit that leaves a secret field empty.
    pub fn kept_secrets(&self, row: &DestinationRow) -> Result<KeptSecrets, CryptoError> {
        let secret = row
            .auth_secret
            .as_deref()
            .map(|s| self.secrets.open(AUTH_PURPOSE, s))
            .transpose()?;
        let (bearer_token, api_key) = match row.auth_type {
            AuthKind::Bearer => (secret, None),
            AuthKind::ApiKey => (None, secret),
            AuthKind::None => (None, None),
        };
        let headers = self
            .headers(row)?
            .into_iter()
            .filter(|h| h.secret)
            .map(|h| (h.name, h.value))
            .collect();
        Ok(KeptSecrets {
            bearer_token,
            api_key,
            headers,
            withheld_for: None,
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
