//! Postgres `LISTEN alertwire_deliveries`: other processes' new work wakes this one.

use crate::services::Services;
use crate::store::Db;
use sqlx::postgres::PgListener;
use std::time::Duration;
use tokio::sync::watch;

pub const CHANNEL: &str = "alertwire_deliveries";

pub async fn run(services: Services, mut stopped: watch::Receiver<bool>) {
    let Db::Postgres(pool) = services.db().clone() else {
        return;
    };
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(err) = listener.listen(CHANNEL).await {
                    tracing::warn!(error = %err, "LISTEN failed; polling until it works");
                } else {
                    loop {
                        tokio::select! {
                            received = listener.recv() => match received {
                                Ok(_) => services.queue().wake.notify_one(),
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
        services.queue().wake.notify_one();
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(2)) => {},
            _ = stopped.changed() => return,
        }
    }
}
