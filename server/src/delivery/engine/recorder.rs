//! Writes finished attempts in batches: one transaction for many attempts is
//! what lets SQLite keep up, and every attempt is stored before its retry
//! can be claimed.

use super::Queue;
use crate::store::deliveries::{self, AttemptRecord};
use crate::store::Db;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Attempts one transaction records at most. On SQLite it holds the one write
/// turn that ingest waits for, so it stays short: 512 failed attempts took 200
/// to 500 ms on a loaded machine (RELIABILITY.md, section 4). PostgreSQL has no
/// such turn and takes the larger batch.
fn max_batch(db: &Db) -> usize {
    if db.is_postgres() {
        512
    } else {
        128
    }
}

pub async fn run(
    db: Db,
    queue: Arc<Queue>,
    owner: Arc<str>,
    mut inbox: mpsc::Receiver<AttemptRecord>,
) {
    let max = max_batch(&db);
    let gap = gap(&db);
    let mut batch = Vec::with_capacity(max);
    let mut last_write = Instant::now();
    while inbox.recv_many(&mut batch, max).await > 0 {
        gather(&mut inbox, &mut batch, max, last_write + gap).await;
        for part in by_size(&batch, MAX_BYTES) {
            write(&db, &queue, &owner, part).await;
        }
        last_write = Instant::now();
        batch.clear();
    }
}

/// The least time SQLite's write turn is left to others between two writes
/// that are not full: under a stream of attempts, writes of a few attempts
/// each came one after the other and held the turn most of the time, so
/// ingest waited for it (RELIABILITY.md, section 4). Fewer, larger writes
/// cost less in all. A write after a quiet moment starts at once.
fn gap(db: &Db) -> Duration {
    if db.is_postgres() {
        Duration::ZERO
    } else {
        Duration::from_millis(10)
    }
}

/// Adds what arrives to `batch` until it is full or `until` passes.
async fn gather(
    inbox: &mut mpsc::Receiver<AttemptRecord>,
    batch: &mut Vec<AttemptRecord>,
    max: usize,
    until: Instant,
) {
    let until = tokio::time::Instant::from_std(until);
    while batch.len() < max {
        match tokio::time::timeout_at(until, inbox.recv_many(batch, max - batch.len())).await {
            Ok(n) if n > 0 => {}
            _ => return,
        }
    }
}

/// What one transaction writes at most, besides the count: a batch of
/// attempts that each kept a 64 KiB answer is 8 MB at 128.
const MAX_BYTES: usize = 1024 * 1024;

/// `batch` in runs of at most `max_bytes` of stored text (at least one attempt each).
fn by_size(batch: &[AttemptRecord], max_bytes: usize) -> Vec<&[AttemptRecord]> {
    let mut parts = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, record) in batch.iter().enumerate() {
        let size = record.stored_bytes();
        if i > start && bytes + size > max_bytes {
            parts.push(&batch[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < batch.len() {
        parts.push(&batch[start..]);
    }
    parts
}

/// Retries until the database takes the batch: nothing recorded is dropped.
async fn write(db: &Db, queue: &Queue, owner: &str, batch: &[AttemptRecord]) {
    let mut delay = Duration::from_millis(100);
    loop {
        let started = Instant::now();
        match deliveries::record(db, owner, batch).await {
            Ok(updated) => {
                // How long the write held SQLite's write turn, which ingest waits for.
                tracing::debug!(
                    attempts = batch.len(),
                    ms = started.elapsed().as_millis() as u64,
                    "recorded attempts"
                );
                for record in batch {
                    queue.metrics.outcome(record.status);
                }
                if updated < batch.len() as u64 {
                    tracing::warn!(
                        lost = batch.len() as u64 - updated,
                        "some leases had expired; another process retries those deliveries"
                    );
                }
                // A retry to schedule, or slots freed while due deliveries
                // wait for one: look at the queue again. Otherwise a claim
                // would find nothing (ingest hands first attempts over).
                if queue.slot_bound.load(Relaxed)
                    || batch.iter().any(AttemptRecord::schedules_retry)
                {
                    queue.wake.notify_one();
                }
                return;
            }
            Err(err) => {
                tracing::error!(error = %err, attempts = batch.len(), "cannot record attempts; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::DeliveryStatus;

    fn record(body_bytes: usize) -> AttemptRecord {
        AttemptRecord {
            delivery_id: 1,
            destination_id: 1,
            number: 1,
            started_at: 0,
            duration_ms: 0,
            request_headers: String::new(),
            response_status: Some(200),
            response_headers: None,
            response_body: Some("x".repeat(body_bytes)),
            error_kind: None,
            error_message: None,
            status: DeliveryStatus::Delivered,
            failures: 0,
            next_attempt_at: None,
            summary: String::new(),
        }
    }

    #[test]
    fn large_answers_are_written_in_several_transactions() {
        let batch: Vec<_> = (0..10).map(|_| record(300)).collect();
        let sizes: Vec<usize> = by_size(&batch, 1000).iter().map(|p| p.len()).collect();
        assert_eq!(sizes, [3, 3, 3, 1]);
        let small: Vec<_> = (0..10).map(|_| record(10)).collect();
        assert_eq!(by_size(&small, 1000).len(), 1, "small attempts stay in one");
        let huge = [record(5000), record(5000)];
        let sizes: Vec<usize> = by_size(&huge, 1000).iter().map(|p| p.len()).collect();
        assert_eq!(sizes, [1, 1], "one attempt past the bound still goes alone");
        assert!(by_size(&[], 1000).is_empty());
    }
}
