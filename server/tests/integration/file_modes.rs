//! The data directory and the SQLite files hold sessions, password hashes and
//! payloads: only the owner may read them, whatever the umask.
#![cfg(unix)]

use crate::helpers::{runtime, Engine, TestApp};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The permission bits, in octal as `ls` and `chmod` write them.
fn mode(path: &Path) -> String {
    let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    format!("{:o}", meta.permissions().mode() & 0o777)
}

/// A fresh location under the test's own directory, which Alertwire has to create.
fn fresh_dir(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "alertwire_modes_{tag}_{}_{}",
        std::process::id(),
        crate::destinations::rand_suffix()
    ))
}

/// Without the fix these files would get the umask's mode: make sure that mode is wider.
fn assert_umask_lets_others_read(dir: &Path) {
    let probe = dir.join("probe");
    std::fs::write(&probe, b"").unwrap();
    let others_read = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o044;
    assert_ne!(
        others_read, 0,
        "this test needs a umask like 022, under which new files are readable by others"
    );
    std::fs::remove_file(probe).unwrap();
}

#[test]
fn a_fresh_data_directory_and_database_are_private() {
    runtime().block_on(async {
        let root = fresh_dir("fresh");
        std::fs::create_dir_all(&root).unwrap();
        assert_umask_lets_others_read(&root);
        let data = root.join("data");
        let keys = root.join("keys");
        let db = data.join("alertwire.db");
        let app = TestApp::spawn_with(Engine::Sqlite, |s| {
            s.database_url = format!("sqlite://{}", db.display());
            s.secret_key_file = keys.join("secret.key").display().to_string();
        })
        .await
        .unwrap();
        // A write, so SQLite has its WAL and shared-memory files open.
        app.create_user("modes@example.com", "viewer").await;
        assert_eq!(mode(&data), "700", "the data directory");
        assert_eq!(mode(&keys), "700", "the secret key's directory");
        assert_eq!(mode(&keys.join("secret.key")), "600", "the secret key");
        for file in ["alertwire.db", "alertwire.db-wal", "alertwire.db-shm"] {
            assert_eq!(mode(&data.join(file)), "600", "{file}");
        }
        drop(app);
        std::fs::remove_dir_all(root).unwrap();
    });
}

#[test]
fn an_existing_readable_database_is_narrowed_at_start() {
    runtime().block_on(async {
        let root = fresh_dir("existing");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o750)).unwrap();
        let db = root.join("alertwire.db");
        for file in ["alertwire.db", "alertwire.db-wal", "alertwire.db-shm"] {
            let path = root.join(file);
            std::fs::write(&path, b"").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let app = TestApp::spawn_with(Engine::Sqlite, |s| {
            s.database_url = format!("sqlite://{}", db.display());
        })
        .await
        .unwrap();
        app.create_user("narrowed@example.com", "viewer").await;
        for file in ["alertwire.db", "alertwire.db-wal", "alertwire.db-shm"] {
            assert_eq!(mode(&root.join(file)), "600", "{file}");
        }
        // A directory the operator made keeps its mode: only what Alertwire creates is made 0700.
        assert_eq!(mode(&root), "750");
        drop(app);
        std::fs::remove_dir_all(root).unwrap();
    });
}
