//! The application's operations. Each returns `AppError`, the error type the
//! pages and the REST API both understand; storage errors are logged here and
//! become `AppError::Unavailable` (the database is down or full) or
//! `AppError::Internal`.

//!
//! Services take plain values and return plain results: nothing here knows
//! of HTTP, sessions or pages (ARCHITECTURE.md, "services/").

pub mod accounts;
pub mod admission;
pub mod alerts;
pub mod api_keys;
pub mod audit;
pub mod auto_disable;
pub mod deliveries;
pub mod destinations;
pub mod ingest_groups;
pub mod jobs;
pub mod live;
pub mod metrics;
pub mod notifications;
pub mod passwords;
pub mod retention;
pub mod rules;
pub mod sign_in_limits;

use crate::crypto::{CryptoError, SecretBox};
use crate::delivery::engine::{Parts, Queue};
use crate::delivery::targets::Targets;
use crate::delivery::HttpSender;
use crate::store::{Db, StoreError};
use app::error::AppError;
pub use audit::Actor;
use live::LiveFeed;
use passwords::PasswordGate;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use url::Url;

/// What the services need besides the database.
pub struct Deps {
    pub secrets: SecretBox,
    pub sender: HttpSender,
    pub public_url: Url,
    pub queue: Arc<Queue>,
    /// How long history is kept (`--retention`).
    pub retention: std::time::Duration,
    /// How bulk jobs pace themselves (`--bulk-batch`, `--bulk-pause`).
    pub jobs: jobs::JobSettings,
    /// Queued deliveries past which ingest answers 429 (`--max-queued`).
    pub max_queued: i64,
}

/// Everything the request handlers and the CLI need, cheap to clone.
#[derive(Clone)]
pub struct Services {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    deps: Deps,
    targets: Targets,
    passwords: PasswordGate,
    pruned: retention::Pruned,
    live: LiveFeed,
    /// Bulk jobs: redelivered rows, and the runner's wake-up when one is started.
    jobs: jobs::JobCounters,
    job_wake: tokio::sync::Notify,
    /// Once true it stays true: users are deactivated, never deleted.
    users_exist: AtomicBool,
    admission: admission::Admission,
    ingest: ingest_groups::IngestGroups,
    /// Rules as ingest matches them, kept while the configuration generation holds.
    active_rules: crate::store::generation::Cached<Vec<rules::ActiveRule>>,
}

impl Services {
    pub fn new(db: Db, deps: Deps) -> Self {
        let admission = admission::Admission::new(deps.max_queued);
        let targets = Targets::new(deps.secrets.clone());
        Services {
            inner: Arc::new(Inner {
                targets: targets.clone(),
                passwords: PasswordGate::for_this_machine(),
                pruned: retention::Pruned::default(),
                live: LiveFeed::new(db.clone()),
                jobs: jobs::JobCounters::default(),
                job_wake: tokio::sync::Notify::new(),
                admission: admission.clone(),
                ingest: ingest_groups::IngestGroups::new(
                    db.clone(),
                    admission,
                    deps.queue.clone(),
                    targets.clone(),
                ),
                db,
                deps,
                users_exist: AtomicBool::new(false),
                active_rules: Default::default(),
            }),
        }
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn secrets(&self) -> &SecretBox {
        &self.inner.deps.secrets
    }

    pub fn sender(&self) -> &HttpSender {
        &self.inner.deps.sender
    }

    pub fn public_url(&self) -> &Url {
        &self.inner.deps.public_url
    }

    pub fn queue(&self) -> &Queue {
        &self.inner.deps.queue
    }

    pub fn targets(&self) -> &Targets {
        &self.inner.targets
    }

    pub fn passwords(&self) -> &PasswordGate {
        &self.inner.passwords
    }

    /// What live pages follow: the deliveries that change.
    pub fn live(&self) -> &LiveFeed {
        &self.inner.live
    }

    /// What the delivery engine runs on: the same database, sender and queue.
    pub fn engine_parts(&self) -> Parts {
        Parts {
            db: self.db().clone(),
            sender: self.sender().clone(),
            queue: self.inner.deps.queue.clone(),
            targets: self.inner.targets.clone(),
        }
    }

    /// Whether first-run setup is done (cached once it is).
    pub async fn users_exist(&self) -> Result<bool, AppError> {
        if self.inner.users_exist.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let exist = crate::store::users::any_exist(self.db())
            .await
            .map_err(internal)?;
        if exist {
            self.inner.users_exist.store(true, Ordering::Relaxed);
        }
        Ok(exist)
    }
}

/// The cursor of the page after `rows`: the last id when the page is full.
pub(crate) fn next_cursor<T>(rows: &[T], limit: i64, id: impl Fn(&T) -> i64) -> Option<i64> {
    (rows.len() as i64 == limit)
        .then(|| rows.last().map(id))
        .flatten()
}

/// How long a caller is asked to wait when the database is unavailable.
pub const UNAVAILABLE_RETRY_AFTER: u64 = 5;

/// Logs a storage failure and hides its details from the caller: a database
/// that cannot be reached or cannot write just now is `Unavailable` (the
/// edge answers 503 with `Retry-After`), anything else `Internal`.
pub fn internal(err: StoreError) -> AppError {
    internal_ref(&err)
}

/// `internal` for an error shared by several callers (a group commit's).
pub fn internal_ref(err: &StoreError) -> AppError {
    if err.is_unavailable() {
        tracing::warn!(error = %err, "database unavailable");
        return AppError::Unavailable {
            retry_after: UNAVAILABLE_RETRY_AFTER,
        };
    }
    tracing::error!(error = %err, "storage failure");
    AppError::Internal
}

/// Logs a secret that would not open and hides the details.
pub fn undecryptable(err: CryptoError) -> AppError {
    tracing::error!(error = %err, "stored secret unreadable");
    AppError::Internal
}
