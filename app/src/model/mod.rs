//! Read models shared by the server and the page.

use crate::domain::{KeyRole, Role};
use serde::{Deserialize, Serialize};

/// The signed-in user, as the server resolved it for this request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub email: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub active: bool,
    /// Unix milliseconds.
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiKeyView {
    pub id: i64,
    pub name: String,
    /// The first characters of the key, enough to recognise it.
    pub prefix: String,
    pub role: KeyRole,
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = DateTime))]
    pub created_at: i64,
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub last_used_at: Option<i64>,
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = DateTime))]
    pub revoked_at: Option<i64>,
}

/// A freshly created key: the only time the secret is ever shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKey {
    pub key: ApiKeyView,
    pub secret: String,
}

/// What the API keys page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeysPage {
    pub keys: Vec<ApiKeyView>,
    /// A key created by a form post without JavaScript, shown once after the reload.
    pub just_created: Option<NewApiKey>,
}

mod destinations;
pub use destinations::*;

mod alerts;
pub use alerts::*;

mod audit;
pub use audit::*;

mod health;
pub use health::*;

mod jobs;
pub use jobs::*;
