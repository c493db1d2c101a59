//! Postgres `LISTEN` on `NOTIFY_CHANNEL`: other processes' new work wakes this one.

use super::Queue;
use crate::store::deliveries::NOTIFY_CHANNEL;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub async fn run(pool: PgPool, queue: Arc<Queue>, mut stopped: watch::Receiver<bool>) {
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(err) = listener.listen(NOTIFY_CHANNEL).await {
                    tracing::warn!(error = %err, "LISTEN failed; polling until it works");
                } else {
                    loop {
                        tokio::select! {
                            received = listener.recv() => match received {
                                Ok(_) => queue.wake.notify_one(),
                                Err(err) => {
                                    tracing::warn!(error = %err, "lost the LISTEN connection");
                                    break;
                                }
                            },
                            _ = stopped.changed() => return,
                        }
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "cannot open a LISTEN connection"),
        }
        // A wake-up may have been missed while disconnected.
        queue.wake.notify_one();
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(2)) => {},
            _ = stopped.changed() => return,
        }
    }
}
