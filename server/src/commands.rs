//! The sub-commands: serve, migrate, create-user, create-api-key.

use crate::cli::Command;
use crate::configuration::Config;
use crate::services::Services;
use crate::startup::{open_database, services, shutdown_signal, Application, StartupError};
use app::backend::NewUserInput;
use app::error::AppError;
use std::io::BufRead;

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
        Command::CreateApiKey { name } => {
            let services = offline_services(&config).await?;
            let created = services.create_api_key(&name, None).await?;
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
    let user = services.create_user(input).await?;
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
