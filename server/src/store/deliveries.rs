//! The delivery queue: claims with leases, attempt records, and what the
//! Deliveries tab and API read.
//!
//! SQL text names statuses as literals (`status = 'pending'`): the partial
//! indexes are defined with them, and a bound parameter would not use those
//! indexes. `DeliveryStatus` is the vocabulary everywhere else; a test keeps
//! it equal to the schema's CHECK constraint.

use super::health::{self, upsert_stats};
use super::{affected, id_list, on_db, Db, StoreResult};
use crate::clock::now_ms;
use crate::domain::delivery_filter::{prefix_upper_bound, Search, ValidFilter};
use app::domain::{DeliveryState, DeliveryStatus};

/// The Postgres channel that wakes every process's engine when work is queued.
pub const NOTIFY_CHANNEL: &str = "alertwire_deliveries";
/// Postgres only, with `NOTIFY_CHANNEL` bound; inside a transaction it is sent at commit.
pub(crate) const NOTIFY_SQL: &str = "SELECT pg_notify($1, '')";

/// A delivery leased to this process for one attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub alert_id: i64,
    pub destination_id: i64,
    pub msg_id: String,
    pub attempts: i64,
    pub failures: i64,
}

pub struct ClaimLimits {
    pub batch: i64,
    pub per_destination: i64,
    /// Destinations with attempts in flight in this process, or failing, and how many more each may take.
    pub room: Vec<(i64, i64)>,
}

/// Leases up to `batch` due deliveries of enabled destinations: per
/// destination its first attempts before its retries, oldest first, and never
/// more than `per_destination` in flight in this process. Each
/// destination is looked at separately, so one with a long backlog cannot
/// crowd the others out of a claim; across destinations the least busy come
/// first (`rank - room`: attempts in flight plus place in its own queue), so
/// endpoints that hang with all their slots taken never delay one that
/// answers. On Postgres, rows another process is claiming at this moment are
/// skipped.
pub async fn claim(
    db: &Db,
    owner: &str,
    lease_until: i64,
    now: i64,
    limits: &ClaimLimits,
) -> StoreResult<Vec<Claimed>> {
    let lock = if db.is_postgres() {
        "FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let pick = |retry: &str| {
        format!(
            "SELECT z.id, z.destination_id, z.next_attempt_at FROM deliveries z \
             WHERE z.destination_id = t.id AND z.status = 'pending' AND z.retry = {retry} \
               AND z.next_attempt_at <= $3 AND (z.lease_until IS NULL OR z.lease_until <= $3) \
             ORDER BY z.next_attempt_at LIMIT $4"
        )
    };
    // Destinations with no room left are not looked at: a failing one (one
    // attempt at a time) may have its whole backlog due, and every claim
    // would read and rank it inside the write turn ingest waits for.
    let full = if db.is_postgres() {
        "json_array_elements_text(CAST($7 AS json))"
    } else {
        "json_each($7)"
    };
    // The same per-destination pick: a LATERAL join on Postgres, a correlated
    // IN on SQLite (which has no LATERAL); both run once per destination.
    let due = |retry: &str| {
        if db.is_postgres() {
            format!(
                "SELECT y.id, y.destination_id, y.next_attempt_at, {retry} AS retry FROM destinations t \
                 CROSS JOIN LATERAL ({}) y WHERE t.enabled AND t.deleted_at IS NULL \
                   AND t.id NOT IN (SELECT CAST(f.value AS BIGINT) FROM {full} f)",
                pick(retry)
            )
        } else {
            format!(
                "SELECT y.id, y.destination_id, y.next_attempt_at, {retry} AS retry FROM destinations t \
                 JOIN deliveries y ON y.id IN (SELECT id FROM ({}) p) WHERE t.enabled AND t.deleted_at IS NULL \
                   AND t.id NOT IN (SELECT CAST(f.value AS BIGINT) FROM {full} f)",
                pick(retry)
            )
        }
    };
    // The room goes in as one JSON object bound to $6 (`{"destination": room}`),
    // so the text never changes and its compiled statement is reused. Written
    // into the text, as a CASE with an arm per destination, a claim with 1,000
    // destinations in flight compiled for about 8 ms on each wake-up, inside
    // SQLite's write turn that ingest waits for (RELIABILITY.md, section 4).
    let rooms = if db.is_postgres() {
        "json_each_text(CAST($6 AS json))"
    } else {
        "json_each($6)"
    };
    let sql = format!(
        "UPDATE deliveries SET lease_owner = $1, lease_until = $2 WHERE id IN ( \
           SELECT q.id FROM deliveries q WHERE q.id IN ( \
             SELECT r.id FROM ( \
               SELECT c.id, c.retry, c.next_attempt_at, COALESCE(m.room, $4) AS room, \
                 ROW_NUMBER() OVER (PARTITION BY c.destination_id ORDER BY c.retry, c.next_attempt_at, c.id) AS rank \
               FROM ({first} UNION ALL {retries}) c \
               LEFT JOIN (SELECT CAST(j.key AS BIGINT) AS destination_id, CAST(j.value AS BIGINT) AS room \
                          FROM {rooms} j) m ON m.destination_id = c.destination_id \
             ) r WHERE r.rank <= r.room ORDER BY r.retry, r.rank - r.room, r.next_attempt_at, r.id LIMIT $5 \
           ) AND q.status = 'pending' AND (q.lease_until IS NULL OR q.lease_until <= $3) {lock} \
         ) RETURNING id, alert_id, destination_id, msg_id, attempts, failures",
        first = due("FALSE"),
        retries = due("TRUE"),
    );
    let (room, full) = room_json(&limits.room);
    // PostgreSQL plans each claim for its own values, as before the text was
    // fixed: a generic plan of a cached statement may not know how few are due.
    let cached = !db.is_postgres();
    let _turn = db.write_turn().await;
    Ok(on_db!(db, pool => sqlx::query_as(&sql).persistent(cached)
        .bind(owner).bind(lease_until).bind(now).bind(limits.per_destination).bind(limits.batch)
        .bind(&room).bind(&full)
        .fetch_all(pool).await)?)
}

/// Each destination's room as the claim reads it: `{"12":3}` for those with
/// some, `[40]` for those with none.
fn room_json(room: &[(i64, i64)]) -> (String, String) {
    let (some, none): (Vec<_>, Vec<_>) = room.iter().partition(|(_, n)| *n > 0);
    let pairs: Vec<String> = some.iter().map(|(d, n)| format!("\"{d}\":{n}")).collect();
    let full: Vec<String> = none.iter().map(|(d, _)| d.to_string()).collect();
    (
        format!("{{{}}}", pairs.join(",")),
        format!("[{}]", full.join(",")),
    )
}

/// The webhook bodies of the given alerts.
pub async fn payloads(db: &Db, alert_ids: &[i64]) -> StoreResult<Vec<(i64, String)>> {
    if alert_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, payload FROM alerts WHERE id IN ({})",
        id_list(alert_ids)
    );
    Ok(on_db!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
}

/// The earliest time a pending delivery becomes due after `now`.
pub async fn next_due_after(db: &Db, now: i64) -> StoreResult<Option<i64>> {
    let (at,): (Option<i64>,) = on_db!(db, pool => sqlx::query_as(
        "SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending' AND next_attempt_at > $1")
        .bind(now).fetch_one(pool).await)?;
    Ok(at)
}

/// Deliveries waiting for an attempt or a retry (`pending`), for load shedding.
pub async fn count_queued(db: &Db) -> StoreResult<i64> {
    let (n,): (i64,) = on_db!(db, pool => sqlx::query_as(
        "SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
        .fetch_one(pool).await)?;
    Ok(n)
}

/// One finished attempt and the state it leaves its delivery in.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub delivery_id: i64,
    pub destination_id: i64,
    pub number: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    pub request_headers: String,
    pub response_status: Option<i64>,
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
    /// `Pending` when a retry is scheduled.
    pub status: DeliveryStatus,
    pub failures: i64,
    pub next_attempt_at: Option<i64>,
    /// For the destination's "last result".
    pub summary: String,
}

impl AttemptRecord {
    /// The text it stores, about: what sizes a write.
    pub fn stored_bytes(&self) -> usize {
        let optional = |text: &Option<String>| text.as_ref().map_or(0, String::len);
        self.request_headers.len()
            + optional(&self.response_headers)
            + optional(&self.response_body)
            + optional(&self.error_message)
    }

    /// Whether it schedules a retry (the delivery stays pending).
    pub fn schedules_retry(&self) -> bool {
        self.status == DeliveryStatus::Pending
    }
}

/// Rows a statement of `record` writes at most (see `keep_prepared`).
const ATTEMPT_ROWS: usize = 200;
const HEALTH_ROWS: usize = 500;

/// Writes a batch of attempts and their deliveries' new states in one
/// transaction; each delivery is updated only while this process holds its
/// lease. Returns how many deliveries were updated.
pub async fn record(db: &Db, owner: &str, records: &[AttemptRecord]) -> StoreResult<u64> {
    let now = now_ms();
    let _turn = db.write_turn().await;
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        let mut updated = 0;
        for chunk in records.chunks(ATTEMPT_ROWS) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO attempts (delivery_id, number, started_at, duration_ms, request_headers, response_status, \
                 response_headers, response_body, error_kind, error_message, next_attempt_at) ");
            insert.push_values(chunk, |mut row, r| {
                row.push_bind(r.delivery_id).push_bind(r.number).push_bind(r.started_at).push_bind(r.duration_ms)
                    .push_bind(&r.request_headers).push_bind(r.response_status).push_bind(&r.response_headers)
                    .push_bind(&r.response_body).push_bind(&r.error_kind).push_bind(&r.error_message)
                    .push_bind(r.next_attempt_at);
            });
            insert.build().persistent(super::keep_prepared(chunk.len(), ATTEMPT_ROWS)).execute(&mut *tx).await?;
        }
        // One statement per chunk: every round trip to SQLite's worker thread costs more than the update.
        let values_alias = super::values_alias(db, 8);
        for chunk in records.chunks(500) {
            let mut update = sqlx::QueryBuilder::new(
                "UPDATE deliveries SET status = v.column2, attempts = v.column3, failures = v.column4, retry = v.column5, \
                 next_attempt_at = v.column6, last_status = v.column7, last_error = v.column8, \
                 lease_owner = NULL, lease_until = NULL, updated_at = ");
            update.push_bind(now).push(" FROM (");
            update.push_values(chunk, |mut row, r| {
                row.push_bind(r.delivery_id).push_bind(r.status.as_str()).push_bind(r.number).push_bind(r.failures)
                    .push_bind(r.failures > 0).push_bind(r.next_attempt_at).push_bind(r.response_status)
                    .push_bind(&r.error_message);
            });
            // The ids again as literals bound the plan: without statistics
            // (a new database, or autovacuum off) PostgreSQL estimated one
            // pending row and joined every pending row to every VALUES row
            // (1.1 to 1.3 s for 500 records with 8,000 in flight; now at most
            // the batch squared). Its own text each time, so not cached.
            let ids: Vec<i64> = chunk.iter().map(|r| r.delivery_id).collect();
            update.push(")").push(&values_alias)
                .push(" WHERE deliveries.id = v.column1 AND deliveries.id IN (").push(id_list(&ids))
                .push(") AND deliveries.status = 'pending' AND deliveries.lease_owner = ")
                .push_bind(owner);
            updated += update.build().persistent(false).execute(&mut *tx).await?.rows_affected();
        }
        // Health: the hourly aggregates, then per destination its "last result"
        // (the latest attempt's) with the failure count and last error.
        upsert_stats!(tx, &health::batch_counts(records))?;
        let mut latest = std::collections::BTreeMap::new();
        for r in records {
            latest.insert(r.destination_id, r);
        }
        let changes: Vec<_> = health::health_changes(records).into_iter()
            .filter_map(|(destination, change)| Some((latest.get(&destination)?, change)))
            .collect();
        // Nine parameters a row: 500 rows stay far below both engines' limits.
        for chunk in changes.chunks(HEALTH_ROWS) {
            let mut update = sqlx::QueryBuilder::new(health::DESTINATIONS_UPDATE_HEAD);
            update.push_values(chunk, |mut row, (r, change)| {
                let (error, error_at) = change.last_error.clone().map_or((None, None), |(m, at)| (Some(m), Some(at)));
                row.push_bind(r.destination_id).push_bind(r.status == DeliveryStatus::Delivered).push_bind(&r.summary)
                    .push_bind(r.started_at + r.duration_ms).push_bind(change.reset).push_bind(change.failures)
                    .push_bind(error).push_bind(error_at).push_bind(change.last_attempt_at);
            });
            update.push(")").push(super::values_alias(db, 9)).push(" WHERE destinations.id = v.column1");
            update.build().persistent(super::keep_prepared(chunk.len(), HEALTH_ROWS)).execute(&mut *tx).await?;
        }
        // `failing_since`, for the auto-disable rule: one statement for the batch.
        let failing = failing_since_changes(records);
        let mut update = sqlx::QueryBuilder::new(
            "UPDATE destinations SET failing_since = CASE WHEN v.column2 THEN v.column3 \
             ELSE COALESCE(destinations.failing_since, v.column3) END FROM (");
        update.push_values(&failing, |mut row, (destination, change)| {
            let (reset, at) = change.as_values();
            row.push_bind(*destination).push_bind(reset).push_bind(at);
        });
        // Rows that would not change are left alone: no write when all is well.
        update.push(")").push(super::values_alias(db, 3)).push(
            " WHERE destinations.id = v.column1 AND CASE WHEN v.column2 \
             THEN (v.column3 IS NOT NULL OR destinations.failing_since IS NOT NULL) \
             ELSE destinations.failing_since IS NULL END");
        update.build().persistent(super::keep_prepared(failing.len(), 0)).execute(&mut *tx).await?;
        // A retry scheduled: other processes may claim it when due. (Slots
        // are each process's own, so the ones freed here are no news to
        // them; waking every process after every write cost each a claim.)
        if db.is_postgres() && records.iter().any(AttemptRecord::schedules_retry) {
            sqlx::query(NOTIFY_SQL).bind(NOTIFY_CHANNEL).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(updated)
    })
}

/// What a batch of attempts does to a destination's `failing_since`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailingSince {
    /// Only failures: keep the stored time, or start at the earliest of them.
    Continue(i64),
    /// The last success came before these failures: they start a new stretch.
    Restart(i64),
    /// The latest attempt succeeded.
    Clear,
}

impl FailingSince {
    /// `(reset, time)` as the statement takes them.
    fn as_values(self) -> (bool, Option<i64>) {
        match self {
            FailingSince::Continue(at) => (false, Some(at)),
            FailingSince::Restart(at) => (true, Some(at)),
            FailingSince::Clear => (true, None),
        }
    }
}

/// Per destination of the batch, in the order the attempts finished.
fn failing_since_changes(records: &[AttemptRecord]) -> Vec<(i64, FailingSince)> {
    let mut changes: std::collections::BTreeMap<i64, FailingSince> = Default::default();
    for r in records {
        let ok = r.status == DeliveryStatus::Delivered;
        let change = changes.get(&r.destination_id).copied();
        let next = match (ok, change) {
            (true, _) => FailingSince::Clear,
            (false, None) => FailingSince::Continue(r.started_at),
            (false, Some(FailingSince::Continue(at))) => {
                FailingSince::Continue(at.min(r.started_at))
            }
            (false, Some(FailingSince::Clear)) => FailingSince::Restart(r.started_at),
            (false, Some(FailingSince::Restart(at))) => FailingSince::Restart(at.min(r.started_at)),
        };
        changes.insert(r.destination_id, next);
    }
    changes.into_iter().collect()
}

/// Gives back the leases this process still holds (at shutdown).
pub async fn release(db: &Db, owner: &str) -> StoreResult<u64> {
    Ok(affected!(db, pool => sqlx::query(
        "UPDATE deliveries SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1 AND status = 'pending'")
        .bind(owner).execute(pool).await)?)
}

/// Gives back the leases of claimed deliveries this process could not start
/// (ingest took their room meanwhile), so the next claim can take them.
pub async fn give_back(db: &Db, owner: &str, ids: &[i64]) -> StoreResult<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "UPDATE deliveries SET lease_owner = NULL, lease_until = NULL \
         WHERE lease_owner = $1 AND status = 'pending' AND id IN ({})",
        id_list(ids)
    );
    let _turn = db.write_turn().await;
    Ok(affected!(db, pool => sqlx::query(&sql).persistent(false).bind(owner).execute(pool).await)?)
}

/// Queue figures for `/metrics`: due now, scheduled later, oldest due time.
pub async fn queue_depth(db: &Db, now: i64) -> StoreResult<(i64, i64, Option<i64>)> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN next_attempt_at <= $1 THEN 1 ELSE 0 END), 0), \
                COALESCE(SUM(CASE WHEN next_attempt_at > $1 THEN 1 ELSE 0 END), 0), \
                MIN(next_attempt_at) \
         FROM deliveries WHERE status = 'pending'")
        .bind(now).fetch_one(pool).await)?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub public_id: String,
    pub rule_name: String,
    pub alert_type: String,
    pub event_type: String,
    pub qualified_name: String,
    pub destination_id: i64,
    pub destination_name: String,
    pub msg_id: String,
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
    pub retry: bool,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const LIST_SQL: &str = "SELECT d.id, a.public_id, a.rule_name, a.alert_type, e.type AS event_type, e.qualified_name, \
    d.destination_id, t.name AS destination_name, d.msg_id, d.status, d.retry, d.attempts, d.next_attempt_at, \
    d.last_status, d.last_error, d.created_at, d.updated_at \
    FROM deliveries d JOIN alerts a ON a.id = d.alert_id JOIN events e ON e.id = a.event_id \
    JOIN destinations t ON t.id = d.destination_id";

/// A value bound into a statement built from a filter.
pub(super) enum Param {
    Int(i64),
    Text(String),
}

/// Binds the filter's values, in order, to a statement built by `filter_sql`.
macro_rules! bind_params {
    ($query:expr, $params:expr) => {{
        let mut query = $query;
        for p in $params {
            query = match p {
                $crate::store::deliveries::Param::Int(v) => query.bind(*v),
                $crate::store::deliveries::Param::Text(v) => query.bind(v.as_str()),
            };
        }
        query
    }};
}

pub(super) use bind_params;

/// The filter term whose index a query walks (see `filter_sql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lead {
    Search,
    Destination,
    Rule,
    EventType,
    Status,
    Nothing,
}

impl Lead {
    /// On SQLite the destination, rule and event type indexes hold no status
    /// (migration 0016), so a status other than `delivered` leads there: its
    /// index holds the other filter columns, and those statuses are few.
    fn of(db: &Db, f: &ValidFilter) -> Self {
        let narrow = !db.is_postgres();
        let rare_status = matches!(
            f.status,
            Some(DeliveryState::Pending | DeliveryState::Retrying | DeliveryState::Failed)
        );
        if f.search.is_some() {
            Lead::Search
        } else if narrow && rare_status {
            Lead::Status
        } else if f.destination_id.is_some() {
            Lead::Destination
        } else if f.rule_id.is_some() {
            Lead::Rule
        } else if f.event_type.is_some() {
            Lead::EventType
        } else if f.status.is_some() {
            Lead::Status
        } else {
            Lead::Nothing
        }
    }
}

/// Whether PostgreSQL, which has statistics, gets `column` written plainly
/// though it does not lead: a plain term is an index condition, tested in
/// the index entries far more cheaply than a filter (rule + event type +
/// failed: 25 -> 9.5 ms at 1,000,000 deliveries, BENCHMARKS.md). The status
/// stays off beside a destination or a rule: written plainly there, the
/// planner took the partial queue index for `pending` and sorted (124 ms).
/// Behind a search every term stays off, as on SQLite.
fn planner_picks(db: &Db, f: &ValidFilter, lead: Lead, column: Lead) -> bool {
    if !db.is_postgres() || lead == Lead::Search {
        return false;
    }
    column != Lead::Status || (f.destination_id.is_none() && f.rule_id.is_none())
}

/// The WHERE clause of a filter, on `deliveries d` alone (the rule, event
/// type and asset name are kept on the delivery): only the conditions it
/// has, so each query can use the index that fits it (an `$n IS NULL OR
/// ...` text cannot). See migrations 0014 and (SQLite only) 0016 for the
/// indexes.
pub(super) fn filter_sql(db: &Db, f: &ValidFilter) -> (String, Vec<Param>) {
    let mut conds: Vec<String> = Vec::new();
    let mut params = Vec::new();
    let bind = |params: &mut Vec<Param>, p: Param| {
        params.push(p);
        format!("${}", params.len())
    };
    // On SQLite one term leads, the others are kept off their indexes
    // (`+ 0`, `|| ''`) and tested in the leading index's entries. The lead
    // is the value with the fewest deliveries as a rule: a search, a status
    // other than `delivered`, a destination, a rule, an event type, a
    // status (`Lead::of`). SQLite has no statistics to choose by (the app
    // does not run ANALYZE).
    let lead = Lead::of(db, f);
    let plain = |column: Lead| lead == column || planner_picks(db, f, lead, column);
    let off = |column: Lead, text: bool| match (plain(column), text) {
        (true, _) => "",
        (false, false) => " + 0",
        (false, true) => " || ''",
    };
    let status = off(Lead::Status, true);
    match f.status {
        None => {}
        Some(DeliveryState::Pending) => {
            conds.push(format!("d.status{status} = 'pending' AND d.retry = FALSE"))
        }
        Some(DeliveryState::Retrying) => {
            conds.push(format!("d.status{status} = 'pending' AND d.retry = TRUE"))
        }
        Some(DeliveryState::Delivered) => conds.push(format!("d.status{status} = 'delivered'")),
        Some(DeliveryState::Failed) => conds.push(format!("d.status{status} = 'failed'")),
    }
    if let Some(id) = f.destination_id {
        let p = bind(&mut params, Param::Int(id));
        conds.push(format!(
            "d.destination_id{} = {p}",
            off(Lead::Destination, false)
        ));
    }
    if let Some(id) = f.rule_id {
        let p = bind(&mut params, Param::Int(id));
        conds.push(format!("d.rule_id{} = {p}", off(Lead::Rule, false)));
    }
    if let Some(kind) = f.event_type {
        let p = bind(&mut params, Param::Text(kind.into()));
        conds.push(format!("d.event_type{} = {p}", off(Lead::EventType, true)));
    }
    // A time range stays on its index unless a search leads: the planner
    // may take a short range and sort it rather than walk a long way back.
    let time = if lead == Lead::Search { " + 0" } else { "" };
    if let Some(at) = f.since {
        let p = bind(&mut params, Param::Int(at));
        conds.push(format!("d.created_at{time} >= {p}"));
    }
    if let Some(at) = f.until {
        let p = bind(&mut params, Param::Int(at));
        conds.push(format!("d.created_at{time} < {p}"));
    }
    match &f.search {
        None => {}
        Some(Search::AlertId(id)) => conds.push(format!(
            "d.alert_id = (SELECT x.id FROM alerts x WHERE x.public_id = {})",
            bind(&mut params, Param::Text(id.clone()))
        )),
        Some(Search::MsgId(id)) => conds.push(format!(
            "d.msg_id = {}",
            bind(&mut params, Param::Text(id.clone()))
        )),
        Some(Search::AssetPrefix(prefix)) => {
            // A byte-order range, so the index on the name serves it; Postgres
            // compares in the "C" collation the column has.
            let c = if db.is_postgres() {
                " COLLATE \"C\""
            } else {
                ""
            };
            conds.push(format!(
                "d.asset_name{c} >= {}",
                bind(&mut params, Param::Text(prefix.clone()))
            ));
            if let Some(upper) = prefix_upper_bound(prefix) {
                conds.push(format!(
                    "d.asset_name{c} < {}",
                    bind(&mut params, Param::Text(upper))
                ));
            }
        }
    }
    if let Some(id) = f.before {
        conds.push(format!("d.id < {}", bind(&mut params, Param::Int(id))));
    }
    let sql = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    (sql, params)
}

/// Newest first, `limit` rows matching the filter. The page's ids come from
/// `deliveries` alone, so a plan that collects matches and sorts them sorts
/// ids from an index, and only the page's rows are joined.
pub async fn list(db: &Db, filter: &ValidFilter, limit: i64) -> StoreResult<Vec<DeliveryRow>> {
    let (cond, params) = filter_sql(db, filter);
    let sql = format!(
        "{LIST_SQL} WHERE d.id IN (SELECT d.id FROM deliveries d{cond} ORDER BY d.id DESC LIMIT {limit}) \
         ORDER BY d.id DESC"
    );
    Ok(on_db!(db, pool => bind_params!(sqlx::query_as(&sql), &params).fetch_all(pool).await)?)
}

pub async fn get(db: &Db, id: i64) -> StoreResult<Option<DeliveryRow>> {
    let sql = format!("{LIST_SQL} WHERE d.id = $1");
    Ok(on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
}

pub async fn payload_of(db: &Db, delivery: i64) -> StoreResult<Option<String>> {
    let row: Option<(String,)> = on_db!(db, pool => sqlx::query_as(
        "SELECT a.payload FROM deliveries d JOIN alerts a ON a.id = d.alert_id WHERE d.id = $1")
        .bind(delivery).fetch_optional(pool).await)?;
    Ok(row.map(|(p,)| p))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub number: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    pub request_headers: String,
    pub response_status: Option<i64>,
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
    pub next_attempt_at: Option<i64>,
}

pub async fn attempts(db: &Db, delivery: i64) -> StoreResult<Vec<AttemptRow>> {
    Ok(on_db!(db, pool => sqlx::query_as(
        "SELECT number, started_at, duration_ms, request_headers, response_status, response_headers, response_body, \
         error_kind, error_message, next_attempt_at FROM attempts WHERE delivery_id = $1 ORDER BY id")
        .bind(delivery).fetch_all(pool).await)?)
}

/// Queues a finished delivery again with a fresh retry schedule.
pub async fn redrive(db: &Db, id: i64, at: i64) -> StoreResult<bool> {
    let n = affected!(db, pool => sqlx::query(
        "UPDATE deliveries SET status = 'pending', failures = 0, retry = FALSE, next_attempt_at = $1, lease_owner = NULL, \
         lease_until = NULL, updated_at = $1 WHERE id = $2 AND status <> 'pending'")
        .bind(at).bind(id).execute(pool).await)?;
    Ok(n == 1)
}

/// Ends one queued delivery for good (a person cancelled its retries).
pub async fn cancel(db: &Db, id: i64, reason: &str, now: i64) -> StoreResult<bool> {
    let n = affected!(db, pool => sqlx::query(
        "UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, last_error = $1, lease_owner = NULL, \
         lease_until = NULL, updated_at = $2 WHERE id = $3 AND status = 'pending'")
        .bind(reason).bind(now).bind(id).execute(pool).await)?;
    Ok(n == 1)
}

/// Ends the queued deliveries of a deleted destination.
pub async fn fail_pending_for(db: &Db, destination: i64, reason: &str) -> StoreResult<u64> {
    Ok(affected!(db, pool => sqlx::query(
        "UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, last_error = $1, updated_at = $2 \
         WHERE destination_id = $3 AND status = 'pending'")
        .bind(reason).bind(now_ms()).bind(destination).execute(pool).await)?)
}

/// Wakes the engines of other processes on Postgres (a no-op on SQLite).
pub async fn pg_notify(db: &Db) -> StoreResult<()> {
    if let Db::Postgres(pool) = db {
        sqlx::query(NOTIFY_SQL)
            .bind(NOTIFY_CHANNEL)
            .execute(pool)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_the_schemas() {
        let listed: Vec<String> = DeliveryStatus::ALL
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        let check = format!("status IN ({})", listed.join(", "));
        for schema in [
            include_str!("../../../migrations/sqlite/0003_alerts.sql"),
            include_str!("../../../migrations/postgres/0003_alerts.sql"),
        ] {
            assert!(schema.contains(&check), "{check} not in the schema");
        }
    }

    fn attempt(destination: i64, started_at: i64, ok: bool) -> AttemptRecord {
        AttemptRecord {
            delivery_id: 1,
            destination_id: destination,
            number: 1,
            started_at,
            duration_ms: 5,
            request_headers: "[]".into(),
            response_status: Some(if ok { 200 } else { 500 }),
            response_headers: None,
            response_body: None,
            error_kind: None,
            error_message: None,
            status: if ok {
                DeliveryStatus::Delivered
            } else {
                DeliveryStatus::Failed
            },
            failures: i64::from(!ok),
            next_attempt_at: None,
            summary: String::new(),
        }
    }

    /// A filter of the terms the plan tests vary.
    fn filter(
        status: Option<DeliveryState>,
        destination_id: Option<i64>,
        rule_id: Option<i64>,
        event_type: Option<&'static str>,
        search: Option<Search>,
    ) -> ValidFilter {
        ValidFilter {
            status,
            destination_id,
            rule_id,
            event_type,
            search,
            ..ValidFilter::default()
        }
    }

    /// SQLite's plan for the Deliveries tab's page query under `f`.
    async fn sqlite_plan(db: &Db, f: &ValidFilter) -> String {
        let (cond, params) = filter_sql(db, f);
        let sql = format!(
            "EXPLAIN QUERY PLAN SELECT d.id FROM deliveries d{cond} ORDER BY d.id DESC LIMIT 50"
        );
        let Db::Sqlite(pool, _) = db else {
            panic!("a SQLite database")
        };
        let query = sqlx::query_as::<_, (i64, i64, i64, String)>(&sql);
        let rows = bind_params!(query, &params).fetch_all(pool).await.unwrap();
        rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("; ")
    }

    /// Each filter walks one index newest first (a prefix search: one range),
    /// and reads no row unless it asks for `delivered` behind another lead
    /// (migration 0016 keeps the status out of the destination, rule and
    /// event type indexes).
    #[tokio::test]
    async fn sqlite_filters_walk_one_index_in_order() {
        let db = crate::store::empty_test_db("filter_plans").await;
        use DeliveryState::*;
        let prefix = Some(Search::AssetPrefix("warehouse.".into()));
        let asset = filter(Some(Failed), None, None, None, prefix);
        let cases = [
            (
                filter(Some(Failed), None, None, None, None),
                "COVERING INDEX deliveries_by_status",
            ),
            (
                filter(Some(Pending), Some(1), None, None, None),
                "COVERING INDEX deliveries_by_status",
            ),
            (
                filter(Some(Retrying), None, Some(2), None, None),
                "COVERING INDEX deliveries_by_status",
            ),
            (
                filter(Some(Failed), None, Some(2), Some("schema_change"), None),
                "COVERING INDEX deliveries_by_status",
            ),
            (
                filter(None, Some(1), Some(2), None, None),
                "COVERING INDEX deliveries_by_destination",
            ),
            (
                filter(None, None, Some(2), Some("schema_change"), None),
                "COVERING INDEX deliveries_by_rule",
            ),
            (
                filter(None, None, None, Some("schema_change"), None),
                "COVERING INDEX deliveries_by_event_type",
            ),
            (
                filter(Some(Delivered), Some(1), None, None, None),
                "USING INDEX deliveries_by_destination",
            ),
        ];
        for (f, index) in cases {
            let plan = sqlite_plan(&db, &f).await;
            assert!(
                plan.contains(index),
                "{f:?}: expected {index}, planned {plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "{f:?} sorts: {plan}");
        }
        // A prefix is a range of names, so its matches' ids are sorted; the
        // status is still tested in the index.
        let plan = sqlite_plan(&db, &asset).await;
        assert!(
            plan.contains("COVERING INDEX deliveries_by_asset"),
            "{plan}"
        );
    }

    /// On PostgreSQL the terms beside the lead are index conditions, except
    /// a status beside a destination or a rule (the partial queue index).
    #[tokio::test]
    async fn postgres_writes_the_companion_terms_plainly() {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .connect_lazy("postgres://postgres@127.0.0.1:1/none")
            .unwrap();
        let db = Db::Postgres(pool);
        use DeliveryState::*;
        let prefix = Some(Search::AssetPrefix("db.".into()));
        let cases = [
            (
                filter(Some(Failed), None, Some(3), Some("schema_change"), None),
                " WHERE d.status || '' = 'failed' AND d.rule_id = $1 AND d.event_type = $2",
            ),
            (
                filter(Some(Pending), None, None, Some("schema_change"), None),
                " WHERE d.status = 'pending' AND d.retry = FALSE AND d.event_type = $1",
            ),
            // Behind a search every other term stays off, as on SQLite.
            (
                filter(Some(Failed), Some(1), None, None, prefix),
                " WHERE d.status || '' = 'failed' AND d.destination_id + 0 = $1 \
                 AND d.asset_name COLLATE \"C\" >= $2 AND d.asset_name COLLATE \"C\" < $3",
            ),
        ];
        for (f, expected) in cases {
            assert_eq!(filter_sql(&db, &f).0, expected, "{f:?}");
        }
    }

    #[test]
    fn rooms_are_one_json_object_and_full_destinations_one_list() {
        assert_eq!(room_json(&[]), ("{}".into(), "[]".into()));
        assert_eq!(
            room_json(&[(12, 3), (40, 0), (41, 1)]),
            (r#"{"12":3,"41":1}"#.into(), "[40]".into())
        );
    }

    #[test]
    fn failing_since_follows_the_last_success() {
        use FailingSince::*;
        let batch = [
            attempt(1, 30, false),
            attempt(1, 10, false),
            attempt(2, 10, false),
            attempt(2, 20, true),
            attempt(3, 10, true),
            attempt(3, 40, false),
            attempt(3, 35, false),
            attempt(4, 50, false),
            attempt(4, 60, true),
        ];
        assert_eq!(
            failing_since_changes(&batch),
            vec![(1, Continue(10)), (2, Clear), (3, Restart(35)), (4, Clear)]
        );
        assert_eq!(Continue(10).as_values(), (false, Some(10)));
        assert_eq!(Restart(35).as_values(), (true, Some(35)));
        assert_eq!(Clear.as_values(), (true, None));
    }
}
