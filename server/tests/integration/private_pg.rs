//! A PostgreSQL cluster of the test's own, made with `initdb` and run with
//! `pg_ctl` in a temporary directory, so a test can stop and start it
//! (never the shared server). Stopped and removed when dropped, even on failure.

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct PrivateCluster {
    dir: PathBuf,
    port: u16,
    /// initdb refuses root: as root, the cluster runs as `postgres`.
    run_as: Option<&'static str>,
}

impl PrivateCluster {
    /// `None` when the PostgreSQL binaries are missing outside CI (skipped).
    pub fn start() -> Option<PrivateCluster> {
        if !std::path::Path::new(BIN).join("initdb").exists() {
            assert!(
                !crate::helpers::in_ci(),
                "{BIN}/initdb is missing and CI=true"
            );
            eprintln!("SKIPPED: no {BIN}/initdb; CI=true makes this a failure");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("{}_pg", crate::helpers::unique_name()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
        let cluster = PrivateCluster {
            dir,
            port,
            run_as: root.then_some("postgres"),
        };
        if root {
            cluster.run(
                "/bin/chown",
                &["-R", "postgres", cluster.dir.to_str().unwrap()],
            );
        }
        let data = cluster.data();
        cluster.run(
            &format!("{BIN}/initdb"),
            &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        );
        cluster.resume();
        Some(cluster)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (clients disconnected at once) and waits until it is down.
    pub fn stop(&self) {
        let data = self.data();
        self.run(
            &format!("{BIN}/pg_ctl"),
            &["-D", &data, "-m", "fast", "-w", "stop"],
        );
    }

    /// Starts the server and waits until it takes connections.
    pub fn resume(&self) {
        let (data, log) = (self.data(), self.path("log"));
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        self.run(
            &format!("{BIN}/pg_ctl"),
            &["-D", &data, "-l", &log, "-o", &options, "-w", "start"],
        );
    }

    fn data(&self) -> String {
        self.path("data")
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        match self.run_as {
            Some(user) if program != "/bin/chown" => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--", program]).args(args);
                command
            }
            _ => {
                let mut command = Command::new(program);
                command.args(args);
                command
            }
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program, args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let data = self.data();
        // Already stopped is fine: the answer is ignored.
        let _ = self
            .command(
                &format!("{BIN}/pg_ctl"),
                &["-D", &data, "-m", "immediate", "-w", "stop"],
            )
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
