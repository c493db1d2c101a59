//! The ingest write: a group of requests' events, alerts and deliveries in
//! one transaction (`services::ingest_groups`), in as few statements as the
//! engines allow (issue 11).
//!
//! Each statement is a round trip: to sqlx's SQLite worker thread (about
//! 140 µs here) or to PostgreSQL, and on SQLite every one of them holds the
//! one write turn. So events without a dedup key are written in one
//! multi-row insert, then every alert of the write in one, then every
//! delivery in one (per 500 rows): three statements whatever the group's
//! size, where one statement per event and per alert used to be. Events
//! with a dedup key still go one at a time, alerts included, since each may
//! be the duplicate of one before it, in this write or in the last 24 hours.

use super::alerts::{
    AlertRow, IngestBatch, IngestTimes, Ingested, Lease, NewAlert, NewEvent, Stored, ALERT_COLUMNS,
    INSERT_LEASED_DELIVERIES,
};
use super::deliveries::Claimed;
use super::{keep_prepared, on_db, Db, StoreError, StoreResult};
use std::collections::HashMap;

/// Rows per multi-row insert, well under both engines' parameter limits
/// (12 parameters a delivery, 7 an event or an alert).
const CHUNK: usize = 500;

const INSERT_EVENTS: &str = "INSERT INTO events (type, qualified_name, asset_type, change_type, \
    details, occurred_at, dedup_key, received_at) ";

/// One event of the write, in write order.
struct Placed<'a> {
    event: &'a NewEvent,
    times: &'a IngestTimes,
    /// Its first delivery's place among all the write's deliveries,
    /// counting those of duplicate events, which are not stored.
    first: usize,
}

/// One delivery to insert, with its alert's row and the copies the
/// Deliveries tab filters on (migration 0014).
struct DeliveryInsert<'a> {
    times: &'a IngestTimes,
    index: usize,
    leased: bool,
    alert: i64,
    destination: i64,
    msg: &'a str,
    rule: i64,
    event: (&'a str, &'a str),
}

/// Inserts `$alerts` (`&[(event id, &NewAlert, &IngestTimes)]`) on an open
/// transaction (`&mut tx`), in multi-row statements: their rows, in order.
macro_rules! insert_alerts {
    ($tx:expr, $alerts:expr) => {{
        let alerts: &[(i64, &NewAlert, &IngestTimes)] = $alerts;
        let mut rows: Vec<AlertRow> = Vec::with_capacity(alerts.len());
        for chunk in alerts.chunks(CHUNK) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO alerts (public_id, event_id, rule_id, rule_name, alert_type, status, payload, created_at) ",
            );
            insert.push_values(chunk, |mut row, (event, a, t)| {
                row.push_bind(&a.public_id).push_bind(*event).push_bind(a.rule_id).push_bind(&a.rule_name)
                    .push_bind(&a.alert_type).push("'triggered'").push_bind(&a.payload).push_bind(t.now);
            });
            insert.push(format_args!(" RETURNING {ALERT_COLUMNS}"));
            let got: Vec<AlertRow> = insert.build_query_as().persistent(few_or_full(chunk.len()))
                .fetch_all(&mut **$tx).await?;
            rows.extend(alerts_in_order(got, chunk.iter().map(|(_, a, _)| *a))?);
        }
        rows
    }};
}

/// Stores one event with a dedup key on an open transaction (`&mut tx`),
/// with its alerts unless the key was taken within the last 24 hours:
/// then it is the duplicate of the event that took it.
macro_rules! keyed_event {
    ($tx:expr, $placed:expr) => {{
        let (event, t): (&NewEvent, &IngestTimes) = ($placed.event, $placed.times);
        let key = event.dedup_key.as_deref().unwrap_or_default();
        let seen: Option<(i64,)> = sqlx::query_as(
            "SELECT event_id FROM dedup_keys WHERE dedup_key = $1 AND expires_at > $2")
            .bind(key).bind(t.now).fetch_optional(&mut **$tx).await?;
        let event_id: Option<i64> = match seen {
            Some(_) => None,
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO events (type, qualified_name, asset_type, change_type, details, occurred_at, dedup_key, received_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                    .bind(&event.kind).bind(&event.qualified_name).bind(&event.asset_type).bind(&event.change_type)
                    .bind(&event.details).bind(event.occurred_at).bind(key).bind(t.now)
                    .fetch_one(&mut **$tx).await?;
                // Another transaction may have taken the key since the check: then this event is the duplicate.
                let won: Option<(i64,)> = sqlx::query_as(
                    "INSERT INTO dedup_keys (dedup_key, event_id, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (dedup_key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at \
                     WHERE dedup_keys.expires_at <= $4 RETURNING event_id")
                    .bind(key).bind(id).bind(t.dedup_until).bind(t.now)
                    .fetch_optional(&mut **$tx).await?;
                if won.is_none() {
                    sqlx::query("DELETE FROM events WHERE id = $1").bind(id).execute(&mut **$tx).await?;
                }
                won.map(|_| id)
            }
        };
        match event_id {
            Some(id) => {
                let owned: Vec<(i64, &NewAlert, &IngestTimes)> = event.alerts.iter().map(|a| (id, a, t)).collect();
                Stored::Created(insert_alerts!($tx, &owned))
            }
            None => Stored::Duplicate(sqlx::query_as(&format!(
                "SELECT {ALERT_COLUMNS} FROM alerts WHERE event_id = \
                 (SELECT event_id FROM dedup_keys WHERE dedup_key = $1) ORDER BY id"))
                .bind(key).fetch_all(&mut **$tx).await?),
        }
    }};
}

/// Stores every batch's events with their alerts and deliveries, all or
/// nothing, in one transaction. With a `lease`, deliveries marked `leased`
/// are stored leased to it.
pub async fn ingest(
    db: &Db,
    batches: &[&IngestBatch],
    lease: Option<Lease<'_>>,
) -> StoreResult<Ingested> {
    let events = place(batches);
    let mut stored: Vec<Option<Stored>> = vec![None; events.len()];
    let _turn = db.write_turn().await;
    on_db!(db, pool => {
        let mut tx = pool.begin_with(db.begin_write()).await?;
        for (slot, p) in stored.iter_mut().zip(&events) {
            if p.event.dedup_key.is_some() {
                *slot = Some(keyed_event!(&mut tx, p));
            }
        }
        let plain: Vec<usize> = (0..events.len()).filter(|&i| stored[i].is_none()).collect();
        let mut event_ids = Vec::with_capacity(plain.len());
        for chunk in plain.chunks(CHUNK) {
            let mut insert = sqlx::QueryBuilder::new(INSERT_EVENTS);
            insert.push_values(chunk, |mut row, &i| {
                let (e, t) = (events[i].event, events[i].times);
                row.push_bind(&e.kind).push_bind(&e.qualified_name).push_bind(&e.asset_type)
                    .push_bind(&e.change_type).push_bind(&e.details).push_bind(e.occurred_at)
                    .push("NULL").push_bind(t.now);
            });
            insert.push(" RETURNING id");
            let ids: Vec<(i64,)> = insert.build_query_as().persistent(few_or_full(chunk.len()))
                .fetch_all(&mut *tx).await?;
            event_ids.extend(in_insert_order(ids.into_iter().map(|(id,)| id).collect(), chunk.len())?);
        }
        let owned: Vec<(i64, &NewAlert, &IngestTimes)> = plain.iter().zip(&event_ids)
            .flat_map(|(&i, &id)| { let p = &events[i]; p.event.alerts.iter().map(move |a| (id, a, p.times)) })
            .collect();
        let mut rows = insert_alerts!(&mut tx, &owned).into_iter();
        for &i in &plain {
            stored[i] = Some(Stored::Created(rows.by_ref().take(events[i].event.alerts.len()).collect()));
        }
        let deliveries = delivery_rows(&events, &stored, lease.is_some());
        let mut leased = Vec::new();
        for chunk in deliveries.chunks(CHUNK) {
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
            let persistent = keep_prepared(chunk.len(), CHUNK);
            if chunk.iter().any(|d| d.leased) {
                insert.push(" RETURNING id, msg_id");
                let ids: Vec<(i64, String)> = insert.build_query_as().persistent(persistent).fetch_all(&mut *tx).await?;
                leased.extend(claimed(chunk, &ids));
            } else {
                insert.build().persistent(persistent).execute(&mut *tx).await?;
            }
        }
        if deliveries.iter().any(|d| !d.leased) && db.is_postgres() {
            // Delivered to listeners when the transaction commits.
            sqlx::query(super::deliveries::NOTIFY_SQL).bind(super::deliveries::NOTIFY_CHANNEL).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Ingested { stored: by_batch(batches, stored), leased })
    })
}

/// Every event of the write, in order, with its first delivery's place.
fn place<'a>(batches: &[&'a IngestBatch]) -> Vec<Placed<'a>> {
    let mut first = 0;
    let mut placed = Vec::new();
    for batch in batches {
        for event in &batch.events {
            placed.push(Placed {
                event,
                times: &batch.times,
                first,
            });
            first += event
                .alerts
                .iter()
                .map(|a| a.deliveries.len())
                .sum::<usize>();
        }
    }
    placed
}

/// Whether a multi-row event or alert insert stays prepared: a lone
/// request's one row (the latency case) and full chunks; a group's other
/// sizes would push the hot statements out of the cache.
fn few_or_full(rows: usize) -> bool {
    rows == 1 || rows == CHUNK
}

/// The ids a multi-row insert returned, in the order of its `VALUES`. Both
/// engines hand a statement's new ids out row by row in that order
/// (SQLite's rowid, PostgreSQL's identity sequence), but neither promises
/// `RETURNING` in it; sorted, they are.
fn in_insert_order(mut ids: Vec<i64>, rows: usize) -> StoreResult<Vec<i64>> {
    if ids.len() != rows {
        return Err(StoreError::Sqlx(sqlx::Error::RowNotFound));
    }
    ids.sort_unstable();
    Ok(ids)
}

/// The alert rows an insert returned, in the order of `alerts`, matched by
/// their public id (unique).
fn alerts_in_order<'a>(
    rows: Vec<AlertRow>,
    alerts: impl Iterator<Item = &'a NewAlert>,
) -> StoreResult<Vec<AlertRow>> {
    let mut by_id: HashMap<String, AlertRow> =
        rows.into_iter().map(|r| (r.public_id.clone(), r)).collect();
    alerts
        .map(|a| by_id.remove(&a.public_id))
        .collect::<Option<Vec<_>>>()
        .ok_or(StoreError::Sqlx(sqlx::Error::RowNotFound))
}

/// The deliveries of every event stored as new, in write order.
fn delivery_rows<'a>(
    events: &[Placed<'a>],
    stored: &[Option<Stored>],
    leasing: bool,
) -> Vec<DeliveryInsert<'a>> {
    let mut out = Vec::new();
    for (p, stored) in events.iter().zip(stored) {
        let Some(Stored::Created(rows)) = stored else {
            continue;
        };
        let mut index = p.first;
        for (alert, row) in p.event.alerts.iter().zip(rows) {
            for d in &alert.deliveries {
                out.push(DeliveryInsert {
                    times: p.times,
                    index,
                    leased: d.leased && leasing,
                    alert: row.id,
                    destination: d.destination,
                    msg: &d.msg_id,
                    rule: alert.rule_id,
                    event: (&p.event.kind, &p.event.qualified_name),
                });
                index += 1;
            }
        }
    }
    out
}

/// The leased deliveries of `chunk`, by their place, with the ids the insert
/// returned (matched by `webhook-id`, which is unique).
fn claimed(chunk: &[DeliveryInsert], ids: &[(i64, String)]) -> Vec<(usize, Claimed)> {
    let ids: HashMap<&str, i64> = ids.iter().map(|(id, msg)| (msg.as_str(), *id)).collect();
    chunk
        .iter()
        .filter(|d| d.leased)
        .filter_map(|d| {
            ids.get(d.msg).map(|id| {
                (
                    d.index,
                    Claimed {
                        id: *id,
                        alert_id: d.alert,
                        destination_id: d.destination,
                        msg_id: d.msg.to_owned(),
                        attempts: 0,
                        failures: 0,
                    },
                )
            })
        })
        .collect()
}

/// Each event's outcome, grouped back by batch.
fn by_batch(batches: &[&IngestBatch], stored: Vec<Option<Stored>>) -> Vec<Vec<Stored>> {
    let mut stored = stored.into_iter();
    batches
        .iter()
        .map(|b| {
            stored
                .by_ref()
                .take(b.events.len())
                .map(|s| s.unwrap_or(Stored::Created(Vec::new())))
                .collect()
        })
        .collect()
}
