//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of this API,
//! generated from the handlers' `#[utoipa::path]` annotations and the types
//! they take and answer. The router is built from the same annotations
//! (`utoipa_axum::routes!`), so every route served is described.
//!
//! Answers whose JSON is shaped at the edge (a destination's `auth` object,
//! RFC 3339 times) are described by the `*Doc` types here.

use app::model::{DisabledReason, HeaderRow, LastResult};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::Arc;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Alertwire API",
        description = "Signed, retried webhooks for data-quality alerts. Every route takes \
            `Authorization: Bearer <api key>`; the security scopes name the key roles a route \
            accepts. Failures answer `{\"error\": {code, message, field?}}`; times are RFC 3339 \
            UTC strings; lists answer `{items, next_cursor}` and take `?cursor=&limit=`."
    ),
    servers((url = "/api/v1")),
    modifiers(&BearerKeys),
    components(schemas(ErrorBody, ErrorDetail))
)]
pub struct ApiDoc;

struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Every failure's body.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `invalid`, `invalid_json`, `invalid_body`, `too_large`, `unauthorized`, `forbidden`,
    /// `not_found`, `method_not_allowed`, `conflict`, `locked_out`, `busy`, `internal`, ...
    pub code: String,
    pub message: String,
    /// The input field at fault, for `invalid`.
    pub field: Option<String>,
}

/// The refusals every route can answer, with the error shape.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // Only described, never built: the handlers answer through `ApiError`.
pub enum Refusals {
    #[response(status = 400, description = "Bad input")]
    BadInput(ErrorBody),
    #[response(status = 401, description = "No or unknown key")]
    NoKey(ErrorBody),
    #[response(status = 403, description = "The key's role does not allow it")]
    Forbidden(ErrorBody),
}

/// A list page.
#[derive(Serialize, ToSchema)]
pub struct PageDoc<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass back as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// `{type: none} | {type: bearer} | {type: api_key, header}`: secrets are never returned.
#[derive(Serialize, ToSchema)]
pub struct AuthDoc {
    /// `none`, `bearer` or `api_key`.
    #[serde(rename = "type")]
    pub kind: String,
    pub header: Option<String>,
}

/// A destination as the API answers it.
#[derive(Serialize, ToSchema)]
pub struct DestinationDoc {
    pub id: i64,
    pub name: String,
    /// `webhook`.
    pub kind: String,
    pub url: String,
    pub host: String,
    pub auth: AuthDoc,
    /// A secret header has no `value`.
    pub headers: Vec<HeaderRow>,
    pub enabled: bool,
    /// `manual` or `auto` (every delivery failed for `ALERTWIRE_AUTO_DISABLE_AFTER`);
    /// `null` while enabled.
    pub disabled_reason: Option<DisabledReason>,
    /// When it was disabled; `null` while enabled.
    #[schema(format = DateTime)]
    pub disabled_at: Option<String>,
    pub last_result: Option<LastResult>,
    /// The Destinations list's badge: `healthy`, `failing`, `disabled`, or
    /// `no_traffic` (no delivery attempt in 7 days).
    pub health: app::model::HealthBadge,
    #[schema(format = DateTime)]
    pub previous_secret_expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A destination just created, or whose secret was rotated.
#[derive(Serialize, ToSchema)]
pub struct DestinationWithSecretDoc {
    pub destination: DestinationDoc,
    /// `whsec_…`: shown only here.
    pub signing_secret: String,
}

pub async fn document(doc: Arc<String>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.as_str().to_owned(),
    )
        .into_response()
}
