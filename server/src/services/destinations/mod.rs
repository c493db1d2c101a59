//! Webhook destinations: create, edit, enable, delete. Send Test Alert and
//! the signing secret have files of their own.

mod health;
mod signing_secret;
mod test_alert;

pub use health::percentile;

pub use signing_secret::{grace_out_of_range, DEFAULT_GRACE, MAX_GRACE};

use super::audit::{unsaved, Actor};
use super::{internal, undecryptable, Services};
use crate::clock::now_ms;
use crate::delivery::resolver::{lookup, ResolveError};
use crate::delivery::signer::generate_secret;
use crate::delivery::targets::{seal_headers, stored_headers, AUTH_PURPOSE, SIGNING_PURPOSE};
use crate::domain::destination::{parse, Auth, KeptSecrets, ValidDestination};
use crate::store::destinations::{self as rows, DestinationFields, DestinationRow};
use app::domain::{AuditAction, ObjectKind};
use app::error::{AppError, FormErrors};
use app::model::{
    DestinationForm, DestinationList, DestinationView, DestinationWithSecret, DisabledReason,
    HeaderRow, LastResult, DESTINATIONS_PER_PAGE,
};
use std::time::Duration;

/// How long checking a host name at save time may take.
const SAVE_LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

pub(super) fn not_found() -> AppError {
    AppError::NotFound("No such destination".into())
}

pub(super) fn view(row: &DestinationRow) -> DestinationView {
    // A secret header shows its name only.
    let headers = stored_headers(row)
        .into_iter()
        .map(|h| {
            let secret = h.hidden();
            HeaderRow {
                value: if secret { String::new() } else { h.value },
                name: h.name,
                secret,
            }
        })
        .collect();
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
        auth: row.auth_type,
        api_key_header: row.auth_header.clone(),
        headers,
        enabled: row.enabled,
        disabled_reason: row
            .disabled_reason
            .as_deref()
            .and_then(DisabledReason::parse)
            .filter(|_| !row.enabled),
        disabled_at: row.disabled_at.filter(|_| !row.enabled),
        health: health::badge(row, now),
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

    /// Up to `limit` destinations after the cursor `after`, by id, and the next cursor.
    pub async fn destinations_after(
        &self,
        after: Option<i64>,
        limit: i64,
    ) -> Result<(Vec<DestinationView>, Option<i64>), AppError> {
        let rows = rows::after(self.db(), after, limit)
            .await
            .map_err(internal)?;
        let next = crate::services::next_cursor(&rows, limit, |r| r.id);
        Ok((rows.iter().map(view).collect(), next))
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

    pub(super) async fn row(&self, id: i64) -> Result<DestinationRow, AppError> {
        rows::get(self.db(), id)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)
    }

    pub async fn create_destination(
        &self,
        actor: &Actor,
        form: &DestinationForm,
    ) -> Result<DestinationWithSecret, AppError> {
        let valid = self.validate(form, &KeptSecrets::default()).await?;
        let fields = self.fields(&valid)?;
        let secret = generate_secret();
        let sealed = self
            .secrets()
            .seal(SIGNING_PURPOSE, &secret)
            .map_err(undecryptable)?;
        let audit = actor.entry(
            AuditAction::Create,
            unsaved(ObjectKind::Destination, &fields.name),
        );
        let row = match rows::insert(self.db(), &fields, &sealed, &audit).await {
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
        actor: &Actor,
        id: i64,
        form: &DestinationForm,
    ) -> Result<DestinationView, AppError> {
        let row = self.row(id).await?;
        let valid = self.validate(form, &self.kept_for(&row, form)?).await?;
        let fields = self.fields(&valid)?;
        let audit = actor.entry(
            AuditAction::Update,
            unsaved(ObjectKind::Destination, &fields.name),
        );
        match rows::update(self.db(), id, &fields, &audit).await {
            Ok(Some(row)) => Ok(view(&row)),
            Ok(None) => Err(not_found()),
            Err(err) if err.is_unique_violation() => Err(duplicate_name()),
            Err(err) => Err(internal(err)),
        }
    }

    pub async fn set_destination_enabled(
        &self,
        actor: &Actor,
        id: i64,
        enabled: bool,
    ) -> Result<DestinationView, AppError> {
        let action = if enabled {
            AuditAction::Enable
        } else {
            AuditAction::Disable
        };
        let audit = actor.entry(action, unsaved(ObjectKind::Destination, ""));
        if !rows::set_enabled(self.db(), id, enabled, &audit)
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

    pub async fn delete_destination(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        let audit = actor.entry(AuditAction::Delete, unsaved(ObjectKind::Destination, ""));
        if !rows::soft_delete(self.db(), id, &audit)
            .await
            .map_err(internal)?
        {
            return Err(not_found());
        }
        crate::store::deliveries::fail_pending_for(self.db(), id, "The destination was deleted")
            .await
            .map_err(internal)?;
        tracing::info!(destination_id = id, "destination deleted");
        Ok(())
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
        Ok(DestinationFields {
            name: valid.name.clone(),
            url: valid.url.as_str().to_owned(),
            auth_type: valid.auth.kind(),
            auth_header,
            auth_secret,
            headers: seal_headers(self.secrets(), &valid.headers).map_err(undecryptable)?,
        })
    }

    /// The stored credentials an edit may keep: none when the form's URL
    /// points at another origin than the stored one.
    pub(super) fn kept_for(
        &self,
        row: &DestinationRow,
        form: &DestinationForm,
    ) -> Result<KeptSecrets, AppError> {
        let kept = self.targets().kept_secrets(row).map_err(undecryptable)?;
        Ok(kept.for_url(&row.url, &form.url))
    }

    pub(super) fn live_secrets(&self, row: &DestinationRow) -> Result<Vec<String>, AppError> {
        self.targets().live_secrets(row).map_err(undecryptable)
    }
}

fn duplicate_name() -> AppError {
    let mut errors = FormErrors::default();
    errors.add("name", "A destination with this name already exists");
    AppError::Invalid(errors)
}
