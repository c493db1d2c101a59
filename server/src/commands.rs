//! The sub-commands: serve, migrate, create-user, create-api-key.

use crate::cli::Command;
use crate::configuration::Config;
use crate::receiver::{describe, tls, Behaviour, OnReceive, Receiver};
use crate::services::{Actor, Services};
use crate::startup::{open_database, services, shutdown_signal, Application, StartupError};
use app::backend::NewUserInput;
use app::error::AppError;
use std::io::BufRead;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Startup(#[from] StartupError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Rejected(String),
}

impl From<AppError> for CommandError {
    fn from(err: AppError) -> Self {
        let text = match err.form() {
            Some(form) => form
                .fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; "),
            None => err.to_string(),
        };
        CommandError::Rejected(text)
    }
}

pub async fn run(command: Option<Command>, config: Config) -> Result<(), CommandError> {
    match command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            open_database(&config).await?.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::CreateUser { email, role } => create_user(config, email, role).await,
        Command::Receive {
            fail_first,
            status,
            delay,
            secret,
            quiet,
        } => {
            let behaviour = Behaviour {
                status,
                fail_first,
                delay: Duration::from_millis(delay),
                ..Behaviour::default()
            };
            receive(&config, behaviour, secret, quiet).await
        }
        Command::CreateApiKey { name, role } => {
            let services = offline_services(&config).await?;
            let created = services
                .create_api_key(&name, &role, &Actor::command_line())
                .await?;
            println!("{}", created.secret);
            Ok(())
        }
    }
}

async fn serve(config: Config) -> Result<(), CommandError> {
    let public_url = config.public_url.clone();
    let app = Application::build(config).await?;
    let public_url = public_url.unwrap_or_else(|| app.public_url());
    tracing::info!(addr = %app.local_addr(), %public_url, "Alertwire is listening");
    // Tests and scripts read this line to learn the port when listening on :0.
    println!("listening on http://{}", app.local_addr());
    app.run_until(shutdown_signal()).await?;
    Ok(())
}

async fn create_user(config: Config, email: String, role: String) -> Result<(), CommandError> {
    let password = match std::env::var("ALERTWIRE_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let services = offline_services(&config).await?;
    let input = NewUserInput {
        email,
        password_confirm: password.clone(),
        password,
        role,
    };
    let user = services.create_user(&Actor::command_line(), input).await?;
    println!("created {} ({})", user.email, user.role);
    Ok(())
}

/// Services for a one-off command (no listener: links use the configured public URL).
async fn offline_services(config: &Config) -> Result<Services, CommandError> {
    let db = open_database(config).await?;
    let public_url = config
        .resolved_public_url(config.listen)
        .map_err(StartupError::from)?;
    Ok(services(config, db, public_url)?)
}

/// Runs the local HTTPS receiver until interrupted.
async fn receive(
    config: &Config,
    behaviour: Behaviour,
    secret: Option<String>,
    quiet: bool,
) -> Result<(), CommandError> {
    let data_dir = config
        .secret_key_file
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    let (local, ca_path) = tls::load_or_make(&data_dir.join("receiver"))
        .map_err(|e| CommandError::Rejected(e.to_string()))?;
    // The app's own default address would clash with a server on the same machine.
    let listen = if config.listen.port() == 3000 {
        "127.0.0.1:9443".parse().unwrap_or(config.listen)
    } else {
        config.listen
    };
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let on_receive: Option<OnReceive> = if quiet {
        None
    } else {
        Some(Arc::new(move |got| {
            println!("{}", describe(got, secret.as_deref()))
        }))
    };
    let receiver = Receiver::start(listener, local.server_config.clone(), behaviour, on_receive)?;
    let ca = std::fs::canonicalize(&ca_path).unwrap_or(ca_path);
    println!(
        "receiving webhooks on https://localhost:{}/",
        receiver.addr.port()
    );
    println!(
        "CA certificate: {} (trust it with ALERTWIRE_EXTRA_CA_CERTS)",
        ca.display()
    );
    shutdown_signal().await;
    Ok(())
}
