//! Argon2id password hashing, off the async runtime and behind a gate: each
//! check takes about 19 MiB and a core for tens of milliseconds, so at most
//! one runs per core and a burst waits briefly or is told to come back.

use app::error::AppError;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// How long a check may wait for a free slot before the answer is 503.
const WAIT: Duration = Duration::from_secs(2);

pub struct PasswordGate {
    slots: Semaphore,
}

impl PasswordGate {
    /// One slot per core.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        PasswordGate {
            slots: Semaphore::new(cores),
        }
    }

    async fn slot(&self) -> Result<SemaphorePermit<'_>, AppError> {
        match tokio::time::timeout(WAIT, self.slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(AppError::Busy { retry_after: 1 }),
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        let _slot = self.slot().await?;
        hash(password).await
    }

    /// Checks `password` against `stored`; with no stored hash it still does
    /// the same work, so response times do not reveal which emails have accounts.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, AppError> {
        let _slot = self.slot().await?;
        verify(password, stored).await
    }
}

async fn hash(password: String) -> Result<String, AppError> {
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

async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
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
        let gate = PasswordGate::for_this_machine();
        let a = gate.hash("correct horse battery".into()).await.unwrap();
        let b = gate.hash("correct horse battery".into()).await.unwrap();
        assert_ne!(a, b, "salts must differ");
        assert!(a.starts_with("$argon2id$"));
        assert!(gate
            .verify("correct horse battery".into(), Some(a.clone()))
            .await
            .unwrap());
        assert!(!gate
            .verify("wrong horse battery".into(), Some(a))
            .await
            .unwrap());
        assert!(!gate.verify("anything".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn a_full_gate_answers_busy() {
        let gate = PasswordGate {
            slots: Semaphore::new(0),
        };
        let err = gate.verify("x".into(), None).await.unwrap_err();
        assert_eq!(err, AppError::Busy { retry_after: 1 });
        assert_eq!(err.retry_after(), Some(1));
    }

    #[test]
    fn dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
