//! Encryption of secrets at rest (bearer tokens, API keys, signing secrets)
//! with the key from `ALERTWIRE_SECRET_KEY_FILE`: the database alone does not
//! reveal them.

use crate::secret_key::SecretKey;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use std::sync::Arc;

const VERSION: &str = "v1:";
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("a stored secret could not be decrypted (wrong ALERTWIRE_SECRET_KEY_FILE?)")]
    Decrypt,
    #[error("a secret could not be encrypted")]
    Encrypt,
}

/// Seals and opens secrets. `purpose` is bound into each ciphertext, so a
/// value sealed for one use cannot be replayed as another.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Arc<ChaCha20Poly1305>,
}

impl SecretBox {
    pub fn new(key: &SecretKey) -> Self {
        SecretBox {
            cipher: Arc::new(ChaCha20Poly1305::new(Key::from_slice(&key.0))),
        }
    }

    pub fn seal(&self, purpose: &str, plaintext: &str) -> Result<String, CryptoError> {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Encrypt)?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{VERSION}{}", STANDARD.encode(bytes)))
    }

    pub fn open(&self, purpose: &str, stored: &str) -> Result<String, CryptoError> {
        let encoded = stored.strip_prefix(VERSION).ok_or(CryptoError::Decrypt)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| CryptoError::Decrypt)?;
        if bytes.len() < NONCE_LEN {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(byte: u8) -> SecretBox {
        SecretBox::new(&SecretKey([byte; 32]))
    }

    #[test]
    fn round_trips_and_hides_the_plaintext() {
        let b = boxed(7);
        let sealed = b.seal("token", "s3cret-value").unwrap();
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("s3cret"));
        assert_ne!(
            sealed,
            b.seal("token", "s3cret-value").unwrap(),
            "fresh nonce each time"
        );
        assert_eq!(b.open("token", &sealed).unwrap(), "s3cret-value");
    }

    #[test]
    fn refuses_wrong_key_purpose_or_tampering() {
        let sealed = boxed(1).seal("token", "value").unwrap();
        assert!(boxed(2).open("token", &sealed).is_err());
        assert!(boxed(1).open("signing", &sealed).is_err());
        // Change one character in the middle of the ciphertext (always to a different one).
        let mut chars: Vec<char> = sealed.chars().collect();
        let middle = chars.len() / 2;
        chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        assert!(boxed(1).open("token", &tampered).is_err());
        assert!(boxed(1).open("token", "plain").is_err());
    }
}
