//! API keys for programs: random, shown once, stored only as a SHA-256 hash.

use super::{internal, Services};
use crate::store::{api_keys, now_ms};
use app::error::{AppError, FormErrors};
use app::model::{ApiKeyView, ApiKeysPage, CurrentUser, NewApiKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tower_sessions::Session;

const KEY_PREFIX: &str = "aw_";
const SHOWN_PREFIX_LEN: usize = 10;
const NAME_MAX_CHARS: usize = 100;
/// A key created by a form post without JavaScript waits here for the reload.
const FLASH_KEY: &str = "new_api_key";
/// Recording "last used" on every request would make each API call a write.
const TOUCH_EVERY_MS: i64 = 60_000;

/// The identity behind an accepted API key.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub key_id: i64,
    pub key_name: String,
}

fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn validate_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    let mut errors = FormErrors::default();
    errors.keep("name", raw);
    if name.is_empty() {
        errors.add("name", "Give the key a name");
    } else if name.chars().count() > NAME_MAX_CHARS {
        errors.add(
            "name",
            format!("Names can be at most {NAME_MAX_CHARS} characters"),
        );
    } else if name.chars().any(char::is_control) {
        errors.add("name", "Names cannot contain control characters");
    }
    errors.into_result().map(|()| name.to_owned())
}

impl Services {
    pub async fn create_api_key(
        &self,
        name: &str,
        created_by: Option<i64>,
    ) -> Result<NewApiKey, AppError> {
        let name = validate_name(name)?;
        let secret = generate_key();
        let prefix: String = secret.chars().take(SHOWN_PREFIX_LEN).collect();
        let row = api_keys::insert(self.db(), &name, &prefix, &hash_key(&secret), created_by)
            .await
            .map_err(internal)?;
        tracing::info!(key_id = row.id, "API key created");
        Ok(NewApiKey {
            key: row.view(),
            secret,
        })
    }

    /// Creates a key from the settings page and keeps it for a reload without JavaScript.
    pub async fn create_api_key_in_session(
        &self,
        session: &Session,
        actor: &CurrentUser,
        name: &str,
    ) -> Result<NewApiKey, AppError> {
        let created = self.create_api_key(name, Some(actor.id)).await?;
        if let Err(err) = session.insert(FLASH_KEY, &created).await {
            tracing::warn!(%err, "could not keep the new key for the next page");
        }
        Ok(created)
    }

    pub async fn api_keys_page(&self, session: &Session) -> Result<ApiKeysPage, AppError> {
        let keys: Vec<ApiKeyView> = api_keys::list(self.db())
            .await
            .map_err(internal)?
            .into_iter()
            .map(api_keys::ApiKeyRow::view)
            .collect();
        let just_created = session.remove::<NewApiKey>(FLASH_KEY).await.ok().flatten();
        Ok(ApiKeysPage { keys, just_created })
    }

    pub async fn revoke_api_key(&self, key_id: i64) -> Result<(), AppError> {
        if api_keys::revoke(self.db(), key_id)
            .await
            .map_err(internal)?
        {
            tracing::info!(key_id, "API key revoked");
            Ok(())
        } else {
            Err(AppError::NotFound(
                "No such API key, or it is already revoked".into(),
            ))
        }
    }

    /// The caller for a presented bearer key, if it is live.
    pub async fn authenticate_api_key(
        &self,
        presented: &str,
    ) -> Result<Option<ApiCaller>, AppError> {
        if !presented.starts_with(KEY_PREFIX) {
            return Ok(None);
        }
        let Some(row) = api_keys::live_by_hash(self.db(), &hash_key(presented))
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let now = now_ms();
        if row.last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY_MS) {
            api_keys::touch(self.db(), row.id, now)
                .await
                .map_err(internal)?;
        }
        Ok(Some(ApiCaller {
            key_id: row.id,
            key_name: row.name,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_prefixed() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a, b);
        assert!(a.starts_with(KEY_PREFIX));
        assert_eq!(a.len(), KEY_PREFIX.len() + 43);
        assert_eq!(hash_key(&a).len(), 64);
    }

    #[test]
    fn names_are_validated() {
        assert_eq!(validate_name("  CI monitor ").unwrap(), "CI monitor");
        assert!(validate_name("").is_err());
        assert!(validate_name("   ").is_err());
        assert!(validate_name(&"x".repeat(101)).is_err());
        assert!(validate_name("bad\nname").is_err());
    }
}
