//! Browser sessions, kept in the application database so that every server
//! process on one Postgres shares them, and what a session holds: the id of
//! the signed-in user.

use crate::services::accounts::SignedIn;
use crate::services::Services;
use crate::store::Db;
use app::error::AppError;
use app::model::CurrentUser;
use async_trait::async_trait;
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// Sessions end after this long without a request.
pub const IDLE_EXPIRY: time::Duration = time::Duration::hours(12);
pub const COOKIE_NAME: &str = "alertwire_session";

/// The session entry that marks a signed-in user.
const USER_KEY: &str = "user_id";
/// The user's session epoch at sign-in; a session from another epoch has been ended.
const EPOCH_KEY: &str = "session_epoch";
/// When the session's expiry was last pushed back (unix seconds).
const TOUCHED_KEY: &str = "touched_at";
/// A session is written back (its idle expiry renewed) at most this often:
/// a page view is otherwise a read, which matters under load on SQLite.
const TOUCH_EVERY_SECS: i64 = 600;

/// Signs a user in under a fresh session id (no session fixation).
pub async fn sign_in(session: &Session, signed_in: SignedIn) -> Result<(), AppError> {
    let result = async {
        session.cycle_id().await?;
        session.insert(USER_KEY, signed_in.user_id).await?;
        session.insert(TOUCHED_KEY, unix_now()).await?;
        session.insert(EPOCH_KEY, signed_in.session_epoch).await
    };
    result.await.map_err(|err| {
        tracing::error!(%err, "could not start a session");
        AppError::Internal
    })
}

/// Ends the session and deletes its record.
pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(|err| {
        tracing::error!(%err, "could not delete a session");
        AppError::Internal
    })
}

/// The id of the user signed in on this session, if any.
pub async fn user_id(session: &Session) -> Option<i64> {
    match session.get::<i64>(USER_KEY).await {
        Ok(id) => id,
        Err(err) => {
            tracing::warn!(%err, "unreadable session");
            None
        }
    }
}

/// The active user signed in on this session. A session of a deactivated
/// user, or one from before the user's password or role changed, is ended.
pub async fn current_user(
    services: &Services,
    session: &Session,
) -> Result<Option<CurrentUser>, AppError> {
    let Some(id) = user_id(session).await else {
        return Ok(None);
    };
    // Sessions from before epochs existed carry none: epoch 0, the column's default.
    let epoch = session
        .get::<i64>(EPOCH_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or(0);
    match services.active_user(id).await? {
        Some(active) if active.session_epoch == epoch => {
            touch(session).await;
            Ok(Some(active.user))
        }
        _ => {
            sign_out(session).await?;
            Ok(None)
        }
    }
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Whether a session last renewed at `touched` is due another renewal.
fn due_for_touch(touched: Option<i64>, now: i64) -> bool {
    touched.is_none_or(|at| now - at >= TOUCH_EVERY_SECS || at > now)
}

/// Renews the idle expiry of an active session, at most every ten minutes:
/// changing the session makes the layer write it back with a new expiry.
async fn touch(session: &Session) {
    let now = unix_now();
    let touched = session.get::<i64>(TOUCHED_KEY).await.ok().flatten();
    if due_for_touch(touched, now) {
        if let Err(err) = session.insert(TOUCHED_KEY, now).await {
            tracing::warn!(%err, "could not renew a session");
        }
    }
}

/// The session store for whichever engine the application uses.
#[derive(Debug, Clone)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl AnyStore {
    pub async fn open(db: &Db) -> Result<Self, sqlx::Error> {
        let store = match db {
            Db::Sqlite(pool, _) => AnyStore::Sqlite(SqliteStore::new(pool.clone())),
            Db::Postgres(pool) => AnyStore::Postgres(PostgresStore::new(pool.clone())),
        };
        match &store {
            AnyStore::Sqlite(s) => s.migrate().await?,
            AnyStore::Postgres(s) => s.migrate().await?,
        }
        Ok(store)
    }

    /// Cookies get `Secure` when people reach the app over HTTPS.
    pub fn layer(&self, secure: bool) -> SessionManagerLayer<AnyStore> {
        SessionManagerLayer::new(self.clone())
            .with_name(COOKIE_NAME)
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(secure)
            .with_expiry(Expiry::OnInactivity(IDLE_EXPIRY))
    }

    /// Deletes expired sessions every ten minutes, for as long as the process
    /// runs. A failed round (the database down or its disk full) is logged
    /// and the next one tried as usual: an outage must not end the cleanup.
    pub fn spawn_cleanup(&self) {
        let store = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let result = match &store {
                    AnyStore::Sqlite(s) => s.delete_expired().await,
                    AnyStore::Postgres(s) => s.delete_expired().await,
                };
                if let Err(err) = result {
                    tracing::warn!(%err, "expired-session cleanup failed; trying again in 10 min");
                }
            }
        });
    }
}

#[async_trait]
impl SessionStore for AnyStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            AnyStore::Sqlite(s) => s.create(record).await,
            AnyStore::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            AnyStore::Sqlite(s) => s.save(record).await,
            AnyStore::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            AnyStore::Sqlite(s) => s.load(id).await,
            AnyStore::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            AnyStore::Sqlite(s) => s.delete(id).await,
            AnyStore::Postgres(s) => s.delete(id).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_renewed_at_most_every_ten_minutes() {
        let now = 1_800_000_000;
        assert!(due_for_touch(None, now));
        assert!(!due_for_touch(Some(now), now));
        assert!(!due_for_touch(Some(now - TOUCH_EVERY_SECS + 1), now));
        assert!(due_for_touch(Some(now - TOUCH_EVERY_SECS), now));
        // A clock that went back: renew rather than wait for it.
        assert!(due_for_touch(Some(now + 60), now));
    }
}
