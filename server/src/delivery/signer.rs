//! Request signatures: the documented `X-AnomalyArmor-Signature` and the
//! Standard Webhooks `webhook-signature`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub const SECRET_PREFIX: &str = "whsec_";

/// A new signing secret: `whsec_` + base64 of 32 random bytes.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return Vec::new(),
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `sha256=<hex>`: HMAC-SHA256 of the raw body keyed with the secret exactly
/// as the user copies it (the whole `whsec_…` string), which is what the
/// documentation's Python `verify_signature` computes.
pub fn anomalyarmor_signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac(secret.as_bytes(), &[body])))
}

/// `v1,<base64>` over `id.timestamp.body`, keyed with the base64-decoded bytes
/// after `whsec_`, as the Standard Webhooks specification says.
pub fn standard_signature(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = STANDARD
        .decode(encoded)
        .unwrap_or_else(|_| secret.as_bytes().to_vec());
    let ts = timestamp.to_string();
    let mac = hmac(&key, &[msg_id.as_bytes(), b".", ts.as_bytes(), b".", body]);
    format!("v1,{}", STANDARD.encode(mac))
}

/// The `webhook-signature` value for every secret that is live (one, or two
/// during a rotation's grace period), space-separated.
pub fn standard_signatures(secrets: &[&str], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|s| standard_signature(s, msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values computed independently with Python's hmac module:
    //   python3 -c "import hmac,hashlib; print(hmac.new(b'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', b'{\"a\":1}', hashlib.sha256).hexdigest())"
    //   python3 -c "import hmac,hashlib,base64; k=base64.b64decode('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'); print(base64.b64encode(hmac.new(k, b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}', hashlib.sha256).digest()).decode())"
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn anomalyarmor_signature_matches_python_hmac() {
        assert_eq!(
            anomalyarmor_signature(SECRET, br#"{"a":1}"#),
            "sha256=45ec03b2b33403c8043a90de06bedad0827183927115fd7e448ef97eeb13c5be"
        );
    }

    #[test]
    fn standard_signature_matches_the_specification_example() {
        // The example from the Standard Webhooks specification.
        assert_eq!(
            standard_signature(
                SECRET,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn rotation_carries_both_signatures() {
        let other = generate_secret();
        let both = standard_signatures(&[SECRET, &other], "msg_1", 1, b"{}");
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], standard_signature(SECRET, "msg_1", 1, b"{}"));
        assert_eq!(parts[1], standard_signature(&other, "msg_1", 1, b"{}"));
    }

    #[test]
    fn secrets_have_the_documented_shape() {
        let s = generate_secret();
        assert!(s.starts_with(SECRET_PREFIX));
        assert_eq!(
            STANDARD.decode(&s[SECRET_PREFIX.len()..]).unwrap().len(),
            32
        );
        assert_ne!(s, generate_secret());
    }
}
