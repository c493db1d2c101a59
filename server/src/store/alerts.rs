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

/// `INSERT_DELIVERIES` with the lease ingest may give a first attempt.
pub(super) const INSERT_LEASED_DELIVERIES: &str =
    "INSERT INTO deliveries (alert_id, destination_id, msg_id, status, \
    next_attempt_at, created_at, updated_at, rule_id, event_type, asset_name, lease_owner, lease_until) ";

pub(super) const ALERT_COLUMNS: &str = "id, public_id, rule_name, alert_type, status, created_at";

/// Stores every batch's events with their alerts and deliveries
/// (`store/ingest.rs`).
pub use super::ingest::ingest;

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
