//! Live status: what open pages learn about deliveries that change.
//!
//! One poller per process reads the deliveries changed since its last look
//! (`store::live`, every `POLL_EVERY`, only while at least one stream is open)
//! and sends each batch to every open stream through a broadcast channel; each
//! stream keeps what its page shows (all deliveries, one destination's, one
//! delivery). Reading the table, rather than being told by the writers, sees
//! the changes every process makes (several processes share one Postgres
//! database) and every kind of write, present and future, because each one
//! sets `updated_at`.
//!
//! Positions are times: an event's id is the time up to which every change
//! has been sent. A transaction may commit a little after the `updated_at` it
//! wrote, so each poll looks `LOOKBACK` behind its last position and skips the
//! states it has already sent; a stream that reconnects with the id it last
//! received is sent what changed from `LOOKBACK` before that id.

use crate::clock::now_ms;
use crate::store::live::{self as rows, ChangeRow};
use crate::store::Db;
use app::domain::DeliveryStatus;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch, OwnedSemaphorePermit, Semaphore};

/// Streams one process serves at once; past it a new one is refused.
pub const MAX_STREAMS: usize = 100;
/// How often the poller looks for changes while a stream is open.
pub const POLL_EVERY: Duration = Duration::from_millis(400);
/// How far behind its last position each poll looks again (ms): longer than a
/// write transaction takes to commit, and than the clocks of the processes
/// sharing a database differ.
pub const LOOKBACK_MS: i64 = 3_000;
/// A stream ends after this long and the browser opens it again: a session
/// ended or a user deactivated meanwhile is then refused.
pub const STREAM_LIFETIME: Duration = Duration::from_secs(300);
/// A new stream tells its page the time of the latest change in scope in
/// this last span (ms): the page, which knows when it loaded, reloads if that
/// change may be newer than what it shows.
const RECENT_MS: i64 = 5_000;
/// A resumed stream is sent at most this many missed changes, and only for a
/// gap this long (ms); past either it is told to reload instead.
const REPLAY_LIMIT: i64 = 500;
const REPLAY_WINDOW_MS: i64 = 15 * 60_000;
/// Rows one poll reads per query, and queries per poll: past that the poller
/// is behind and catches up over the next polls.
const PAGE: i64 = 1_000;
const PAGES_PER_POLL: usize = 20;
/// A stream with nothing to send is sent its position this often.
const POSITION_EVERY: Duration = Duration::from_secs(5);
/// Batches a slow stream may fall behind before it is told to reload.
const CHANNEL: usize = 256;
/// At most this many changes in one event; past it the event says to reload.
pub const MAX_PER_EVENT: usize = 500;

/// A delivery's status as the pages show it: a pending delivery that has
/// failed and waits for its next attempt is retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShownStatus {
    Pending,
    Retrying,
    Delivered,
    Failed,
}

impl ShownStatus {
    pub fn of(status: DeliveryStatus, retry: bool) -> Self {
        match status {
            DeliveryStatus::Pending if retry => ShownStatus::Retrying,
            DeliveryStatus::Pending => ShownStatus::Pending,
            DeliveryStatus::Delivered => ShownStatus::Delivered,
            DeliveryStatus::Failed => ShownStatus::Failed,
        }
    }
}

/// One delivery's new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: i64,
    pub destination_id: i64,
    pub status: ShownStatus,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub updated_at: i64,
}

impl From<&ChangeRow> for Change {
    fn from(row: &ChangeRow) -> Self {
        Change {
            id: row.id,
            destination_id: row.destination_id,
            status: ShownStatus::of(row.status, row.retry),
            attempts: row.attempts,
            last_status: row.last_status,
            updated_at: row.updated_at,
        }
    }
}

/// Changes up to a position. `complete` is false when some changes may be
/// missing (the stream fell behind, the gap was too long): the page reloads
/// what it shows instead of relying on the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub cursor: i64,
    pub changes: Vec<Change>,
    pub complete: bool,
}

/// What one stream follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Destination(i64),
    Delivery(i64),
}

impl Scope {
    pub fn covers(self, change: &Change) -> bool {
        match self {
            Scope::All => true,
            Scope::Destination(id) => change.destination_id == id,
            Scope::Delivery(id) => change.id == id,
        }
    }

    fn filters(self) -> (Option<i64>, Option<i64>) {
        match self {
            Scope::All => (None, None),
            Scope::Destination(id) => (Some(id), None),
            Scope::Delivery(id) => (None, Some(id)),
        }
    }

    /// This scope's part of a batch, at most `MAX_PER_EVENT` changes (no
    /// change at all when nothing in the batch concerns the scope).
    fn part_of(self, batch: &Batch) -> Batch {
        let mut changes: Vec<Change> = batch
            .changes
            .iter()
            .filter(|c| self.covers(c))
            .cloned()
            .collect();
        let complete = batch.complete && changes.len() <= MAX_PER_EVENT;
        changes.truncate(MAX_PER_EVENT);
        Batch {
            cursor: batch.cursor,
            changes,
            complete,
        }
    }
}

/// Why a stream was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `MAX_STREAMS` are open.
    Full,
    /// The process is shutting down.
    Closing,
}

/// The process's live feed: the poller, the channel and the stream count.
#[derive(Clone)]
pub struct LiveFeed {
    inner: Arc<Feed>,
}

struct Feed {
    db: Db,
    sender: broadcast::Sender<Arc<Batch>>,
    streams: Arc<Semaphore>,
    /// Whether the poller runs; held while it decides to stop and while a
    /// stream subscribes, so a new stream never finds it stopping.
    running: Mutex<bool>,
    closing: watch::Sender<bool>,
}

impl LiveFeed {
    pub fn new(db: Db) -> Self {
        let (sender, _) = broadcast::channel(CHANNEL);
        LiveFeed {
            inner: Arc::new(Feed {
                db,
                sender,
                streams: Arc::new(Semaphore::new(MAX_STREAMS)),
                running: Mutex::new(false),
                closing: watch::Sender::new(false),
            }),
        }
    }

    /// Streams open now.
    pub fn open_streams(&self) -> usize {
        MAX_STREAMS - self.inner.streams.available_permits()
    }

    /// Ends every stream and refuses new ones (at shutdown).
    pub fn close(&self) {
        self.inner.closing.send_replace(true);
        self.inner.streams.close();
    }

    /// Opens a stream of the changes in `scope`. With `resume_from`, the id of
    /// the last event a previous stream delivered, it first sends what changed
    /// since then.
    pub async fn subscribe(
        &self,
        scope: Scope,
        resume_from: Option<i64>,
    ) -> Result<Subscription, Refused> {
        if *self.inner.closing.borrow() {
            return Err(Refused::Closing);
        }
        let permit = match self.inner.streams.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(tokio::sync::TryAcquireError::NoPermits) => return Err(Refused::Full),
            Err(tokio::sync::TryAcquireError::Closed) => return Err(Refused::Closing),
        };
        // Subscribe before reading what was missed: a change made in between
        // arrives twice rather than never.
        let receiver = self.receiver();
        let now = now_ms();
        let (first, latest) = match resume_from {
            Some(id) => {
                let since = id.saturating_sub(LOOKBACK_MS);
                let replay = if now - since > REPLAY_WINDOW_MS {
                    Batch {
                        cursor: now,
                        changes: Vec::new(),
                        complete: false,
                    }
                } else {
                    self.missed(scope, since, now).await
                };
                (Some(scope.part_of(&replay)), None)
            }
            None => (None, self.latest(scope, now - RECENT_MS).await),
        };
        Ok(Subscription {
            scope,
            receiver,
            first,
            latest,
            cursor: now,
            last_sent: tokio::time::Instant::now(),
            closing: self.inner.closing.subscribe(),
            ends_at: tokio::time::Instant::now() + STREAM_LIFETIME,
            _permit: permit,
        })
    }

    /// What changed in `scope` after `since`; a storage failure or too many
    /// changes make an incomplete batch (the page reloads).
    async fn missed(&self, scope: Scope, since: i64, now: i64) -> Batch {
        let (destination, delivery) = scope.filters();
        match rows::changed_since(
            &self.inner.db,
            since,
            destination,
            delivery,
            REPLAY_LIMIT + 1,
        )
        .await
        {
            Ok(found) => Batch {
                cursor: now,
                complete: found.len() as i64 <= REPLAY_LIMIT,
                changes: found
                    .iter()
                    .take(REPLAY_LIMIT as usize)
                    .map(Change::from)
                    .collect(),
            },
            Err(err) => {
                tracing::warn!(error = %err, "live status: could not read missed changes");
                Batch {
                    cursor: now,
                    changes: Vec::new(),
                    complete: false,
                }
            }
        }
    }

    /// The time of the latest change in `scope` after `since`; on a storage
    /// failure, now (the page reloads rather than miss one).
    async fn latest(&self, scope: Scope, since: i64) -> Option<i64> {
        let (destination, delivery) = scope.filters();
        match rows::latest_since(&self.inner.db, since, destination, delivery).await {
            Ok(latest) => latest,
            Err(err) => {
                tracing::warn!(error = %err, "live status: could not read the latest change");
                Some(now_ms())
            }
        }
    }

    /// A receiver of every batch, starting the poller if it is not running.
    fn receiver(&self) -> broadcast::Receiver<Arc<Batch>> {
        let mut running = self
            .inner
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let receiver = self.inner.sender.subscribe();
        if !*running {
            *running = true;
            tokio::spawn(poll(self.inner.clone()));
        }
        receiver
    }
}

/// One open stream. Dropping it frees its place.
pub struct Subscription {
    scope: Scope,
    receiver: broadcast::Receiver<Arc<Batch>>,
    first: Option<Batch>,
    latest: Option<i64>,
    cursor: i64,
    last_sent: tokio::time::Instant,
    closing: watch::Receiver<bool>,
    ends_at: tokio::time::Instant,
    _permit: OwnedSemaphorePermit,
}

impl Subscription {
    /// The position the stream starts from (the id of its first event).
    pub fn cursor(&self) -> i64 {
        self.cursor
    }

    /// For a new stream (not a resumed one): the time of the latest change in
    /// scope in the last few seconds, if any.
    pub fn latest(&self) -> Option<i64> {
        self.latest
    }

    /// The next changes in scope; `None` when the stream is over (shutdown,
    /// or `STREAM_LIFETIME` reached). While nothing in scope changes, a batch
    /// without changes now and then carries the position on (the page's
    /// browser then resumes from there, not from long ago).
    pub async fn next(&mut self) -> Option<Batch> {
        if let Some(first) = self.first.take() {
            return Some(self.sent(first));
        }
        loop {
            if *self.closing.borrow() {
                return None;
            }
            tokio::select! {
                received = self.receiver.recv() => match received {
                    Ok(batch) => {
                        let part = self.scope.part_of(&batch);
                        let news = !part.changes.is_empty() || !part.complete;
                        if news || self.last_sent.elapsed() >= POSITION_EVERY {
                            return Some(self.sent(part));
                        }
                        self.cursor = part.cursor;
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let gap = Batch { cursor: self.cursor, changes: Vec::new(), complete: false };
                        return Some(self.sent(gap));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.closing.changed() => return None,
                () = tokio::time::sleep_until(self.ends_at) => return None,
            }
        }
    }

    fn sent(&mut self, batch: Batch) -> Batch {
        self.last_sent = tokio::time::Instant::now();
        self.cursor = self.cursor.max(batch.cursor);
        batch
    }
}

/// The poller: runs while at least one stream is open.
async fn poll(feed: Arc<Feed>) {
    let mut state = PollState::new(now_ms());
    let mut closing = feed.closing.subscribe();
    let mut failing = false;
    let mut ticker = tokio::time::interval(POLL_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = closing.changed() => {}
        }
        {
            let mut running = feed
                .running
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if feed.sender.receiver_count() == 0 || *closing.borrow() {
                *running = false;
                return;
            }
        }
        match state.poll(&feed.db, now_ms()).await {
            Ok(batch) => {
                if failing {
                    tracing::info!("live status: reading changes again");
                    failing = false;
                }
                // Every poll, changes or not: streams pass the position on.
                let _ = feed.sender.send(Arc::new(batch));
            }
            Err(err) => {
                if !failing {
                    tracing::warn!(error = %err, "live status: could not read changes; retrying");
                    failing = true;
                }
            }
        }
    }
}

/// Where the poller is and what it has sent lately.
pub struct PollState {
    /// Every change up to this time has been sent (but late commits, which
    /// the next poll looks back for).
    cursor: i64,
    /// Behind: the `(updated_at, id)` to go on from, without looking back.
    behind: Option<(i64, i64)>,
    /// The states sent that are still within the look-back.
    sent: HashMap<i64, ChangeRow>,
    /// Until the first poll: changes up to this time (the poller's start)
    /// are not news. The streams that started the poller learned of them
    /// when they opened (`ready`'s `latest`, or the replay of a resume).
    quiet_until: Option<i64>,
}

impl PollState {
    pub fn new(now: i64) -> Self {
        PollState {
            cursor: now,
            behind: None,
            sent: HashMap::new(),
            quiet_until: Some(now),
        }
    }

    /// Reads the changes since the last poll. On an error nothing moves, so
    /// the next poll reads them again.
    pub async fn poll(&mut self, db: &Db, now: i64) -> Result<Batch, crate::store::StoreError> {
        let caught_up = self.behind.is_none();
        let mut after = self.behind.unwrap_or((self.cursor - LOOKBACK_MS, i64::MIN));
        let mut read = Vec::new();
        let mut full = true;
        for _ in 0..PAGES_PER_POLL {
            let page = rows::changed_after(db, after, PAGE).await?;
            full = page.len() as i64 == PAGE;
            if let Some(last) = page.last() {
                after = (last.updated_at, last.id);
            }
            read.extend(page);
            if !full {
                break;
            }
        }
        let quiet_until = self.quiet_until.take();
        let mut changes = Vec::new();
        for row in read {
            if self.sent.get(&row.id) != Some(&row) {
                if quiet_until.is_none_or(|until| row.updated_at > until) {
                    changes.push(Change::from(&row));
                }
                self.sent.insert(row.id, row);
            }
        }
        if full {
            // More than a poll reads: go on from here next time.
            self.behind = Some(after);
            self.cursor = self.cursor.max(after.0.min(now));
        } else {
            self.behind = None;
            self.cursor = self.cursor.max(now);
        }
        let horizon = self.cursor - LOOKBACK_MS;
        self.sent.retain(|_, row| row.updated_at > horizon);
        Ok(Batch {
            cursor: self.cursor,
            changes,
            complete: caught_up && !full,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(id: i64, destination_id: i64) -> Change {
        Change {
            id,
            destination_id,
            status: ShownStatus::Delivered,
            attempts: 1,
            last_status: Some(200),
            updated_at: 1,
        }
    }

    #[test]
    fn a_scope_keeps_its_own_changes() {
        let batch = Batch {
            cursor: 10,
            changes: vec![change(1, 7), change(2, 8), change(3, 7)],
            complete: true,
        };
        let part = Scope::Destination(7).part_of(&batch);
        assert_eq!(
            part.changes.iter().map(|c| c.id).collect::<Vec<_>>(),
            [1, 3]
        );
        assert!(part.complete);
        assert_eq!(part.cursor, 10);
        assert_eq!(Scope::Delivery(2).part_of(&batch).changes.len(), 1);
        assert_eq!(Scope::All.part_of(&batch).changes.len(), 3);
        assert!(Scope::Destination(9).part_of(&batch).changes.is_empty());
        // An incomplete batch stays incomplete in every scope.
        let gap = Batch {
            complete: false,
            ..batch
        };
        assert!(!Scope::Destination(9).part_of(&gap).complete);
    }

    #[test]
    fn too_many_changes_for_one_event_ask_for_a_reload() {
        let batch = Batch {
            cursor: 10,
            changes: (0..(MAX_PER_EVENT as i64 + 1))
                .map(|i| change(i, 1))
                .collect(),
            complete: true,
        };
        let part = Scope::All.part_of(&batch);
        assert_eq!(part.changes.len(), MAX_PER_EVENT);
        assert!(!part.complete);
    }

    #[test]
    fn retrying_is_pending_after_a_failure() {
        assert_eq!(
            ShownStatus::of(DeliveryStatus::Pending, true),
            ShownStatus::Retrying
        );
        assert_eq!(
            ShownStatus::of(DeliveryStatus::Pending, false),
            ShownStatus::Pending
        );
        assert_eq!(
            ShownStatus::of(DeliveryStatus::Failed, true),
            ShownStatus::Failed
        );
        assert_eq!(
            serde_json::to_string(&ShownStatus::Retrying).unwrap(),
            "\"retrying\""
        );
    }
}
