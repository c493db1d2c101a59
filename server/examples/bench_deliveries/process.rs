//! The built `server` binary as a child process: starting it and reading its
//! CPU time and peak memory from /proc.

use super::Error;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Server {
    child: Child,
    pub base: String,
}

/// CPU seconds (user + system) and peak RSS (`VmHWM`) in MiB.
#[derive(Clone, Copy)]
pub struct Usage {
    pub cpu: f64,
    pub peak_mib: f64,
}

impl Server {
    /// Starts `server serve` and waits for its "listening on" line.
    pub async fn start(dir: &Path, database_url: &str, ca: &Path) -> Result<Server, Error> {
        let mut child = command(dir, database_url, ca)
            .arg("serve")
            .stdout(Stdio::piped())
            .spawn()?;
        let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        let line = lines.next_line().await?.ok_or("the server did not start")?;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server {
            base: line.trim_start_matches("listening on ").trim().to_owned(),
            child,
        })
    }

    pub fn usage(&self) -> Usage {
        let pid = self.child.id().unwrap_or(0);
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let hwm = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        Usage {
            cpu: (ticks(11) + ticks(12)) / 100.0, // utime, stime (USER_HZ = 100)
            peak_mib: hwm / 1024.0,
        }
    }
}

/// `server create-api-key`: the key, for the API.
pub async fn api_key(dir: &Path, database_url: &str, ca: &Path) -> Result<String, Error> {
    let out = command(dir, database_url, ca)
        .args(["create-api-key", "--name", "bench"])
        .output()
        .await?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn server_binary() -> PathBuf {
    let me = std::env::current_exe().unwrap_or_default();
    // target/release/examples/bench_deliveries -> target/release/server
    me.parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("server"))
        .unwrap_or_default()
}

fn command(dir: &Path, database_url: &str, ca: &Path) -> Command {
    let mut cmd = Command::new(server_binary());
    cmd.env("DATABASE_URL", database_url)
        .env("ALERTWIRE_SECRET_KEY_FILE", dir.join("secret.key"))
        .env("ALERTWIRE_LISTEN", "127.0.0.1:0")
        .env("ALERTWIRE_EXTRA_CA_CERTS", ca)
        .env("ALERTWIRE_ALLOWED_TARGETS", "127.0.0.0/8")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true);
    cmd
}
