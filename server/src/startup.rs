//! Builds the application from a `Config`: database, sessions, router, listener.

use crate::configuration::Config;
use crate::crypto::SecretBox;
use crate::delivery::engine::{Engine, EngineSettings, Queue, RetryPolicy};
use crate::delivery::HttpSender;
use crate::http::metrics::MetricsState;
use crate::http::security_headers::{self, SecurityHeaders};
use crate::http::sessions::AnyStore;
use crate::http::{api, assets, csrf, guard, health, live, metrics, pages, unread_body};
use crate::secret_key::{self, SecretKeyError};
use crate::services::{Deps, Services};
use crate::store::{self, Db, DbTarget, StoreError};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{any, get};
use axum::serve::ListenerExt;
use axum::Router;
use leptos::config::{Env, LeptosOptions};
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot prepare the session table: {0}")]
    Sessions(#[from] sqlx::Error),
    #[error("{0}")]
    SecretKey(#[from] SecretKeyError),
    #[error("{0}")]
    Client(#[from] crate::delivery::client::ClientError),
    #[error("invalid public URL: {0}")]
    PublicUrl(#[from] url::ParseError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    services: Services,
    public_url: Url,
    engine: EngineSettings,
    auto_disable_after: Option<Duration>,
}

/// Where the built WASM, JS and CSS live (`LEPTOS_SITE_ROOT`, as with cargo-leptos).
fn site_root() -> String {
    std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into())
}

/// Opens and migrates the database the configuration names.
pub async fn open_database(config: &Config) -> Result<Db, StartupError> {
    if let DbTarget::Sqlite(options) = &config.database {
        for file in store::files::narrow_existing(options)? {
            tracing::warn!(
                path = %file.path.display(),
                was = format!("{:o}", file.was),
                "the database file was readable by others: narrowed to 0600"
            );
        }
    }
    let db = Db::connect(&config.database).await?;
    db.migrate().await?;
    Ok(db)
}

/// The services over an open database, with the secret key and HTTP client.
pub fn services(config: &Config, db: Db, public_url: Url) -> Result<Services, StartupError> {
    let key = secret_key::load_or_create(&config.secret_key_file)?;
    let allowed = config.allowed_targets.iter().map(|c| c.pair()).collect();
    let sender = HttpSender::new(
        config.request_timeout,
        allowed,
        config.extra_ca_certs.as_deref(),
    )?;
    Ok(Services::new(
        db,
        Deps {
            secrets: SecretBox::new(&key),
            sender,
            public_url,
            queue: Queue::new(RetryPolicy::new(config.retry_schedule.clone())),
            retention: config.retention,
            jobs: crate::services::jobs::JobSettings {
                batch: config.bulk_batch,
                pause: config.bulk_pause,
            },
            max_queued: config.max_queued,
        },
    ))
}

/// Attempts in flight in one process at most. High enough that endpoints
/// hanging at the per-destination limit (1,000 x 8) leave room for the rest:
/// a hanging attempt is a task and a socket (RELIABILITY.md, hostile receivers).
pub const MAX_IN_FLIGHT: usize = 10_000;
/// At shutdown, attempts in flight get this long before their leases are given back.
const DRAIN: Duration = Duration::from_secs(8);

fn engine_settings(config: &Config) -> EngineSettings {
    EngineSettings {
        lease: config.delivery_lease,
        per_destination: config.max_in_flight_per_destination,
        max_in_flight: MAX_IN_FLIGHT,
        drain: DRAIN,
    }
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        // A bad key file is a start-up error, before anything else happens.
        secret_key::load_or_create(&config.secret_key_file)?;
        let bind_error = |source| StartupError::Listen {
            addr: config.listen,
            source,
        };
        let listener = TcpListener::bind(config.listen).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let public_url = config.resolved_public_url(addr)?;
        let db = open_database(&config).await?;
        let services = services(&config, db.clone(), public_url.clone())?;
        let store = AnyStore::open(&db).await?;
        store.spawn_cleanup();
        let metrics = MetricsState {
            services: services.clone(),
            token: config.metrics_token.clone(),
        };
        let router = build_router(&public_url, services.clone(), metrics, &store, addr);
        Ok(Application {
            listener,
            router,
            services,
            public_url,
            engine: engine_settings(&config),
            auto_disable_after: config.auto_disable_after,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn public_url(&self) -> Url {
        self.public_url.clone()
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Serves and delivers until `shutdown` resolves; then stops taking
    /// requests and claims, finishes what is in flight, and closes the database.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let engine = Engine::start(self.services.engine_parts(), self.engine);
        let (stopping, stopped) = tokio::sync::watch::channel(false);
        let auto_disable = self.auto_disable_after.map(|after| {
            let services = self.services.clone();
            let stop = stopped.clone();
            tokio::spawn(async move { services.run_auto_disable(after, stop).await })
        });
        let retention = self.services.start_retention(stopped.clone());
        let jobs = self.services.start_jobs(stopped.clone());
        // Connection info gives the sign-in limit its client address.
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        // Without TCP_NODELAY a response written in pieces (a streamed page,
        // a live update) waits for the client's delayed ACK: 40 ms on Linux.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(err) = tcp.set_nodelay(true) {
                tracing::debug!(error = %err, "cannot set TCP_NODELAY");
            }
        });
        let server = axum::serve(listener, service).with_graceful_shutdown(async move {
            let mut stopped = stopped;
            let _ = stopped.wait_for(|s| *s).await;
        });
        let serving = tokio::spawn(server.into_future());
        shutdown.await;
        let _ = stopping.send(true);
        if let Some(mut task) = auto_disable {
            // A check in progress finishes (it is short), unless the database hangs.
            if tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
        // Live streams never finish on their own: end them, or they hold the exit.
        self.services.live().close();
        engine.shutdown().await;
        // It stops between two batches; a batch is one short transaction.
        if tokio::time::timeout(Duration::from_secs(5), retention)
            .await
            .is_err()
        {
            tracing::warn!("the retention task did not stop in time");
        }
        // Between two batches too; the job is given back for the next start.
        if tokio::time::timeout(Duration::from_secs(5), jobs)
            .await
            .is_err()
        {
            tracing::warn!("the job runner did not stop in time");
        }
        // Requests still open after the engine stopped (long polls, slow clients) do not hold the exit.
        match tokio::time::timeout(Duration::from_secs(1), serving).await {
            Ok(Ok(result)) => result?,
            Ok(Err(join)) => tracing::warn!(error = %join, "server task failed"),
            Err(_) => tracing::warn!("requests still open at shutdown were dropped"),
        }
        self.services.db().close().await;
        Ok(())
    }
}

fn build_router(
    public_url: &Url,
    services: Services,
    metrics: MetricsState,
    store: &AnyStore,
    addr: SocketAddr,
) -> Router {
    let root = site_root();
    let hash_file = assets::hash_file(Path::new(&root));
    let options = LeptosOptions::builder()
        .output_name("alertwire")
        .site_root(root.clone())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(Env::PROD)
        // Pages name the content-hashed files of a release build (`scripts/build.sh`).
        .hash_files(hash_file.is_some())
        .hash_file(
            hash_file
                .map(|p| p.display().to_string())
                .unwrap_or_default()
                .into(),
        )
        .build();
    let pages = pages::router(services.clone(), options)
        .route(
            live::PATH,
            get(live::deliveries).with_state(services.clone()),
        )
        .layer(from_fn_with_state(services.clone(), guard::resolve_user))
        .layer(store.layer(public_url.scheme() == "https"))
        .layer(from_fn_with_state(
            csrf::AllowedOrigins::for_public_url(public_url),
            csrf::refuse_cross_origin,
        ));
    Router::new()
        .route(
            "/healthz",
            get(health::healthz).with_state(services.clone()),
        )
        .route("/metrics", get(metrics::metrics).with_state(metrics))
        .nest("/api/v1", api::router(services))
        // A nest does not take its own path with a trailing slash: without
        // this it got the site's HTML 404 instead of the API's error shape.
        .route("/api/v1/", any(api::not_found))
        .merge(pages)
        // Pages and answers are compressed as they go (SSE streams are not:
        // the default predicate leaves `text/event-stream` alone); `/pkg`
        // files were compressed at build time.
        .layer(CompressionLayer::new())
        .nest("/pkg", assets::router(Path::new(&root)))
        .layer(from_fn_with_state(
            SecurityHeaders::for_public_url(public_url),
            security_headers::add_security_headers,
        ))
        .layer(from_fn(unread_body::drain_unread))
        .layer(TraceLayer::new_for_http())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
