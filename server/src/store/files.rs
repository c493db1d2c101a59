//! The SQLite database's files hold sessions, password hashes and payloads:
//! only the owner may read them. The directory Alertwire creates is 0700 and
//! the database file is created 0600 before SQLite opens it (SQLite gives its
//! `-wal` and `-shm` files the database file's mode). Unix only.

use super::{StoreError, StoreResult};
use sqlx::sqlite::SqliteConnectOptions;
use std::path::{Path, PathBuf};

/// The files SQLite keeps next to the database in WAL mode.
const COMPANION_SUFFIXES: [&str; 2] = ["-wal", "-shm"];

/// A database file that others could read and was narrowed to 0600.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Narrowed {
    pub path: PathBuf,
    /// The permission bits it had, e.g. 0o644.
    pub was: u32,
}

/// The database file's path, unless the database lives in memory (sqlx names
/// an in-memory database `file:sqlx-in-memory-N`, a URI rather than a path).
fn database_path(options: &SqliteConnectOptions) -> Option<&Path> {
    let path = options.get_filename();
    let name = path.to_string_lossy();
    let in_memory = name.is_empty() || name == ":memory:" || name.starts_with("file:");
    (!in_memory).then_some(path)
}

/// Creates the database's directory (0700) and empty file (0600) when they are
/// missing, so SQLite never creates them with the umask's wider mode.
pub fn create_private(options: &SqliteConnectOptions) -> StoreResult<()> {
    let Some(path) = database_path(options) else {
        return Ok(());
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        private_dir(dir).map_err(|source| StoreError::Directory {
            path: dir.display().to_string(),
            source,
        })?;
    }
    private_file(path).map_err(|source| StoreError::File {
        path: path.display().to_string(),
        source,
    })
}

/// Narrows the database file and its `-wal` and `-shm` files to 0600 where
/// they are wider (made by an older version, or by hand); returns what changed.
pub fn narrow_existing(options: &SqliteConnectOptions) -> StoreResult<Vec<Narrowed>> {
    let Some(path) = database_path(options) else {
        return Ok(Vec::new());
    };
    let mut files = vec![path.to_path_buf()];
    for suffix in COMPANION_SUFFIXES {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        files.push(PathBuf::from(name));
    }
    let mut narrowed = Vec::new();
    for file in files {
        let changed = narrow(&file).map_err(|source| StoreError::File {
            path: file.display().to_string(),
            source,
        })?;
        if let Some(was) = changed {
            narrowed.push(Narrowed { path: file, was });
        }
    }
    Ok(narrowed)
}

#[cfg(unix)]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    // Only directories created here get 0700: an existing one is the operator's choice.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

#[cfg(not(unix))]
fn private_file(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The old permission bits when `file` was wider than 0600; `None` when it
/// was not, or does not exist.
#[cfg(unix)]
fn narrow(file: &Path) -> std::io::Result<Option<u32>> {
    use std::os::unix::fs::PermissionsExt;
    let mode = match std::fs::metadata(file) {
        Ok(meta) => meta.permissions().mode() & 0o777,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    if mode & 0o077 == 0 {
        return Ok(None);
    }
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
    Ok(Some(mode))
}

#[cfg(not(unix))]
fn narrow(_file: &Path) -> std::io::Result<Option<u32>> {
    Ok(None)
}

// Two attributes: clippy allows unwrap only under a plain `cfg(test)`.
#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::str::FromStr;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn temp(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("alertwire-files-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn creates_the_directory_and_file_private() {
        let root = temp("create");
        let db = root.join("a/b/alertwire.db");
        let options =
            SqliteConnectOptions::from_str(&format!("sqlite://{}", db.display())).unwrap();
        create_private(&options).unwrap();
        assert_eq!(mode(&root.join("a")), 0o700);
        assert_eq!(mode(&root.join("a/b")), 0o700);
        assert_eq!(mode(&db), 0o600);
        // Idempotent, and an existing file is left alone.
        std::fs::write(&db, b"kept").unwrap();
        create_private(&options).unwrap();
        assert_eq!(std::fs::read(&db).unwrap(), b"kept");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn narrows_wider_files_and_reports_them() {
        let root = temp("narrow");
        std::fs::create_dir_all(&root).unwrap();
        let db = root.join("alertwire.db");
        let wal = root.join("alertwire.db-wal");
        std::fs::write(&db, b"").unwrap();
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o600)).unwrap();
        let options =
            SqliteConnectOptions::from_str(&format!("sqlite://{}", db.display())).unwrap();
        let narrowed = narrow_existing(&options).unwrap();
        assert_eq!(
            narrowed,
            vec![Narrowed {
                path: db.clone(),
                was: 0o644
            }]
        );
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&wal), 0o600);
        assert!(narrow_existing(&options).unwrap().is_empty());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn in_memory_databases_have_no_files() {
        let options = SqliteConnectOptions::from_str("sqlite::memory:").unwrap();
        create_private(&options).unwrap();
        assert!(narrow_existing(&options).unwrap().is_empty());
        let name = options.get_filename().to_path_buf();
        assert!(!name.exists(), "no file named {} was made", name.display());
    }
}
