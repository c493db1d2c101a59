//! Webhook destinations: create, edit, test, enable, delete, reveal and rotate secrets.

use super::{internal, passwords, undecryptable, Services};
use crate::delivery::payload::{random_id, test_alert};
use crate::delivery::request::{build, masked, Signed};
use crate::delivery::resolver::{lookup, ResolveError};
use crate::delivery::signer::generate_secret;
use crate::delivery::troubleshooting::explain;
use crate::domain::destination::{parse, Auth, KeptSecrets, ValidDestination};
use crate::domain::header::HeaderName;
use crate::store::destinations::{self as rows, DestinationFields, DestinationRow};
use crate::store::StoreError;
use crate::store::{now_ms, users};
use app::error::{AppError, FormErrors};
use app::model::{
    AuthKind, CurrentUser, DestinationForm, DestinationList, DestinationView,
    DestinationWithSecret, HeaderRow, LastResult, TestReport, DESTINATIONS_PER_PAGE,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Purposes bound into sealed values (see `crypto`).
const AUTH_PURPOSE: &str = "destination.auth";
const SIGNING_PURPOSE: &str = "destination.signing";
/// How much of a response body Send Test Alert shows.
const TEST_BODY_BYTES: usize = 2048;
/// How long checking a host name at save time may take.
const SAVE_LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);
pub const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 3600);

/// A destination ready for the engine: where, how to authenticate, and the live signing secrets.
#[derive(Debug)]
pub struct Target {
    pub url: url::Url,
    pub auth: Auth,
    pub headers: Vec<(HeaderName, String)>,
    pub secrets: Vec<String>,
}

fn not_found() -> AppError {
    AppError::NotFound("No such destination".into())
}

fn view(row: &DestinationRow) -> DestinationView {
    let headers: Vec<HeaderRow> = serde_json::from_str(&row.headers).unwrap_or_default();
    let host = url::Url::parse(&row.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let now = now_ms();
    DestinationView {
        id: row.id,
        name: row.name.clone(),
        kind: row.kind.clone(),
        url: row.url.clone(),
        host,
        auth: AuthKind::parse(&row.auth_type).unwrap_or(AuthKind::None),
        api_key_header: row.auth_header.clone(),
        headers,
        enabled: row.enabled,
        last_result: match (
            row.last_result_ok,
            &row.last_result_summary,
            row.last_result_at,
        ) {
            (Some(ok), Some(summary), Some(at)) => Some(LastResult {
                ok,
                summary: summary.clone(),
                at,
            }),
            _ => None,
        },
        previous_secret_expires_at: row.previous_secret_expires_at.filter(|at| *at > now),
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

impl Services {
    pub async fn list_destinations(&self) -> Result<Vec<DestinationView>, AppError> {
        Ok(rows::list(self.db())
            .await
            .map_err(internal)?
            .iter()
            .map(view)
            .collect())
    }

    /// Page `page` (1-based) of the destinations, by name.
    pub async fn destination_list(&self, page: i64) -> Result<DestinationList, AppError> {
        let page = page.max(1);
        let per_page = DESTINATIONS_PER_PAGE;
        let (rows, total) = rows::page(self.db(), per_page, (page - 1).saturating_mul(per_page))
            .await
            .map_err(internal)?;
        Ok(DestinationList {
            items: rows.iter().map(view).collect(),
            total,
            page,
            per_page,
        })
    }

    pub async fn destination(&self, id: i64) -> Result<DestinationView, AppError> {
        Ok(view(&self.row(id).await?))
    }

    async fn row(&self, id: i64) -> Result<DestinationRow, AppError> {
        rows::get(self.db(), id)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)
    }

    pub async fn create_destination(
        &self,
        form: &DestinationForm,
    ) -> Result<DestinationWithSecret, AppError> {
        let valid = self.validate(form, &KeptSecrets::default()).await?;
        let fields = self.fields(&valid)?;
        let secret = generate_secret();
        let sealed = self
            .secrets()
            .seal(SIGNING_PURPOSE, &secret)
            .map_err(undecryptable)?;
        let row = match rows::insert(self.db(), &fields, &sealed).await {
            Ok(row) => row,
            Err(err) if err.is_unique_violation() => return Err(duplicate_name()),
            Err(err) => return Err(internal(err)),
        };
        tracing::info!(destination_id = row.id, "destination created");
        Ok(DestinationWithSecret {
            destination: view(&row),
            signing_secret: secret,
        })
    }

    pub async fn update_destination(
        &self,
        id: i64,
        form: &DestinationForm,
    ) -> Result<DestinationView, AppError> {
        let row = self.row(id).await?;
        let valid = self.validate(form, &self.kept_secrets(&row)?).await?;
        let fields = self.fields(&valid)?;
        match rows::update(self.db(), id, &fields).await {
            Ok(Some(row)) => Ok(view(&row)),
            Ok(None) => Err(not_found()),
            Err(err) if err.is_unique_violation() => Err(duplicate_name()),
            Err(err) => Err(internal(err)),
        }
    }

    pub async fn set_destination_enabled(
        &self,
        id: i64,
        enabled: bool,
    ) -> Result<DestinationView, AppError> {
        if !rows::set_enabled(self.db(), id, enabled)
            .await
            .map_err(internal)?
        {
            return Err(not_found());
        }
        if enabled {
            // Its queued deliveries resume; other processes poll or hear a NOTIFY.
            self.queue().wake.notify_one();
            crate::store::deliveries::pg_notify(self.db())
                .await
                .map_err(internal)?;
        }
        self.destination(id).await
    }

    pub async fn delete_destination(&self, id: i64) -> Result<(), AppError> {
        if !rows::soft_delete(self.db(), id).await.map_err(internal)? {
            return Err(not_found());
        }
        crate::store::deliveries::fail_pending_for(self.db(), id, "The destination was deleted")
            .await
            .map_err(internal)?;
        tracing::info!(destination_id = id, "destination deleted");
        Ok(())
    }

    /// The signing secret, for an editor or admin who re-entered their password.
    pub async fn reveal_signing_secret(
        &self,
        actor: &CurrentUser,
        id: i64,
        password: &str,
    ) -> Result<String, AppError> {
        let user = users::by_id(self.db(), actor.id)
            .await
            .map_err(internal)?
            .ok_or(AppError::Unauthenticated)?;
        if !passwords::verify(password.to_owned(), Some(user.password_hash)).await? {
            return Err(AppError::invalid(
                "password",
                "Your password is not correct",
            ));
        }
        let row = self.row(id).await?;
        tracing::info!(
            destination_id = id,
            user_id = actor.id,
            "signing secret revealed"
        );
        self.secrets()
            .open(SIGNING_PURPOSE, &row.signing_secret)
            .map_err(undecryptable)
    }

    /// A new signing secret; the old one still signs `webhook-signature` for `grace`.
    pub async fn rotate_signing_secret(
        &self,
        id: i64,
        grace: Duration,
    ) -> Result<DestinationWithSecret, AppError> {
        let row = self.row(id).await?;
        let secret = generate_secret();
        let sealed = self
            .secrets()
            .seal(SIGNING_PURPOSE, &secret)
            .map_err(undecryptable)?;
        let expires = now_ms() + i64::try_from(grace.as_millis()).unwrap_or(i64::MAX / 2);
        if !rows::rotate_secret(self.db(), id, &sealed, &row.signing_secret, expires)
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

    /// Sends a test alert with the values on the form, saved or not, through
    /// the same signer and client as real deliveries.
    pub async fn test_destination(
        &self,
        form: &DestinationForm,
        existing: Option<i64>,
    ) -> Result<TestReport, AppError> {
        let (valid, secrets) = match existing {
            Some(id) => {
                let row = self.row(id).await?;
                let valid = parse(form, self.sender().allowed(), &self.kept_secrets(&row)?)
                    .map_err(AppError::Invalid)?;
                (valid, self.live_secrets(&row)?)
            }
            // Not saved yet: no secret of its own, so the test is signed with a throwaway one.
            None => (
                parse(form, self.sender().allowed(), &KeptSecrets::default())
                    .map_err(AppError::Invalid)?,
                vec![generate_secret()],
            ),
        };
        let report = self.send_test(&valid, &secrets).await?;
        if let Some(id) = existing {
            let summary = report
                .status
                .clone()
                .or_else(|| report.failure.as_ref().map(|f| f.title.clone()))
                .unwrap_or_default();
            rows::record_result(self.db(), id, report.ok, &summary, now_ms())
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
            msg_id: &random_id("msg"),
            timestamp: now_ms() / 1000,
            body,
        });
        let shown_headers = masked(&request, &valid.auth);
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
            failure: explain(&attempt),
        })
    }

    /// Parses the form and, for a host name, checks where it resolves now.
    async fn validate(
        &self,
        form: &DestinationForm,
        kept: &KeptSecrets,
    ) -> Result<ValidDestination, AppError> {
        let valid = parse(form, self.sender().allowed(), kept).map_err(AppError::Invalid)?;
        if let Some(host) = valid.url.dns_name() {
            let found =
                tokio::time::timeout(SAVE_LOOKUP_TIMEOUT, lookup(host, self.sender().allowed()))
                    .await;
            // A name that does not resolve yet may be published later; deliveries report it.
            if let Ok(Err(ResolveError::Blocked(blocked))) = found {
                return Err(AppError::invalid(
                    "url",
                    format!("{host} resolves to {blocked}"),
                ));
            }
        }
        Ok(valid)
    }

    fn fields(&self, valid: &ValidDestination) -> Result<DestinationFields, AppError> {
        let (auth_header, secret) = match &valid.auth {
            Auth::None => (None, None),
            Auth::Bearer(token) => (None, Some(token.as_str())),
            Auth::ApiKey { header, key } => (Some(header.as_str().to_owned()), Some(key.as_str())),
        };
        let auth_secret = secret
            .map(|s| self.secrets().seal(AUTH_PURPOSE, s))
            .transpose()
            .map_err(undecryptable)?;
        let headers: Vec<HeaderRow> = valid
            .headers
            .iter()
            .map(|(n, v)| HeaderRow {
                name: n.as_str().to_owned(),
                value: v.clone(),
            })
            .collect();
        Ok(DestinationFields {
            name: valid.name.clone(),
            url: valid.url.as_str().to_owned(),
            auth_type: valid.auth.kind().as_str().to_owned(),
            auth_header,
            auth_secret,
            headers: serde_json::to_string(&headers).map_err(|_| AppError::Internal)?,
        })
    }

    fn kept_secrets(&self, row: &DestinationRow) -> Result<KeptSecrets, AppError> {
        let secret = row
            .auth_secret
            .as_deref()
            .map(|s| self.secrets().open(AUTH_PURPOSE, s))
            .transpose()
            .map_err(undecryptable)?;
        Ok(match row.auth_type.as_str() {
            "bearer" => KeptSecrets {
                bearer_token: secret,
                api_key: None,
            },
            "api_key" => KeptSecrets {
                bearer_token: None,
                api_key: secret,
            },
            _ => KeptSecrets::default(),
        })
    }

    /// The engine's view of the given destinations; one whose secrets do not
    /// open maps to the reason, so its deliveries fail instead of looping.
    pub async fn delivery_targets(
        &self,
        ids: &[i64],
    ) -> Result<HashMap<i64, Result<Arc<Target>, String>>, StoreError> {
        let rows = rows::by_ids(self.db(), ids).await?;
        Ok(rows
            .iter()
            .map(|row| {
                let target = self.target(row).map(Arc::new).map_err(|_| {
                    "The destination's secrets cannot be opened with this secret key".to_owned()
                });
                (row.id, target)
            })
            .collect())
    }

    fn target(&self, row: &DestinationRow) -> Result<Target, AppError> {
        let kept = self.kept_secrets(row)?;
        let auth = match (row.auth_type.as_str(), kept) {
            ("bearer", k) => Auth::Bearer(k.bearer_token.unwrap_or_default()),
            ("api_key", k) => Auth::ApiKey {
                header: HeaderName::parse(row.auth_header.as_deref().unwrap_or("X-API-Key"))
                    .map_err(|_| AppError::Internal)?,
                key: k.api_key.unwrap_or_default(),
            },
            _ => Auth::None,
        };
        let rows_headers: Vec<HeaderRow> = serde_json::from_str(&row.headers).unwrap_or_default();
        let headers = rows_headers
            .into_iter()
            .filter_map(|h| HeaderName::parse(&h.name).ok().map(|n| (n, h.value)))
            .collect();
        Ok(Target {
            url: url::Url::parse(&row.url).map_err(|_| AppError::Internal)?,
            auth,
            headers,
            secrets: self.live_secrets(row)?,
        })
    }

    /// The current signing secret, and the previous one while its grace period lasts.
    pub(crate) fn live_secrets(&self, row: &DestinationRow) -> Result<Vec<String>, AppError> {
        let mut secrets = vec![self
            .secrets()
            .open(SIGNING_PURPOSE, &row.signing_secret)
            .map_err(undecryptable)?];
        if let (Some(previous), Some(until)) =
            (&row.previous_secret, row.previous_secret_expires_at)
        {
            if until > now_ms() {
                secrets.push(
                    self.secrets()
                        .open(SIGNING_PURPOSE, previous)
                        .map_err(undecryptable)?,
                );
            }
        }
        Ok(secrets)
    }
}

fn duplicate_name() -> AppError {
    let mut errors = FormErrors::default();
    errors.add("name", "A destination with this name already exists");
    AppError::Invalid(errors)
}
