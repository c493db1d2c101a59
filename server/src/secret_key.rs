//! The key that encrypts secrets at rest. Created on first start, readable by
//! the owner only (the file 0600, a directory created for it 0700); without it
//! the database alone does not reveal secrets.

use rand::RngCore;
use std::io::Write;
use std::path::Path;

pub const KEY_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum SecretKeyError {
    #[error("invalid --secret-key-file (ALERTWIRE_SECRET_KEY_FILE): cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "invalid --secret-key-file (ALERTWIRE_SECRET_KEY_FILE): cannot create {path}: {source}"
    )]
    Create {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid --secret-key-file (ALERTWIRE_SECRET_KEY_FILE): {path} must hold {KEY_BYTES} bytes as 64 hex digits")]
    Malformed { path: String },
}

/// The 32-byte key. Deliberately not `Debug`.
pub struct SecretKey(pub [u8; KEY_BYTES]);

pub fn load_or_create(path: &Path) -> Result<SecretKey, SecretKeyError> {
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text).ok_or(SecretKeyError::Malformed { path: shown }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            create(path).map_err(|source| SecretKeyError::Create {
                path: shown,
                source,
            })
        }
        Err(source) => Err(SecretKeyError::Read {
            path: shown,
            source,
        }),
    }
}

fn parse(text: &str) -> Option<SecretKey> {
    let bytes = hex::decode(text.trim()).ok()?;
    Some(SecretKey(bytes.try_into().ok()?))
}

fn create(path: &Path) -> std::io::Result<SecretKey> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut key = [0u8; KEY_BYTES];
    rand::thread_rng().fill_bytes(&mut key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(hex::encode(key).as_bytes())?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), "created a new secret key");
    Ok(SecretKey(key))
}

/// Directories created here are 0700; an existing one is the operator's choice.
#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_then_reloads_the_same_key() {
        let dir = std::env::temp_dir().join(format!("alertwire-key-{}", std::process::id()));
        let path = dir.join("nested/secret.key");
        let first = load_or_create(&path).unwrap();
        let again = load_or_create(&path).unwrap();
        assert_eq!(first.0, again.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(dir.join("nested"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
        std::fs::write(&path, "not hex").unwrap();
        assert!(matches!(
            load_or_create(&path),
            Err(SecretKeyError::Malformed { .. })
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
