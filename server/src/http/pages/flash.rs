//! What a page reloaded after a form post without JavaScript must still show
//! (a test report, the typed values, a new secret): kept in the session and
//! read once.

use crate::crypto::SecretBox;
use crate::services::undecryptable;
use app::error::AppError;
use app::model::{DestinationFlash, NewApiKey};
use tower_sessions::Session;

const DESTINATION_KEY: &str = "flash.destination";
/// The flash may hold secrets typed into the form: it is sealed like they are.
const DESTINATION_PURPOSE: &str = "session.flash";
/// A key created by a form post without JavaScript waits here for the reload.
const API_KEY_KEY: &str = "new_api_key";

pub async fn put_destination(
    secrets: &SecretBox,
    session: &Session,
    flash: &DestinationFlash,
) -> Result<(), AppError> {
    let json = serde_json::to_string(flash).map_err(|_| AppError::Internal)?;
    let sealed = secrets
        .seal(DESTINATION_PURPOSE, &json)
        .map_err(undecryptable)?;
    session
        .insert(DESTINATION_KEY, sealed)
        .await
        .map_err(|err| {
            tracing::error!(%err, "could not store a flash");
            AppError::Internal
        })
}

pub async fn take_destination(
    secrets: &SecretBox,
    session: &Session,
) -> Result<Option<DestinationFlash>, AppError> {
    let Ok(Some(sealed)) = session.remove::<String>(DESTINATION_KEY).await else {
        return Ok(None);
    };
    let json = secrets
        .open(DESTINATION_PURPOSE, &sealed)
        .map_err(undecryptable)?;
    Ok(serde_json::from_str(&json).ok())
}

pub async fn put_api_key(session: &Session, created: &NewApiKey) {
    if let Err(err) = session.insert(API_KEY_KEY, created).await {
        tracing::warn!(%err, "could not keep the new key for the next page");
    }
}

pub async fn take_api_key(session: &Session) -> Option<NewApiKey> {
    session
        .remove::<NewApiKey>(API_KEY_KEY)
        .await
        .ok()
        .flatten()
}
