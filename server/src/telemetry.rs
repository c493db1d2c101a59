//! Logging: plain text (colour only on a terminal) or one JSON object a line for log
//! collectors (`--log-format`, ARCHITECTURE.md "Configuration").

mod json;

use std::io::IsTerminal;
use std::str::FromStr;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!(
                "--log-format (ALERTWIRE_LOG_FORMAT) must be text or json, not {value:?}"
            )),
        }
    }
}

/// Logs to stderr; `RUST_LOG` overrides the default level.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    // A second init (tests) keeps the first subscriber.
    match format {
        LogFormat::Text => drop(
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                // Colour codes are noise in a file or a collector's pipe.
                .with_ansi(std::io::stderr().is_terminal())
                .try_init(),
        ),
        LogFormat::Json => drop(
            tracing_subscriber::registry()
                .with(filter)
                .with(json::JsonLayer::new(std::io::stderr))
                .try_init(),
        ),
    }
}
