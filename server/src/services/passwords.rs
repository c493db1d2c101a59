//! Argon2id password hashing, run off the async runtime.

use app::error::AppError;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|err| {
        tracing::error!(%err, "password hashing task failed");
        AppError::Internal
    })?
    .map_err(|err| {
        tracing::error!(%err, "password hashing failed");
        AppError::Internal
    })
}

/// Checks `password` against `stored`; with no stored hash it still spends the
/// same time, so response times do not reveal which emails have accounts.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_string());
        let ok = PasswordHash::new(&stored)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && stored != DUMMY_HASH
    })
    .await
    .map_err(|err| {
        tracing::error!(%err, "password verification task failed");
        AppError::Internal
    })
}

/// An Argon2id hash with the default parameters, of a password nobody knows.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$W7sWTxrRStVqIgqTwVIE3+Ms7uqMavOYxA12hbIp59M";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ() {
        let a = hash("correct horse battery".into()).await.unwrap();
        let b = hash("correct horse battery".into()).await.unwrap();
        assert_ne!(a, b, "salts must differ");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), Some(a.clone()))
            .await
            .unwrap());
        assert!(!verify("wrong horse battery".into(), Some(a)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
    }

    #[test]
    fn dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
