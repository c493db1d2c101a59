//! Writes finished attempts in batches: one transaction for many attempts is
//! what lets SQLite keep up, and every attempt is stored before its retry
//! can be claimed.

use super::Queue;
use crate::store::deliveries::{self, AttemptRecord};
use crate::store::Db;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

const MAX_BATCH: usize = 512;

pub async fn run(
    db: Db,
    queue: Arc<Queue>,
    owner: Arc<str>,
    mut inbox: mpsc::Receiver<AttemptRecord>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while inbox.recv_many(&mut batch, MAX_BATCH).await > 0 {
        write(&db, &queue, &owner, &batch).await;
        batch.clear();
    }
}

/// Retries until the database takes the batch: nothing recorded is dropped.
async fn write(db: &Db, queue: &Queue, owner: &str, batch: &[AttemptRecord]) {
    let mut delay = Duration::from_millis(100);
    loop {
        match deliveries::record(db, owner, batch).await {
            Ok(updated) => {
                for record in batch {
                    queue.metrics.outcome(record.status);
                }
                if updated < batch.len() as u64 {
                    tracing::warn!(
                        lost = batch.len() as u64 - updated,
                        "some leases had expired; another process retries those deliveries"
                    );
                }
                // Freed per-destination slots and new retries: look at the queue again.
                queue.wake.notify_one();
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
