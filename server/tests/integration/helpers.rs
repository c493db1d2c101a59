//! Spawns the application for a test, with a fresh database of either engine.

use reqwest::header::{ACCEPT, ORIGIN, REFERER};
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use server::cli::Settings;
use server::configuration::Config;
use server::services::Services;
use server::startup::Application;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs each named test once per engine: `mod sqlite { fn x }`, `mod postgres { fn x }`.
/// `with CTOR;` builds what each test gets from the engine (default: a plain `TestApp`).
#[macro_export]
macro_rules! on_both_engines {
    (with $ctor:path; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    $crate::helpers::runtime().block_on(async {
                        if let Some(env) = $ctor($crate::helpers::Engine::Sqlite).await {
                            super::$name(&env).await;
                        }
                    });
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    $crate::helpers::runtime().block_on(async {
                        if let Some(env) = $ctor($crate::helpers::Engine::Postgres).await {
                            super::$name(&env).await;
                        }
                    });
                }
            )*
        }
    };
    ($($name:ident),* $(,)?) => {
        $crate::on_both_engines!(with $crate::helpers::TestApp::spawn; $($name),*);
    };
}

/// One runtime for every test, as in production: the servers the tests start
/// all run on it. (Leptos's server rendering hung when each test brought a
/// runtime of its own and many ran at once; one shared runtime never did.)
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("test runtime")
    })
}

pub struct TestApp {
    pub base: String,
    pub services: Services,
    /// A browser-like client: keeps cookies, follows no redirects.
    pub client: Client,
    dir: PathBuf,
    pg_database: Option<String>,
    /// Dropping it stops the server and its delivery engine.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub fn unique_name() -> String {
    format!(
        "alertwire_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The server Postgres tests create their databases on.
pub fn pg_admin_url() -> String {
    std::env::var("ALERTWIRE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

pub async fn create_pg_database(name: &str) -> Option<String> {
    use sqlx::Connection;
    let admin = pg_admin_url();
    let mut conn = match sqlx::PgConnection::connect(&admin).await {
        Ok(conn) => conn,
        Err(err) if !in_ci() => {
            eprintln!("SKIPPED: PostgreSQL at {admin} is unreachable ({err}); CI=true makes this a failure");
            return None;
        }
        Err(err) => panic!("PostgreSQL at {admin} is unreachable and CI=true: {err}"),
    };
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(admin);
    Some(format!("{base}/{name}"))
}

pub fn drop_pg_database(name: String) {
    // Drop runs outside any runtime: use a small one of its own.
    let _ = std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            use sqlx::Connection;
            if let Ok(mut conn) = sqlx::PgConnection::connect(&pg_admin_url()).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        });
    })
    .join();
}

pub fn test_settings(database_url: String, dir: &std::path::Path) -> Settings {
    Settings {
        database_url,
        listen: "127.0.0.1:0".into(),
        public_url: None,
        secret_key_file: dir.join("secret.key").display().to_string(),
        retry_schedule: "0s,1m,5m,15m,1h".into(),
        request_timeout: "30s".into(),
        allowed_targets: String::new(),
        extra_ca_certs: None,
        delivery_lease: "60s".into(),
        max_in_flight_per_destination: "8".into(),
        metrics_token: None,
        auto_disable_after: "5d".into(),
        retention: "30d".into(),
        bulk_batch: "200".into(),
        bulk_pause: "200ms".into(),
        max_queued: "1000000".into(),
        log_format: "text".into(),
    }
}

impl TestApp {
    /// `None` only when Postgres is unreachable outside CI (the test is skipped).
    pub async fn spawn(engine: Engine) -> Option<TestApp> {
        Self::spawn_with(engine, |_| {}).await
    }

    /// Like `spawn`, with settings changed by `adjust`.
    pub async fn spawn_with(engine: Engine, adjust: impl FnOnce(&mut Settings)) -> Option<TestApp> {
        let name = unique_name();
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let (database_url, pg_database) = match engine {
            Engine::Sqlite => (
                format!("sqlite://{}", dir.join("alertwire.db").display()),
                None,
            ),
            Engine::Postgres => (create_pg_database(&name).await?, Some(name)),
        };
        let mut settings = test_settings(database_url, &dir);
        adjust(&mut settings);
        let config = Config::from_settings(&settings).expect("valid test config");
        let app = Application::build(config)
            .await
            .expect("application starts");
        let base = format!("http://{}", app.local_addr());
        let services = app.services().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        Some(TestApp {
            client: Self::browser(),
            base,
            services,
            dir,
            pg_database,
            stop: Some(stop),
        })
    }

    pub fn browser() -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            // A request that never completes fails its test instead of stalling the suite
            // (renders stalled while another test built its router: see page_renders.rs).
            .timeout(Duration::from_secs(120))
            .build()
            .expect("client")
    }

    /// Posts `len` bytes of JSON to `path` over a raw connection. The server
    /// reads a refused body on only up to 16 MiB (`http::unread_body`), then
    /// answers and closes, which an HTTP client may report as a broken pipe
    /// instead of the answer. The body is written on the side and the answer
    /// read whatever becomes of the write.
    pub async fn post_oversized(&self, path: &str, key: &str, len: usize) -> (StatusCode, Value) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.base.trim_start_matches("http://").to_owned();
        let stream = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        let (mut reader, mut writer) = stream.into_split();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
        );
        let sender = tokio::spawn(async move {
            let _ = writer.write_all(head.as_bytes()).await;
            let chunk = vec![b' '; 64 * 1024];
            let mut sent = 0;
            while sent < len && writer.write_all(&chunk).await.is_ok() {
                sent += chunk.len();
            }
            // Not a half-close, as HTTP clients do not: the server drops an
            // answer still in the making when the client shuts its side.
            writer.forget();
        });
        let mut answer = Vec::new();
        let _ = reader.read_to_end(&mut answer).await;
        sender.abort();
        let text = String::from_utf8_lossy(&answer);
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse::<u16>().ok())
            .and_then(|code| StatusCode::from_u16(code).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = text
            .split_once("\r\n\r\n")
            .and_then(|(_, body)| serde_json::from_str(body).ok())
            .unwrap_or(Value::Null);
        (status, body)
    }

    /// The first column of every row `sql` returns, as text: for checks of what is stored.
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        match self.services.db() {
            server::store::Db::Sqlite(p, _) => sqlx::query_scalar(sql).fetch_all(p).await,
            server::store::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await,
        }
        .expect("query")
    }

    /// The secret of a new API key with `role`, made from the command line.
    pub async fn api_key(&self, role: &str) -> String {
        self.services
            .create_api_key("test", role, &server::services::Actor::command_line())
            .await
            .expect("API key")
            .secret
    }

    /// Every stored session record, as the bytes the session store wrote.
    pub async fn session_records(&self) -> Vec<Vec<u8>> {
        match self.services.db() {
            server::store::Db::Sqlite(p, _) => {
                sqlx::query_scalar("SELECT data FROM tower_sessions")
                    .fetch_all(p)
                    .await
            }
            server::store::Db::Postgres(p) => {
                sqlx::query_scalar(r#"SELECT data FROM "tower_sessions"."session""#)
                    .fetch_all(p)
                    .await
            }
        }
        .expect("session records")
    }

    /// Runs a statement with one text parameter, as rows from before a change would be written.
    pub async fn exec(&self, sql: &str, param: &str) {
        match self.services.db() {
            server::store::Db::Sqlite(p, _) => {
                sqlx::query(sql).bind(param).execute(p).await.map(drop)
            }
            server::store::Db::Postgres(p) => {
                sqlx::query(sql).bind(param).execute(p).await.map(drop)
            }
        }
        .expect("statement")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Calls a server function as the hydrated page does (JSON answer).
    pub async fn call(&self, client: &Client, function: &str, form: &[(&str, &str)]) -> Response {
        client
            .post(self.url(&format!("/fn/{function}")))
            .header(ORIGIN, &self.base)
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// Posts a form as a browser without JavaScript does, from `page`.
    pub async fn post_form(
        &self,
        client: &Client,
        page: &str,
        function: &str,
        form: &[(&str, &str)],
    ) -> Response {
        client
            .post(self.url(&format!("/fn/{function}")))
            .header(ORIGIN, &self.base)
            .header(REFERER, self.url(page))
            .header(ACCEPT, "text/html,application/xhtml+xml")
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// GETs an absolute URL as a browser does and returns the page.
    pub async fn client_get(&self, client: &Client, url: &str) -> String {
        client
            .get(url)
            .header(ACCEPT, "text/html")
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("body")
    }

    pub async fn get(&self, client: &Client, path: &str) -> Response {
        client
            .get(self.url(path))
            .header(ACCEPT, "text/html")
            .send()
            .await
            .expect("request")
    }

    /// Creates a user directly through the services.
    pub async fn create_user(&self, email: &str, role: &str) {
        self.services
            .create_user(
                &server::services::Actor::command_line(),
                app::backend::NewUserInput {
                    email: email.into(),
                    password: PASSWORD.into(),
                    password_confirm: PASSWORD.into(),
                    role: role.into(),
                },
            )
            .await
            .expect("user created");
    }

    /// A fresh client signed in as a new user with `role`.
    pub async fn signed_in(&self, email: &str, role: &str) -> Client {
        self.create_user(email, role).await;
        let client = Self::browser();
        let response = self
            .call(
                &client,
                "login",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert!(
            response.status().is_success(),
            "login as {email}: {}",
            response.status()
        );
        client
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(name) = self.pg_database.take() {
            drop_pg_database(name);
        }
    }
}

/// An API time (RFC 3339) as epoch milliseconds.
pub fn epoch_ms(value: &serde_json::Value) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not an RFC 3339 time"));
    let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{text}: {e}"));
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).expect("in range")
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

pub async fn error_json(response: Response) -> serde_json::Value {
    response.json().await.expect("JSON error body")
}

/// The Python that has the test packages: `ALERTWIRE_TEST_PYTHON`, else the project's
/// `.venv` (made by `scripts/bootstrap.sh --test`), else `python3` on the PATH.
pub fn python() -> std::path::PathBuf {
    if let Ok(python) = std::env::var("ALERTWIRE_TEST_PYTHON") {
        return python.into();
    }
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    if venv.exists() {
        return venv;
    }
    "python3".into()
}
