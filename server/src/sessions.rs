//! Browser sessions, kept in the application database so that every server
//! process on one Postgres shares them.

use crate::store::Db;
use async_trait::async_trait;
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// Sessions end after this long without a request.
pub const IDLE_EXPIRY: time::Duration = time::Duration::hours(12);
pub const COOKIE_NAME: &str = "alertwire_session";

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

    /// Deletes expired sessions every ten minutes, for as long as the process runs.
    pub fn spawn_cleanup(&self) {
        let store = self.clone();
        tokio::spawn(async move {
            let every = std::time::Duration::from_secs(600);
            let result = match store {
                AnyStore::Sqlite(s) => s.continuously_delete_expired(every).await,
                AnyStore::Postgres(s) => s.continuously_delete_expired(every).await,
            };
            if let Err(err) = result {
                tracing::warn!(%err, "expired-session cleanup stopped");
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
