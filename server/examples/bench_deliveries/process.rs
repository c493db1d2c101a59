//! The built `server` binary as a child process: starting it and reading its
//! CPU time and peak memory from /proc.

use super::Error;
use std::path::Path;
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
        Usage {
            cpu: (ticks(11) + ticks(12)) / 100.0, // utime, stime (USER_HZ = 100)
            peak_mib: crate::support::memory_mib(pid).1,
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

/// `server` with the bench's database, key file, CA and loopback targets.
fn command(dir: &Path, database_url: &str, ca: &Path) -> Command {
    let ca = ca.display().to_string();
    crate::support::server_command(
        database_url,
        dir,
        &[
            ("ALERTWIRE_EXTRA_CA_CERTS", &ca),
            ("ALERTWIRE_ALLOWED_TARGETS", "127.0.0.0/8"),
        ],
    )
}
