//! Events, alerts and their deliveries, written together in one transaction.

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
    /// Destination id and `webhook-id` of each delivery.
    pub deliveries: Vec<(i64, String)>,
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

pub struct IngestTimes {
    pub now: i64,
    pub first_attempt_at: i64,
    pub dedup_until: i64,
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
    alert: i64,
    destination: i64,
    msg: &'a str,
    rule: Option<i64>,
    event: (&'a str, &'a str),
}

const ALERT_COLUMNS: &str = "id, public_id, rule_name, alert_type, status, created_at";
/// Rows per multi-row INSERT, well under both engines' parameter limits.
const DELIVERY_CHUNK: usize = 500;

/// Stores every event with its alerts and deliveries, all or nothing.
pub async fn ingest(db: &Db, events: &[NewEvent], t: &IngestTimes) -> StoreResult<Vec<Stored>> {
    let _turn = db.write_turn().await;
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let mut out = Vec::with_capacity(events.len());
        let mut deliveries: Vec<DeliveryInsert> = Vec::new();
        for event in events {
            if let Some(key) = &event.dedup_key {
                let seen: Option<(i64,)> = sqlx::query_as(
                    "SELECT event_id FROM dedup_keys WHERE dedup_key = $1 AND expires_at > $2")
                    .bind(key).bind(t.now).fetch_optional(&mut *tx).await?;
                if let Some((first,)) = seen {
                    let alerts = sqlx::query_as(&format!(
                        "SELECT {ALERT_COLUMNS} FROM alerts WHERE event_id = $1 ORDER BY id"))
                        .bind(first).fetch_all(&mut *tx).await?;
                    out.push(Stored::Duplicate(alerts));
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
                    out.push(Stored::Duplicate(alerts));
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
                deliveries.extend(alert.deliveries.iter().map(|(destination, msg)| DeliveryInsert {
                    alert: row.id, destination: *destination, msg, rule: Some(alert.rule_id), event: copies,
                }));
                created.push(row);
            }
            out.push(Stored::Created(created));
        }
        for chunk in deliveries.chunks(DELIVERY_CHUNK) {
            let mut insert = sqlx::QueryBuilder::new(INSERT_DELIVERIES);
            insert.push_values(chunk, |mut row, d| {
                row.push_bind(d.alert).push_bind(d.destination).push_bind(d.msg).push("'pending'")
                    .push_bind(t.first_attempt_at).push_bind(t.now).push_bind(t.now)
                    .push_bind(d.rule).push_bind(d.event.0).push_bind(d.event.1);
            });
            insert.build().execute(&mut *tx).await?;
        }
        if !deliveries.is_empty() && db.is_postgres() {
            // Delivered to listeners when the transaction commits.
            sqlx::query(super::deliveries::NOTIFY_SQL).bind(super::deliveries::NOTIFY_CHANNEL).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(out)
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
    let sql = "SELECT a.id, a.public_id, a.rule_name, a.alert_type, a.status, a.created_at, \
               e.type AS event_type, e.change_type, e.qualified_name, e.asset_type \
               FROM events e JOIN alerts a ON a.event_id = e.id \
               WHERE e.qualified_name = $1 AND ($2 IS NULL OR a.id < $2) ORDER BY a.id DESC LIMIT $3";
    Ok(
        on_db!(db, pool => sqlx::query_as(sql).bind(qualified_name).bind(before).bind(limit).fetch_all(pool).await)?,
    )
}

pub async fn by_public_id(db: &Db, public_id: &str) -> StoreResult<Option<AlertListRow>> {
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
