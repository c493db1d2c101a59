//! Command-line flags and sub-commands (ARCHITECTURE.md "Configuration").
//! Values stay strings here; `configuration` parses them with clear errors.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "server",
    version,
    about = "Alertwire: signed, retried webhooks for data-quality alerts",
    long_about = None,
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Every setting is a flag and the environment variable next to it.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Database: sqlite://PATH (created if missing) or postgres://USER@HOST/DB
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/alertwire.db",
        global = true
    )]
    pub database_url: String,

    /// Address to listen on
    #[arg(
        long,
        env = "ALERTWIRE_LISTEN",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub listen: String,

    /// URL people and links use to reach this server [default: http://<listen>]
    #[arg(long, env = "ALERTWIRE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Key that encrypts secrets at rest; created on first start if missing
    #[arg(
        long,
        env = "ALERTWIRE_SECRET_KEY_FILE",
        default_value = "data/secret.key",
        global = true
    )]
    pub secret_key_file: String,

    /// Delays before each attempt of a delivery, comma-separated (ms, s, m, h)
    #[arg(
        long,
        env = "ALERTWIRE_RETRY_SCHEDULE",
        default_value = "0s,1m,5m,15m,1h",
        global = true
    )]
    pub retry_schedule: String,

    /// Whole-request timeout for webhook deliveries
    #[arg(
        long,
        env = "ALERTWIRE_REQUEST_TIMEOUT",
        default_value = "30s",
        global = true
    )]
    pub request_timeout: String,

    /// CIDRs exempt from the address guard, comma-separated (e.g. 127.0.0.0/8,::1/128)
    #[arg(
        long,
        env = "ALERTWIRE_ALLOWED_TARGETS",
        default_value = "",
        global = true
    )]
    pub allowed_targets: String,

    /// How long a process holds a delivery it is attempting before another may
    /// take it over (after a crash); at most 60s, and longer than the request timeout
    #[arg(
        long,
        env = "ALERTWIRE_DELIVERY_LEASE",
        default_value = "60s",
        global = true
    )]
    pub delivery_lease: String,

    /// Attempts in flight to one destination at most, in each process (one while
    /// its last attempt failed)
    #[arg(
        long,
        env = "ALERTWIRE_MAX_IN_FLIGHT_PER_DESTINATION",
        default_value = "8",
        global = true
    )]
    pub max_in_flight_per_destination: String,

    /// Disable a destination whose deliveries have all failed for this long (with at
    /// least 5 failed deliveries); 0 turns auto-disable off (ms, s, m, h, d)
    #[arg(
        long,
        env = "ALERTWIRE_AUTO_DISABLE_AFTER",
        default_value = "5d",
        global = true
    )]
    pub auto_disable_after: String,
    /// How long history is kept: finished deliveries with their attempts, their
    /// alerts and events, and audit entries older than this are removed (e.g. 90s, 12h, 30d)
    #[arg(
        long,
        env = "ALERTWIRE_RETENTION",
        default_value = "30d",
        global = true
    )]
    pub retention: String,

    /// Deliveries a bulk redelivery job queues again per transaction (1 to 10000)
    #[arg(
        long,
        env = "ALERTWIRE_BULK_BATCH",
        default_value = "200",
        global = true
    )]
    pub bulk_batch: String,
    /// Pause between two batches of a bulk job, so first attempts and other
    /// writers keep their turn (0 to 1m)
    #[arg(
        long,
        env = "ALERTWIRE_BULK_PAUSE",
        default_value = "200ms",
        global = true
    )]
    pub bulk_pause: String,

    /// Queued (pending) deliveries past which ingest answers 429 with Retry-After
    #[arg(
        long,
        env = "ALERTWIRE_MAX_QUEUED",
        default_value = "1000000",
        global = true
    )]
    pub max_queued: String,

    /// PEM file of extra trusted root certificates for webhook endpoints
    #[arg(long, env = "ALERTWIRE_EXTRA_CA_CERTS", global = true)]
    pub extra_ca_certs: Option<String>,

    /// When set, GET /metrics needs `Authorization: Bearer <token>` [default: none, /metrics is open]
    #[arg(
        long,
        env = "ALERTWIRE_METRICS_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub metrics_token: Option<String>,

    /// Log lines: text (colour only on a terminal) or json (one object a line, for collectors)
    #[arg(
        long,
        env = "ALERTWIRE_LOG_FORMAT",
        default_value = "text",
        global = true
    )]
    pub log_format: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server and the delivery engine (the default)
    Serve,
    /// Apply database migrations and exit
    Migrate,
    /// Create a user; the password comes from ALERTWIRE_PASSWORD or standard input
    CreateUser {
        #[arg(long)]
        email: String,
        /// admin, editor or viewer
        #[arg(long)]
        role: String,
    },
    /// Create an API key and print it (it is shown only this once)
    CreateApiKey {
        #[arg(long)]
        name: String,
        /// ingest (only posts events), viewer, editor or admin
        #[arg(long, default_value = "admin")]
        role: String,
    },
    /// Run a local HTTPS webhook receiver, for trying Alertwire and for tests and
    /// benchmarks. It listens on --listen (127.0.0.1:9443 when --listen is left at
    /// its default) with a certificate from its own CA, kept under the data directory.
    Receive {
        /// Answer 500 to the first N requests
        #[arg(long, default_value_t = 0)]
        fail_first: u32,
        /// Status code of the other answers
        #[arg(long, default_value_t = 200)]
        status: u16,
        /// Wait this many milliseconds before each answer
        #[arg(long, default_value_t = 0)]
        delay: u64,
        /// The destination's signing secret (whsec_...), to check signatures
        #[arg(long, env = "ALERTWIRE_RECEIVER_SECRET")]
        secret: Option<String>,
        /// Print nothing per request
        #[arg(long)]
        quiet: bool,
    },
}
