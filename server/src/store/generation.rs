//! The configuration generation (migration 0015): a counter the database's
//! triggers bump in every transaction that changes rules, their destinations
//! or how a destination is sent to. Whatever was read from those tables while
//! the counter read `n` is current for as long as it still reads `n`, in this
//! process and in any other on the same database.

use super::{on_db, Db, StoreResult};
use std::sync::{Arc, Mutex};

pub async fn current(db: &Db) -> StoreResult<i64> {
    Ok(
        on_db!(db, pool => sqlx::query_scalar("SELECT n FROM config_generation WHERE id = 1")
        .fetch_one(pool)
        .await)?,
    )
}

/// One value derived from the configuration, kept with the generation it was
/// read at. Read the generation *before* the rows the value comes from: rows
/// changed in between are then kept under an older generation and read again
/// at the next look, never the other way round.
pub struct Cached<T> {
    slot: Mutex<Option<(i64, Arc<T>)>>,
}

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached {
            slot: Mutex::new(None),
        }
    }
}

impl<T> Cached<T> {
    /// The value kept at `generation`, if that is what is kept.
    pub fn get(&self, generation: i64) -> Option<Arc<T>> {
        let slot = self.slot.lock().ok()?;
        slot.as_ref()
            .filter(|(at, _)| *at == generation)
            .map(|(_, value)| value.clone())
    }

    /// Keeps `value` unless something newer is kept already.
    pub fn put(&self, generation: i64, value: Arc<T>) {
        if let Ok(mut slot) = self.slot.lock() {
            if slot.as_ref().is_none_or(|(at, _)| *at <= generation) {
                *slot = Some((generation, value));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_exec as exec;

    #[test]
    fn a_value_is_kept_for_its_generation_only() {
        let cached = Cached::default();
        assert!(cached.get(1).is_none());
        cached.put(1, Arc::new("one"));
        assert_eq!(cached.get(1).as_deref(), Some(&"one"));
        assert!(cached.get(2).is_none());
        cached.put(3, Arc::new("three"));
        // A slow reader's older value does not replace a newer one.
        cached.put(2, Arc::new("two"));
        assert_eq!(cached.get(3).as_deref(), Some(&"three"));
        assert!(cached.get(2).is_none());
    }

    #[tokio::test]
    async fn every_configuration_change_moves_the_generation() {
        let db = crate::store::empty_test_db("generation").await;
        let before = current(&db).await.unwrap();
        exec(&db, "INSERT INTO rules (name, alert_type, enabled, created_at, updated_at) VALUES ('r', 'schema', TRUE, 0, 0)").await;
        let after_rule = current(&db).await.unwrap();
        assert!(after_rule > before);
        exec(&db, "UPDATE rules SET enabled = FALSE").await;
        let after_update = current(&db).await.unwrap();
        assert!(after_update > after_rule);
        exec(&db, "INSERT INTO destinations (name, url, auth_type, signing_secret, created_at, updated_at) \
             VALUES ('d', 'https://example.com/', 'none', 's', 0, 0)").await;
        let after_destination = current(&db).await.unwrap();
        assert!(after_destination > after_update);
        // What each attempt writes leaves the generation alone, or nothing would stay cached.
        exec(&db, "UPDATE destinations SET last_attempt_at = 1, consecutive_failures = 2, failing_since = 3, last_result_ok = FALSE").await;
        assert_eq!(current(&db).await.unwrap(), after_destination);
        exec(&db, "UPDATE destinations SET url = 'https://example.org/'").await;
        assert!(current(&db).await.unwrap() > after_destination);
    }
}
