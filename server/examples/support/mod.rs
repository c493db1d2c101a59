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
