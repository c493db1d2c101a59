//! Send Test Alert: a test alert with the values on the form, saved or not,
//! through the same signer and client as real deliveries.

use super::Services;
use crate::clock::now_ms;
use crate::delivery::payload::test_alert;
use crate::delivery::request::{build, masked, Signed};
use crate::delivery::signer::generate_secret;
use crate::delivery::troubleshooting::explain;
use crate::domain::destination::{parse, KeptSecrets, ValidDestination};
use crate::ids::new_id;
use crate::services::audit::{object, unsaved, Actor};
use crate::services::internal;
use crate::store::health::{self, TestAttemptRow};
use app::domain::{AuditAction, ObjectKind};
use app::error::AppError;
use app::model::{DestinationForm, TestReport};

/// How much of a response body Send Test Alert shows.
const TEST_BODY_BYTES: usize = 2048;

impl Services {
    /// Sends a test alert with the values on the form, saved or not, through
    /// the same signer and client as real deliveries.
    pub async fn test_destination(
        &self,
        actor: &Actor,
        form: &DestinationForm,
        existing: Option<i64>,
    ) -> Result<TestReport, AppError> {
        let (valid, secrets, tested) = match existing {
            Some(id) => {
                let row = self.row(id).await?;
                let valid = parse(form, self.sender().allowed(), &self.kept_for(&row, form)?)
                    .map_err(AppError::Invalid)?;
                let tested = object(ObjectKind::Destination, id, &row.name);
                (valid, self.live_secrets(&row)?, tested)
            }
            // Not saved yet: no secret of its own, so the test is signed with a throwaway one.
            None => {
                let valid = parse(form, self.sender().allowed(), &KeptSecrets::default())
                    .map_err(AppError::Invalid)?;
                let tested = unsaved(ObjectKind::Destination, &valid.name);
                (valid, vec![generate_secret()], tested)
            }
        };
        self.record_audit(actor, AuditAction::Test, tested).await?;
        let started_at = now_ms();
        let report = self.send_test(&valid, &secrets).await?;
        if let Some(id) = existing {
            // An attempt of kind test: in the destination's history, never in its deliveries.
            let row = TestAttemptRow {
                id: 0,
                destination_id: id,
                started_at,
                duration_ms: i64::try_from(report.response_ms).unwrap_or(i64::MAX),
                actor_name: Some(actor.name.clone()),
                ok: report.ok,
                response_status: report
                    .status
                    .as_deref()
                    .and_then(|line| line.split(' ').next())
                    .and_then(|code| code.parse().ok()),
                error_kind: report.failure.as_ref().map(|f| f.kind.clone()),
                error_message: report.failure.as_ref().map(|f| f.detail.clone()),
                summary: report
                    .status
                    .clone()
                    .or_else(|| report.failure.as_ref().map(|f| f.title.clone()))
                    .unwrap_or_default(),
            };
            health::record_test(self.db(), &row)
                .await
                .map_err(internal)?;
        }
        Ok(report)
    }

    async fn send_test(
        &self,
        valid: &ValidDestination,
        secrets: &[String],
    ) -> Result<TestReport, AppError> {
        let body = serde_json::to_vec(&test_alert(self.public_url(), now_ms()))
            .map_err(|_| AppError::Internal)?;
        let secret_refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let request = build(Signed {
            url: valid.url.as_url(),
            auth: &valid.auth,
            headers: &valid.headers,
            secrets: &secret_refs,
            msg_id: &new_id("msg"),
            timestamp: now_ms() / 1000,
            body,
        });
        let shown_headers = masked(&request, &valid.auth, &valid.headers);
        let attempt = self.sender().send(request).await;
        tracing::info!(ok = attempt.succeeded(), status = ?attempt.status, ms = attempt.duration.as_millis() as u64, "test alert sent");
        let shown = &attempt.body[..attempt.body.len().min(TEST_BODY_BYTES)];
        Ok(TestReport {
            request_line: format!("POST {}", valid.url.as_str()),
            request_headers: shown_headers,
            ok: attempt.succeeded(),
            status: attempt.status_line(),
            response_ms: u64::try_from(attempt.duration.as_millis()).unwrap_or(u64::MAX),
            response_body: String::from_utf8_lossy(shown).into_owned(),
            response_truncated: attempt.body.len() > TEST_BODY_BYTES || attempt.body_truncated,
            failure: explain(&attempt, self.sender().timeout()),
        })
    }
}
