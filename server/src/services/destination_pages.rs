//! The destination pages' side of the service: the Configure form's two
//! buttons, and what a page reloaded without JavaScript must still show.

use super::{undecryptable, Services};
use app::backend::DestinationSubmission;
use app::error::AppError;
use app::model::{
    CurrentUser, DestinationFlash, DestinationOutcome, DestinationPageData, DestinationWithSecret,
};
use tower_sessions::Session;

const FLASH_KEY: &str = "flash.destination";
/// The flash may hold secrets typed into the form: it is sealed like they are.
const FLASH_PURPOSE: &str = "session.flash";

impl Services {
    pub async fn destination_page(
        &self,
        session: &Session,
        id: Option<i64>,
    ) -> Result<DestinationPageData, AppError> {
        let destination = match id {
            Some(id) => Some(self.destination(id).await?),
            None => None,
        };
        let flash = self
            .take_flash(session)
            .await?
            .filter(|f| f.destination_id == id);
        Ok(DestinationPageData { destination, flash })
    }

    pub async fn submit_destination(
        &self,
        request: DestinationSubmission<'_>,
    ) -> Result<DestinationOutcome, AppError> {
        let DestinationSubmission {
            session,
            plain_form,
            id,
            form,
            intent,
        } = request;
        let result = match (intent, id) {
            ("test", _) => self
                .test_destination(&form, id)
                .await
                .map(DestinationOutcome::Tested),
            ("save", None) => self
                .create_destination(&form)
                .await
                .map(DestinationOutcome::Created),
            ("save", Some(id)) => self
                .update_destination(id, &form)
                .await
                .map(DestinationOutcome::Updated),
            _ => Err(AppError::invalid(
                "intent",
                "Choose Send Test Alert or Save",
            )),
        };
        let mut flash = DestinationFlash {
            destination_id: id,
            ..DestinationFlash::default()
        };
        match &result {
            // Shown once on the new destination's page, with or without JavaScript.
            Ok(DestinationOutcome::Created(created)) => {
                flash.destination_id = Some(created.destination.id);
                flash.signing_secret = Some(created.signing_secret.clone());
                flash.notice = Some("Destination saved.".into());
            }
            Ok(DestinationOutcome::Tested(report)) if plain_form => {
                flash.form = Some(form);
                flash.report = Some(report.clone());
            }
            Ok(DestinationOutcome::Updated(_)) if plain_form => {
                flash.notice = Some("Changes saved.".into())
            }
            Err(AppError::Invalid(_)) if plain_form => flash.form = Some(form),
            _ => return result,
        }
        self.put_flash(session, &flash).await?;
        result
    }

    pub async fn reveal_secret_for_page(
        &self,
        session: &Session,
        plain_form: bool,
        actor: &CurrentUser,
        id: i64,
        password: &str,
    ) -> Result<String, AppError> {
        let secret = self.reveal_signing_secret(actor, id, password).await?;
        if plain_form {
            let flash = DestinationFlash {
                destination_id: Some(id),
                signing_secret: Some(secret.clone()),
                ..DestinationFlash::default()
            };
            self.put_flash(session, &flash).await?;
        }
        Ok(secret)
    }

    pub async fn rotate_secret_for_page(
        &self,
        session: &Session,
        plain_form: bool,
        id: i64,
    ) -> Result<DestinationWithSecret, AppError> {
        let rotated = self
            .rotate_signing_secret(id, super::destinations::DEFAULT_GRACE)
            .await?;
        if plain_form {
            let flash = DestinationFlash {
                destination_id: Some(id),
                signing_secret: Some(rotated.signing_secret.clone()),
                notice: Some("New signing secret created.".into()),
                ..DestinationFlash::default()
            };
            self.put_flash(session, &flash).await?;
        }
        Ok(rotated)
    }

    async fn put_flash(&self, session: &Session, flash: &DestinationFlash) -> Result<(), AppError> {
        let json = serde_json::to_string(flash).map_err(|_| AppError::Internal)?;
        let sealed = self
            .secrets()
            .seal(FLASH_PURPOSE, &json)
            .map_err(undecryptable)?;
        session.insert(FLASH_KEY, sealed).await.map_err(|err| {
            tracing::error!(%err, "could not store a flash");
            AppError::Internal
        })
    }

    async fn take_flash(&self, session: &Session) -> Result<Option<DestinationFlash>, AppError> {
        let Ok(Some(sealed)) = session.remove::<String>(FLASH_KEY).await else {
            return Ok(None);
        };
        let json = self
            .secrets()
            .open(FLASH_PURPOSE, &sealed)
            .map_err(undecryptable)?;
        Ok(serde_json::from_str(&json).ok())
    }
}
