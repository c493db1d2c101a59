//! API keys for programs: random, shown once, stored only as a SHA-256 hash.

use super::audit::{unsaved, Actor};
use super::{internal, Services};
use crate::clock::now_ms;
use crate::domain::api_key::{parse_new_key, NewKey};
use crate::store::api_keys::{self, ApiKeyRow};
use app::domain::{AuditAction, KeyRole, ObjectKind};
use app::error::AppError;
use app::model::{ApiKeyView, NewApiKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

const KEY_PREFIX: &str = "aw_";
const SHOWN_PREFIX_LEN: usize = 10;
/// Recording "last used" on every request would make each API call a write.
const TOUCH_EVERY_MS: i64 = 60_000;

/// The identity behind an accepted API key.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub key_id: i64,
    pub key_name: String,
    pub role: KeyRole,
    /// The configuration generation read with the key: ingest matches the
    /// rules current then, without a read of its own.
    pub generation: i64,
}

fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn key_view(row: ApiKeyRow) -> ApiKeyView {
    ApiKeyView {
        id: row.id,
        name: row.name,
        prefix: row.prefix,
        role: row.role,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    }
}

fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

impl Services {
    /// A new key named `name` with the role `role` (`ingest`, `viewer`, `editor`, `admin`),
    /// made by `actor` (its creator when a user). The actor takes the place
    /// the creator's id had, so existing calls change mechanically.
    pub async fn create_api_key(
        &self,
        name: &str,
        role: &str,
        actor: &Actor,
    ) -> Result<NewApiKey, AppError> {
        let NewKey { name, role } = parse_new_key(name, role).map_err(AppError::Invalid)?;
        let secret = generate_key();
        let prefix: String = secret.chars().take(SHOWN_PREFIX_LEN).collect();
        let hash = hash_key(&secret);
        let audit = actor.entry(
            AuditAction::Create,
            unsaved(ObjectKind::ApiKey, name.as_str()),
        );
        let row = api_keys::insert(
            self.db(),
            name.as_str(),
            &prefix,
            &hash,
            role,
            actor.user_id(),
            &audit,
        )
        .await
        .map_err(internal)?;
        tracing::info!(key_id = row.id, %role, "API key created");
        Ok(NewApiKey {
            key: key_view(row),
            secret,
        })
    }

    /// Up to `limit` keys after the cursor `after`, by id, and the next cursor.
    pub async fn api_keys_after(
        &self,
        after: Option<i64>,
        limit: i64,
    ) -> Result<(Vec<ApiKeyView>, Option<i64>), AppError> {
        let rows = api_keys::after(self.db(), after, limit)
            .await
            .map_err(internal)?;
        let next = super::next_cursor(&rows, limit, |r| r.id);
        Ok((rows.into_iter().map(key_view).collect(), next))
    }

    /// Every key, live ones first, newest first.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyView>, AppError> {
        Ok(api_keys::list(self.db())
            .await
            .map_err(internal)?
            .into_iter()
            .map(key_view)
            .collect())
    }

    pub async fn revoke_api_key(&self, actor: &Actor, key_id: i64) -> Result<(), AppError> {
        let audit = actor.entry(AuditAction::Revoke, unsaved(ObjectKind::ApiKey, ""));
        if api_keys::revoke(self.db(), key_id, &audit)
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
        let Some(api_keys::LiveKey {
            key: row,
            generation,
        }) = api_keys::live_by_hash(self.db(), &hash_key(presented))
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
            role: row.role,
            generation,
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
}
