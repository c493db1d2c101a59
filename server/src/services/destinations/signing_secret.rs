//! A destination's signing secret: revealed after the password is re-entered,
//! rotated with a grace period during which both secrets sign.

use super::{not_found, Services};
use crate::clock::now_ms;
use crate::delivery::signer::generate_secret;
use crate::delivery::targets::SIGNING_PURPOSE;
use crate::services::audit::{object, unsaved, Actor};
use crate::services::{internal, undecryptable};
use crate::store::destinations as rows;
use crate::store::users;
use app::domain::{AuditAction, ObjectKind};
use app::error::AppError;
use app::model::DestinationWithSecret;
use std::time::Duration;

pub const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 3600);
/// The longest the previous secret may go on signing: past it a rotation
/// would not retire a leaked secret, and a huge value overflowed the expiry.
pub const MAX_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

/// The error for a grace period out of range, on every path that takes one.
pub fn grace_out_of_range() -> AppError {
    AppError::invalid(
        "grace_seconds",
        format!(
            "grace_seconds must be a whole number of seconds from 0 to {} (7 days)",
            MAX_GRACE.as_secs()
        ),
    )
}

impl Services {
    /// The signing secret, for an editor or admin (a signed-in user) who
    /// re-entered their password.
    pub async fn reveal_signing_secret(
        &self,
        actor: &Actor,
        id: i64,
        password: &str,
    ) -> Result<String, AppError> {
        let user_id = actor.user_id().ok_or(AppError::Forbidden)?;
        let user = users::by_id(self.db(), user_id)
            .await
            .map_err(internal)?
            .ok_or(AppError::Unauthenticated)?;
        if !self.reenter(actor, &user, password).await? {
            return Err(AppError::invalid(
                "password",
                "Your password is not correct",
            ));
        }
        let row = self.row(id).await?;
        let secret = self
            .secrets()
            .open(SIGNING_PURPOSE, &row.signing_secret)
            .map_err(undecryptable)?;
        // Recorded before the secret is handed out: no reveal goes unrecorded.
        self.record_audit(
            actor,
            AuditAction::RevealSecret,
            object(ObjectKind::Destination, id, &row.name),
        )
        .await?;
        tracing::info!(destination_id = id, user_id, "signing secret revealed");
        Ok(secret)
    }

    /// A new signing secret; the old one still signs `webhook-signature` for
    /// `grace`, at most `MAX_GRACE`.
    pub async fn rotate_signing_secret(
        &self,
        actor: &Actor,
        id: i64,
        grace: Duration,
    ) -> Result<DestinationWithSecret, AppError> {
        if grace > MAX_GRACE {
            return Err(grace_out_of_range());
        }
        let row = self.row(id).await?;
        let secret = generate_secret();
        let sealed = self
            .secrets()
            .seal(SIGNING_PURPOSE, &secret)
            .map_err(undecryptable)?;
        let expires = now_ms().saturating_add(i64::try_from(grace.as_millis()).unwrap_or(i64::MAX));
        let audit = actor.entry(
            AuditAction::RotateSecret,
            unsaved(ObjectKind::Destination, &row.name),
        );
        if !rows::rotate_secret(self.db(), id, &sealed, &row.signing_secret, expires, &audit)
            .await
            .map_err(internal)?
        {
            return Err(not_found());
        }
        tracing::info!(destination_id = id, "signing secret rotated");
        Ok(DestinationWithSecret {
            destination: self.destination(id).await?,
            signing_secret: secret,
        })
    }
}
