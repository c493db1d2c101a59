//! Events, alerts and their deliveries, written together in one transaction.

use super::deliveries::Claimed;
use super::{id_list, on_db, Db, StoreResult};
use app::domain::DeliveryStatus;

/// An event ready to store, with the alerts it raises.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: String,
    pub qualified_name: String,
    pub asset_type: String,
    pub change_type: Option<String>,
    pub details: String,
    pub occurred_at: i64,
    pub dedup_key: Option<String>,
    pub alerts: Vec<NewAlert>,
}

#[derive(Debug, Clone)]
pub struct NewAlert {
    pub public_id: String,
    pub rule_id: i64,
    pub rule_name: String,
    pub alert_type: String,
    pub payload: String,
    pub deliveries: Vec<NewDelivery>,
}

#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub destination: i64,
    /// Its `webhook-id`.
    pub msg_id: String,
    /// Stored already leased to the `Lease` owner (handed to its engine).
    pub leased: bool,
}

/// The lease a write gives its deliveries marked `leased`.
#[derive(Debug, Clone, Copy)]
pub struct Lease<'a> {
    pub owner: &'a str,
    pub until: i64,
}

/// What a write stored: each batch's outcome, in order, and the leased
/// deliveries with their place among all the write's deliveries (counting
/// those of duplicate events, which are not stored).
pub struct Ingested {
    pub stored: Vec<Vec<Stored>>,
    pub leased: Vec<(usize, Claimed)>,
}

#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct AlertRow {
    pub id: i64,
    pub public_id: String,
    pub rule_name: String,
    pub alert_type: String,
    pub status: String,
    pub created_at: i64,
}

/// An alert joined with its event, for the Alerts list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AlertListRow {
    pub id: i64,
    pub public_id: String,
    pub rule_name: String,
    pub alert_type: String,
    pub status: String,
    pub created_at: i64,
    pub event_type: String,
    pub change_type: Option<String>,
    pub qualified_name: String,
    pub asset_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    Created(Vec<AlertRow>),
    /// The dedup key was seen in the last 24 hours: the first event's alerts.
    Duplicate(Vec<AlertRow>),
}

#[derive(Debug, Clone, Copy)]
pub struct IngestTimes {
    pub now: i64,
    pub first_attempt_at: i64,
    pub dedup_until: i64,
}

/// One ingest request's events, stored all or nothing with the others of
/// its group (`services::ingest_groups`).
#[derive(Debug, Clone)]
pub struct IngestBatch {
    pub events: Vec<NewEvent>,
    pub times: IngestTimes,
}

/// The head of a multi-row insert of new deliveries. The rule, event type
/// and asset name are copies of the alert's and event's, kept on the
/// delivery for the Deliveries tab's filters (migration 0014).
pub(super) const INSERT_DELIVERIES: &str =
    "INSERT INTO deliveries (alert_id, destination_id, msg_id, status, \
    next_attempt_at, created_at, updated_at, rule_id, event_type, asset_name) ";

/// One delivery to insert: its alert, destination, `webhook-id`, and the
/// alert's rule with the event's type and asset name.
struct DeliveryInsert<'a> {
    times: &'a IngestTimes,
    /// Its place among the write's deliveries, and whether it is leased.
    index: usize,
    leased: bool,
    alert: i64,
    destination: i64,
    msg: &'a str,
    rule: Option<i64>,
    event: (&'a str, &'a str),
}

/// `INSERT_DELIVERIES` with the lease ingest may give a first attempt.
const INSERT_LEASED_DELIVERIES: &str =
    "INSERT INTO deliveries (alert_id, destination_id, msg_id, status, \
    next_attempt_at, created_at, updated_at, rule_id, event_type, asset_name, lease_owner, lease_until) ";

const ALERT_COLUMNS: &str = "id, public_id, rule_name, alert_type, status, created_at";
/// Rows per multi-row INSERT, well under both engines' parameter limits.
const DELIVERY_CHUNK: usize = 500;

/// Stores every batch's events with their alerts and deliveries, all or
/// nothing, in one transaction. With a `lease`, deliveries marked `leased`
/// are stored leased to it.
pub async fn ingest(
    db: &Db,
    batches: &[&IngestBatch],
    lease: Option<Lease<'_>>,
) -> StoreResult<Ingested> {
    let _turn = db.write_turn().await;
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let mut out = Vec::with_capacity(batches.len());
        let mut deliveries: Vec<DeliveryInsert> = Vec::new();
        let mut planned = 0;
        for batch in batches {
            let mut stored = Vec::with_capacity(batch.events.len());
            for event in &batch.events {
                let t = &batch.times;
                let mut index = planned;
                planned += event.alerts.iter().map(|a| a.deliveries.len()).sum::<usize>();
                if let Some(key) = &event.dedup_key {
                    let seen: Option<(i64,)> = sqlx::query_as(
                        "SELECT event_id FROM dedup_keys WHERE dedup_key = $1 AND expires_at > $2")
                        .bind(key).bind(t.now).fetch_optional(&mut *tx).await?;
                    if let Some((first,)) = seen {
                        let alerts = sqlx::query_as(&format!(
                            "SELECT {ALERT_COLUMNS} FROM alerts WHERE event_id = $1 ORDER BY id"))
                            .bind(first).fetch_all(&mut *tx).await?;
                        stored.push(Stored::Duplicate(alerts));
                        continue;
                    }
                }
                let (event_id,): (i64,) = sqlx::query_as(
                    "INSERT INTO events (type, qualified_name, asset_type, change_type, details, occurred_at, dedup_key, received_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                    .bind(&event.kind).bind(&event.qualified_name).bind(&event.asset_type).bind(&event.change_type)
                    .bind(&event.details).bind(event.occurred_at).bind(&event.dedup_key).bind(t.now)
                    .fetch_one(&mut *tx).await?;
                if let Some(key) = &event.dedup_key {
                    // Another transaction may have taken the key since the check: then this event is the duplicate.
                    let won: Option<(i64,)> = sqlx::query_as(
                        "INSERT INTO dedup_keys (dedup_key, event_id, expires_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (dedup_key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at \
                         WHERE dedup_keys.expires_at <= $4 RETURNING event_id")
                        .bind(key).bind(event_id).bind(t.dedup_until).bind(t.now)
                        .fetch_optional(&mut *tx).await?;
                    if won.is_none() {
                        sqlx::query("DELETE FROM events WHERE id = $1").bind(event_id).execute(&mut *tx).await?;
                        let alerts = sqlx::query_as(&format!(
                            "SELECT {ALERT_COLUMNS} FROM alerts WHERE event_id = \
                             (SELECT event_id FROM dedup_keys WHERE dedup_key = $1) ORDER BY id"))
                            .bind(key).fetch_all(&mut *tx).await?;
                        stored.push(Stored::Duplicate(alerts));
                        continue;
                    }
                }
                let mut created = Vec::with_capacity(event.alerts.len());
                let copies = (event.kind.as_str(), event.qualified_name.as_str());
                for alert in &event.alerts {
                    let row: AlertRow = sqlx::query_as(&format!(
                        "INSERT INTO alerts (public_id, event_id, rule_id, rule_name, alert_type, status, payload, created_at) \
                         VALUES ($1, $2, $3, $4, $5, 'triggered', $6, $7) RETURNING {ALERT_COLUMNS}"))
                        .bind(&alert.public_id).bind(event_id).bind(alert.rule_id).bind(&alert.rule_name)
                        .bind(&alert.alert_type).bind(&alert.payload).bind(t.now)
                        .fetch_one(&mut *tx).await?;
                    for d in &alert.deliveries {
                        deliveries.push(DeliveryInsert {
                            times: t, index, leased: d.leased && lease.is_some(), alert: row.id,
                            destination: d.destination, msg: &d.msg_id, rule: Some(alert.rule_id), event: copies,
                        });
                        index += 1;
                    }
                    created.push(row);
                }
                stored.push(Stored::Created(created));
            }
            out.push(stored);
        }
        let mut leased = Vec::new();
        for chunk in deliveries.chunks(DELIVERY_CHUNK) {
            let mut insert = sqlx::QueryBuilder::new(INSERT_LEASED_DELIVERIES);
            insert.push_values(chunk, |mut row, d| {
                let (owner, until) = match lease {
                    Some(l) if d.leased => (Some(l.owner), Some(l.until)),
                    _ => (None, None),
                };
                row.push_bind(d.alert).push_bind(d.destination).push_bind(d.msg).push("'pending'")
                    .push_bind(d.times.first_attempt_at).push_bind(d.times.now).push_bind(d.times.now)
                    .push_bind(d.rule).push_bind(d.event.0).push_bind(d.event.1)
                    .push_bind(owner).push_bind(until);
            });
            let persistent = super::keep_prepared(chunk.len(), DELIVERY_CHUNK);
            if chunk.iter().any(|d| d.leased) {
                insert.push(" RETURNING id, msg_id");
                let ids: Vec<(i64, String)> = insert.build_query_as().persistent(persistent).fetch_all(&mut *tx).await?;
                let ids: std::collections::HashMap<&str, i64> = ids.iter().map(|(id, msg)| (msg.as_str(), *id)).collect();
                leased.extend(chunk.iter().filter(|d| d.leased).filter_map(|d| {
                    ids.get(d.msg).map(|id| (d.index, Claimed {
                        id: *id, alert_id: d.alert, destination_id: d.destination,
                        msg_id: d.msg.to_owned(), attempts: 0, failures: 0,
                    }))
                }));
            } else {
                insert.build().persistent(persistent).execute(&mut *tx).await?;
            }
        }
        if deliveries.iter().any(|d| !d.leased) && db.is_postgres() {
            // Delivered to listeners when the transaction commits.
            sqlx::query(super::deliveries::NOTIFY_SQL).bind(super::deliveries::NOTIFY_CHANNEL).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Ingested { stored: out, leased })
    })
}

pub async fn recent(db: &Db, before: Option<i64>, limit: i64) -> StoreResult<Vec<AlertListRow>> {
    let sql = "SELECT a.id, a.public_id, a.rule_name, a.alert_type, a.status, a.created_at, \
               e.type AS event_type, e.change_type, e.qualified_name, e.asset_type \
               FROM alerts a JOIN events e ON e.id = a.event_id \
               WHERE ($1 IS NULL OR a.id < $1) ORDER BY a.id DESC LIMIT $2";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(before).bind(limit).fetch_all(pool).await)?)
}

/// The alerts raised for one asset, newest first.
pub async fn by_asset(
    db: &Db,
    qualified_name: &str,
    before: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<AlertListRow>> {
    if super::unstorable(qualified_name) {
        return Ok(Vec::new());
    }
    let sql = "SELECT a.id, a.public_id, a.rule_name, a.alert_type, a.status, a.created_at, \
               e.type AS event_type, e.change_type, e.qualified_name, e.asset_type \
               FROM events e JOIN alerts a ON a.event_id = e.id \
               WHERE e.qualified_name = $1 AND ($2 IS NULL OR a.id < $2) ORDER BY a.id DESC LIMIT $3";
    Ok(
        on_db!(db, pool => sqlx::query_as(sql).bind(qualified_name).bind(before).bind(limit).fetch_all(pool).await)?,
    )
}

pub async fn by_public_id(db: &Db, public_id: &str) -> StoreResult<Option<AlertListRow>> {
    if super::unstorable(public_id) {
        return Ok(None);
    }
    let sql = "SELECT a.id, a.public_id, a.rule_name, a.alert_type, a.status, a.created_at, \
               e.type AS event_type, e.change_type, e.qualified_name, e.asset_type \
               FROM alerts a JOIN events e ON e.id = a.event_id WHERE a.public_id = $1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(public_id).fetch_optional(pool).await)?)
}

/// One delivery of an alert, as the alert pages list them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryBriefRow {
    pub alert_id: i64,
    pub id: i64,
    pub destination_name: String,
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
    pub attempts: i64,
}

/// The deliveries of the given alerts, oldest first.
pub async fn delivery_briefs(db: &Db, alert_ids: &[i64]) -> StoreResult<Vec<DeliveryBriefRow>> {
    if alert_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT d.alert_id, d.id, t.name AS destination_name, d.status, d.attempts FROM deliveries d \
         JOIN destinations t ON t.id = d.destination_id WHERE d.alert_id IN ({}) ORDER BY d.id",
        id_list(alert_ids)
    );
    Ok(on_db!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
}
