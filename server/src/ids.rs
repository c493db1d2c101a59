//! Public ids (`alert_…`, `msg_…`): a prefix and 24 letters and digits, the
//! first 8 the creation time and the other 16 random (95 bits).
//!
//! Time first, so that ids made later sort later, byte for byte. Each id is
//! indexed (`deliveries_by_msg_id`, the alerts' `public_id`): a random id
//! lands on a random index page, and every delivery stored then touched and
//! wrote back a page of its own. Ids that grow with time are appended at the
//! right edge instead (BENCHMARKS.md, "Where an event's milliseconds go").

use crate::clock::now_ms;
use rand::distributions::Alphanumeric;
use rand::Rng;

/// Base 62 in ASCII order, so the encoded times sort as the numbers do.
const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// 62^8 ms is about 6,900 years.
const TIME_DIGITS: usize = 8;
const RANDOM_DIGITS: usize = 16;

/// A new id: `{prefix}_` then the time in ms and 16 random characters.
pub fn new_id(prefix: &str) -> String {
    id_at(prefix, now_ms())
}

fn id_at(prefix: &str, ms: i64) -> String {
    let mut id = String::with_capacity(prefix.len() + 1 + TIME_DIGITS + RANDOM_DIGITS);
    id.push_str(prefix);
    id.push('_');
    let mut time = [b'0'; TIME_DIGITS];
    let mut rest = u64::try_from(ms).unwrap_or(0);
    for digit in time.iter_mut().rev() {
        *digit = DIGITS[(rest % 62) as usize];
        rest /= 62;
    }
    id.extend(time.iter().map(|&b| char::from(b)));
    id.extend(
        rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(RANDOM_DIGITS)
            .map(char::from),
    );
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_their_shape() {
        let id = new_id("msg");
        let tail = id.strip_prefix("msg_").unwrap();
        assert_eq!(tail.len(), 24);
        assert!(tail.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
        assert_ne!(new_id("msg"), new_id("msg"), "the random part differs");
    }

    #[test]
    fn later_ids_sort_later() {
        // Across a digit's carry (61 -> 62 ms) and years apart.
        let times = [
            0,
            1,
            61,
            62,
            3_843,
            3_844,
            1_700_000_000_000,
            1_800_000_000_000,
        ];
        let ids: Vec<String> = times.iter().map(|&ms| id_at("alert", ms)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ids);
        assert!(ids[0].starts_with("alert_00000000"));
        assert!(id_at("alert", 62).starts_with("alert_00000010"));
    }
}
