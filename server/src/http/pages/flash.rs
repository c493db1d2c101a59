//! What a page reloaded after a form post without JavaScript must still show
//! (a test report, the typed values, a new secret or key): kept in the session
//! and read once.

use crate::crypto::SecretBox;
use crate::services::undecryptable;
use app::error::AppError;
use app::model::{DestinationFlash, NewApiKey};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tower_sessions::Session;

const DESTINATION_KEY: &str = "flash.destination";
/// A key created by a form post without JavaScript waits here for the reload.
const API_KEY_KEY: &str = "flash.new_api_key";
/// Flashes hold secrets (typed into a form, or a new key): sealed like them,
/// so the session table never holds one in clear.
const FLASH_PURPOSE: &str = "session.flash";

pub async fn put_destination(
    secrets: &SecretBox,
    session: &Session,
    flash: &DestinationFlash,
) -> Result<(), AppError> {
    put(secrets, session, DESTINATION_KEY, flash).await
}

pub async fn take_destination(
    secrets: &SecretBox,
    session: &Session,
) -> Result<Option<DestinationFlash>, AppError> {
    take(secrets, session, DESTINATION_KEY).await
}

pub async fn put_api_key(
    secrets: &SecretBox,
    session: &Session,
    created: &NewApiKey,
) -> Result<(), AppError> {
    put(secrets, session, API_KEY_KEY, created).await
}

pub async fn take_api_key(
    secrets: &SecretBox,
    session: &Session,
) -> Result<Option<NewApiKey>, AppError> {
    take(secrets, session, API_KEY_KEY).await
}

async fn put<T: Serialize>(
    secrets: &SecretBox,
    session: &Session,
    key: &str,
    flash: &T,
) -> Result<(), AppError> {
    let json = serde_json::to_string(flash).map_err(|_| AppError::Internal)?;
    let sealed = secrets.seal(FLASH_PURPOSE, &json).map_err(undecryptable)?;
    session.insert(key, sealed).await.map_err(|err| {
        tracing::error!(%err, "could not store a flash");
        AppError::Internal
    })
}

async fn take<T: DeserializeOwned>(
    secrets: &SecretBox,
    session: &Session,
    key: &str,
) -> Result<Option<T>, AppError> {
    // Looked up first: `remove` marks the session changed even when the key
    // is absent, and a changed session is written back, which made every
    // view of these pages a database write.
    if !matches!(session.get::<String>(key).await, Ok(Some(_))) {
        return Ok(None);
    }
    let Ok(Some(sealed)) = session.remove::<String>(key).await else {
        return Ok(None);
    };
    let json = secrets
        .open(FLASH_PURPOSE, &sealed)
        .map_err(undecryptable)?;
    Ok(serde_json::from_str(&json).ok())
}
