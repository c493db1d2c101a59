//! What the benchmarks share: a fresh PostgreSQL database for a run, and a
//! server started in this process with a signed-in admin.
// Each benchmark uses a part of it.
#![allow(dead_code)]

/// Drops and creates database `name` on the server `ALERTWIRE_TEST_POSTGRES`
/// (default: the local one) and returns its URL.
pub async fn postgres_url(name: &str) -> Result<String, sqlx::Error> {
    use sqlx::Connection;
    let admin = std::env::var("ALERTWIRE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut conn = sqlx::PgConnection::connect(&admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    Ok(postgres_url_of(name))
}

/// The URL of database `name` on that server, as it is.
pub fn postgres_url_of(name: &str) -> String {
    let admin = std::env::var("ALERTWIRE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .unwrap_or(admin);
    format!("{base}/{name}")
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The server's library running in this process, its settings at their
/// defaults but the database, on a free port of 127.0.0.1.
pub struct InProcess {
    pub base: String,
    pub services: server::services::Services,
}

pub async fn start_in_process(
    database_url: &str,
    dir: &std::path::Path,
) -> Result<InProcess, Error> {
    use clap::Parser;
    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        settings: server::cli::Settings,
    }
    let key_file = dir.join("secret.key").display().to_string();
    let settings = Flags::try_parse_from([
        "bench",
        "--database-url",
        database_url,
        "--listen",
        "127.0.0.1:0",
        "--secret-key-file",
        &key_file,
    ])?
    .settings;
    let config = server::configuration::Config::from_settings(&settings)?;
    let app = server::startup::Application::build(config).await?;
    let base = format!("http://{}", app.local_addr());
    let services = app.services().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    Ok(InProcess { base, services })
}

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "benchmark password";

/// Makes an admin and returns a browser-like client (cookies) signed in as it.
pub async fn signed_in_admin(app: &InProcess) -> Result<reqwest::Client, Error> {
    app.services
        .create_user(
            &server::services::Actor::command_line(),
            app::backend::NewUserInput {
                email: EMAIL.into(),
                password: PASSWORD.into(),
                password_confirm: PASSWORD.into(),
                role: "admin".into(),
            },
        )
        .await?;
    sign_in_admin(app).await
}

/// A browser-like client signed in as the admin `signed_in_admin` made
/// (in a database kept from an earlier run).
pub async fn sign_in_admin(app: &InProcess) -> Result<reqwest::Client, Error> {
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    client
        .post(format!("{}/fn/login", app.base))
        .header("origin", &app.base)
        .form(&[("email", EMAIL), ("password", PASSWORD)])
        .send()
        .await?
        .error_for_status()?;
    Ok(client)
}

/// The built `server` binary as a child process, so its CPU and memory are its own.
pub struct ChildServer {
    pub child: tokio::process::Child,
    pub base: String,
}

fn server_binary() -> std::path::PathBuf {
    // target/release/examples/<bench> -> target/release/server
    let me = std::env::current_exe().unwrap_or_default();
    me.parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("server"))
        .unwrap_or_default()
}

/// `server` with a database, a key file under `dir`, a free port and `env`.
pub fn server_command(
    database_url: &str,
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(server_binary());
    cmd.env("DATABASE_URL", database_url)
        .env("ALERTWIRE_SECRET_KEY_FILE", dir.join("secret.key"))
        .env("ALERTWIRE_LISTEN", "127.0.0.1:0")
        // ALERTWIRE_BENCH_SERVER_LOG shows more of the server's log while profiling.
        .env(
            "RUST_LOG",
            std::env::var("ALERTWIRE_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .kill_on_drop(true);
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd
}

impl ChildServer {
    /// Creates an admin API key, then starts `server serve`; returns it with the key.
    pub async fn start(
        database_url: &str,
        dir: &std::path::Path,
        env: &[(&str, &str)],
    ) -> Result<(ChildServer, String), Error> {
        use tokio::io::AsyncBufReadExt;
        let out = server_command(database_url, dir, env)
            .args(["create-api-key", "--name", "bench"])
            .output()
            .await?;
        let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let mut child = server_command(database_url, dir, env)
            .arg("serve")
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = lines.next_line().await?.ok_or("the server did not start")?;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let base = line.trim_start_matches("listening on ").trim().to_owned();
        Ok((ChildServer { child, base }, key))
    }

    /// (resident, peak resident) memory in MiB, from /proc.
    pub fn memory_mib(&self) -> (f64, f64) {
        memory_mib(self.child.id().unwrap_or(0))
    }
}

/// (resident, peak resident) memory of process `pid` in MiB, from /proc.
pub fn memory_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// `POST /api/v1{path}` with an API key; the answer's JSON, or an error naming
/// the path and status when it is not a success.
pub async fn api_post(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    path: &str,
    body: serde_json::Value,
) -> Result<serde_json::Value, Error> {
    let response = client
        .post(format!("{base}/api/v1{path}"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await?;
    let status = response.status();
    let value: serde_json::Value = response.json().await?;
    if !status.is_success() {
        return Err(format!("{path}: {status} {value}").into());
    }
    Ok(value)
}

/// The value at `p` (0 to 1) of sorted figures.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[(((sorted.len() - 1) as f64) * p).round() as usize]
}
