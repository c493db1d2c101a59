//! Bulk recovery: "Redeliver failed" for a filter runs as a job stored in the
//! database (`store::jobs`). Starting one counts what matches (at most
//! `MAX_JOB_DELIVERIES`) and records who started it; a background task
//! (`start_jobs`, one per process) works through it a batch at a time with a
//! pause between batches, wakes the engine after each, resumes a job left
//! running by a stopped or killed process, and stops between two batches at
//! shutdown. Queued again as retries, the deliveries wait behind other
//! destinations' first attempts in the claimer.

use super::audit::{object, unsaved, Actor};
use super::{internal, Services};
use crate::clock::now_ms;
use crate::domain::delivery_filter::{parse, parse_for_job, ValidFilter};
use crate::store::jobs::{self as rows, Batch, JobRow, NewJob, NotCreated};
use app::domain::{ActorKind, AuditAction, ObjectKind};
use app::error::AppError;
use app::format::thousands;
use app::model::{DeliveryFilter, JobState, JobView, RedeliveryPreview, MAX_JOB_DELIVERIES};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;
use tokio::sync::watch;

/// How the job runner paces itself (`--bulk-batch`, `--bulk-pause`).
#[derive(Debug, Clone, Copy)]
pub struct JobSettings {
    /// Deliveries per transaction.
    pub batch: i64,
    /// Between two batches: the engine and the other writers get their turn.
    pub pause: Duration,
}

/// How long a process holds a running job without renewing it (each batch
/// renews it); on Postgres another process takes a job over after that.
const JOB_LEASE: Duration = Duration::from_secs(15);
/// How often an idle runner looks for a job another process (or a request
/// here, which also wakes it) queued.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// Deliveries this process queued again through jobs, for `/metrics`.
#[derive(Debug, Default)]
pub struct JobCounters {
    pub redelivered: AtomicU64,
}

impl JobCounters {
    /// `alertwire_jobs{state}` (every state, from the database) and this
    /// process's `alertwire_job_redelivered_total`.
    pub fn render(&self, by_state: &[(String, i64)]) -> String {
        use std::fmt::Write;
        let mut out = String::with_capacity(512);
        let _ = writeln!(out, "# HELP alertwire_jobs Bulk jobs by state.");
        let _ = writeln!(out, "# TYPE alertwire_jobs gauge");
        for state in JobState::ALL {
            let n = by_state
                .iter()
                .find(|(s, _)| s == state.as_str())
                .map_or(0, |(_, n)| *n);
            let _ = writeln!(out, "alertwire_jobs{{state=\"{}\"}} {n}", state.as_str());
        }
        let _ = writeln!(
            out,
            "# HELP alertwire_job_redelivered_total Deliveries bulk jobs queued again (this process)."
        );
        let _ = writeln!(out, "# TYPE alertwire_job_redelivered_total counter");
        let _ = writeln!(
            out,
            "alertwire_job_redelivered_total {}",
            self.redelivered.load(Relaxed)
        );
        out
    }
}

fn not_found() -> AppError {
    AppError::NotFound("No such job".into())
}

fn view(row: JobRow) -> JobView {
    JobView {
        id: row.id,
        kind: row.kind,
        state: row.state,
        total: row.total,
        done: row.done,
        created_at: row.created_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
        created_by: row.created_by_name,
        error: row.error,
        filter: serde_json::from_str(&row.filter_json).unwrap_or_default(),
    }
}

/// `Redeliver failed: 3,204 deliveries`: how a job is named in the audit log.
fn job_name(total: i64) -> String {
    format!("Redeliver failed: {} deliveries", thousands(total))
}

fn who(actor: &Actor) -> String {
    match actor.kind {
        Some(ActorKind::ApiKey) => format!("API key {}", actor.name),
        Some(ActorKind::User) => actor.name.clone(),
        None => "the command line".to_owned(),
    }
}

/// What a job would take now: the filter checked (an unknown destination
/// named), and the failed deliveries it matches counted.
struct Planned {
    stored: DeliveryFilter,
    json: String,
    count: i64,
    upto: i64,
    now: i64,
    description: String,
}

impl Services {
    pub fn job_counters(&self) -> &JobCounters {
        &self.inner.jobs
    }

    async fn plan(&self, filter: &DeliveryFilter) -> Result<Planned, AppError> {
        let now = now_ms();
        let (valid, stored) = parse_for_job(filter, now).map_err(AppError::Invalid)?;
        let db = self.db();
        let mut description = Vec::new();
        if let Some(id) = valid.destination_id {
            let destination = crate::store::destinations::get(db, id)
                .await
                .map_err(internal)?
                .ok_or_else(|| {
                    AppError::invalid(
                        "destination_id",
                        format!("There is no destination {id} (it may have been deleted)"),
                    )
                })?;
            description.push(format!("to {}", destination.name));
        }
        if let Some(id) = valid.rule_id {
            description.push(format!("from rule {id}"));
        }
        if let Some(kind) = valid.event_type {
            description.push(format!("for {kind} events"));
        }
        if let Some(q) = &stored.q {
            description.push(format!("matching {q:?}"));
        }
        let since = stored.since.clone().unwrap_or_default();
        description.push(match &stored.until {
            Some(until) => format!("created from {since} to {until}"),
            None => format!("created since {since}"),
        });
        let upto = rows::max_delivery_id(db).await.map_err(internal)?;
        let count = rows::count_matching(db, &valid, upto, now)
            .await
            .map_err(internal)?;
        let json = serde_json::to_string(&stored).map_err(|_| AppError::Internal)?;
        Ok(Planned {
            stored,
            json,
            count,
            upto,
            now,
            description: description.join(", "),
        })
    }

    /// What "Redeliver failed" would do with this filter, for its
    /// confirmation: how many match, the filter with absolute times, and an
    /// active job with the same filter if there is one.
    pub async fn redelivery_preview(
        &self,
        filter: &DeliveryFilter,
    ) -> Result<RedeliveryPreview, AppError> {
        let plan = self.plan(filter).await?;
        let running = rows::active_with_filter(self.db(), &plan.json)
            .await
            .map_err(internal)?;
        Ok(RedeliveryPreview {
            count: plan.count,
            cap: MAX_JOB_DELIVERIES,
            filter: plan.stored,
            description: plan.description,
            running,
        })
    }

    /// Starts a bulk redelivery of the failed deliveries `filter` matches:
    /// refused over `MAX_JOB_DELIVERIES` (saying how many matched), or with a
    /// conflict naming the active job that has the same filter.
    pub async fn start_redelivery(
        &self,
        actor: &Actor,
        filter: &DeliveryFilter,
    ) -> Result<JobView, AppError> {
        let plan = self.plan(filter).await?;
        if plan.count > MAX_JOB_DELIVERIES {
            return Err(AppError::invalid(
                "since",
                format!(
                    "{} failed deliveries match, more than the {} a bulk redelivery takes: narrow the filter (a shorter time range, one destination)",
                    thousands(plan.count),
                    thousands(MAX_JOB_DELIVERIES)
                ),
            ));
        }
        let audit = actor.entry(
            AuditAction::BulkRedeliver,
            unsaved(ObjectKind::Job, &job_name(plan.count)),
        );
        let job = NewJob {
            filter_json: &plan.json,
            total: plan.count,
            max_delivery_id: plan.upto,
            created_by: &audit,
            now: plan.now,
        };
        let row = match rows::create(self.db(), &job, &audit).await {
            Ok(row) => row,
            Err(NotCreated::Running(id)) => {
                return Err(AppError::Conflict(format!(
                    "Job {id} is already redelivering the failed deliveries of this filter: follow it at /alerts/jobs/{id}"
                )))
            }
            Err(NotCreated::Store(err)) => return Err(internal(err)),
        };
        tracing::info!(job_id = row.id, total = row.total, by = %who(actor), "bulk redelivery started");
        self.inner.job_wake.notify_one();
        Ok(view(row))
    }

    pub async fn job(&self, id: i64) -> Result<JobView, AppError> {
        rows::get(self.db(), id)
            .await
            .map_err(internal)?
            .map(view)
            .ok_or_else(not_found)
    }

    /// Stops an active job between two batches: what it queued stays queued.
    pub async fn cancel_job(&self, actor: &Actor, id: i64) -> Result<JobView, AppError> {
        let db = self.db();
        let row = rows::get(db, id)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)?;
        let reason = format!("Cancelled by {}", who(actor));
        let audit = actor.entry(
            AuditAction::Cancel,
            object(ObjectKind::Job, id, &job_name(row.total)),
        );
        if !rows::cancel(db, id, &reason, now_ms(), &audit)
            .await
            .map_err(internal)?
        {
            return Err(AppError::Conflict(format!(
                "Job {id} has already ended ({}): only a queued or running job can be cancelled",
                row.state.as_str()
            )));
        }
        tracing::info!(job_id = id, by = %who(actor), "bulk redelivery cancelled");
        self.job(id).await
    }

    /// Starts the job runner: it works through active jobs until `stop`
    /// turns true, giving back at the end the job it was running.
    pub fn start_jobs(&self, stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let services = self.clone();
        let owner = format!("{}-{}", std::process::id(), crate::ids::new_id("j"));
        tokio::spawn(async move {
            let mut stop = stop;
            while !*stop.borrow() {
                // An error is logged by `internal`, and the job tried again after the pause.
                if let Ok(true) = services.run_one_job(&owner, &mut stop).await {
                    continue;
                }
                tokio::select! {
                    () = services.inner.job_wake.notified() => {},
                    () = tokio::time::sleep(IDLE_POLL) => {},
                    _ = stop.wait_for(|s| *s) => {},
                }
            }
            if let Err(err) = rows::release(services.db(), &owner).await {
                tracing::warn!(error = %err, "cannot give back the running job");
            }
        })
    }

    /// Claims one active job and runs it to its end or until `stop`; false
    /// when there was none.
    async fn run_one_job(
        &self,
        owner: &str,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<bool, AppError> {
        let db = self.db();
        let lease = |now: i64| now + i64::try_from(JOB_LEASE.as_millis()).unwrap_or(15_000);
        let now = now_ms();
        let Some(job) = rows::claim(db, owner, lease(now), now)
            .await
            .map_err(internal)?
        else {
            return Ok(false);
        };
        let stored: DeliveryFilter = serde_json::from_str(&job.filter_json).unwrap_or_default();
        // Times are absolute: `now` does not change what the filter means.
        let filter = match parse(&stored, now) {
            Ok(f) => ValidFilter { before: None, ..f },
            Err(_) => {
                rows::end(
                    db,
                    job.id,
                    JobState::Failed,
                    "Its stored filter is no longer valid",
                    now_ms(),
                )
                .await
                .map_err(internal)?;
                return Ok(true);
            }
        };
        tracing::info!(
            job_id = job.id,
            done = job.done,
            total = job.total,
            "bulk redelivery running"
        );
        loop {
            if let Some(reason) = self.destination_gone(&filter, &job).await? {
                rows::end(db, job.id, JobState::Failed, &reason, now_ms())
                    .await
                    .map_err(internal)?;
                tracing::warn!(job_id = job.id, reason, "bulk redelivery failed");
                return Ok(true);
            }
            let settings = self.inner.deps.jobs;
            let now = now_ms();
            let batch = rows::run_batch(db, &job, &filter, owner, settings.batch, lease(now), now)
                .await
                .map_err(internal)?;
            match batch {
                Batch::Progress { queued, .. } => {
                    self.inner.jobs.redelivered.fetch_add(queued, Relaxed);
                    if queued > 0 {
                        self.queue().wake.notify_one();
                    }
                }
                Batch::Finished => {
                    tracing::info!(job_id = job.id, "bulk redelivery done");
                    return Ok(true);
                }
                Batch::Stopped => return Ok(true),
            }
            let stopped = tokio::select! {
                () = tokio::time::sleep(settings.pause) => false,
                _ = stop.wait_for(|s| *s) => true,
            };
            if stopped || *stop.borrow() {
                return Ok(false);
            }
        }
    }

    /// Why a job on one destination cannot go on: the destination was deleted.
    async fn destination_gone(
        &self,
        filter: &ValidFilter,
        job: &JobRow,
    ) -> Result<Option<String>, AppError> {
        let Some(id) = filter.destination_id else {
            return Ok(None);
        };
        let live = crate::store::destinations::get(self.db(), id)
            .await
            .map_err(internal)?;
        if live.is_some() {
            return Ok(None);
        }
        let done = rows::get(self.db(), job.id)
            .await
            .map_err(internal)?
            .map_or(0, |j| j.done);
        Ok(Some(format!(
            "Destination {id} was deleted while the job ran: {} of {} had been queued again, and ended failed with it",
            thousands(done),
            thousands(job.total)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_name_every_state() {
        let c = JobCounters::default();
        c.redelivered.fetch_add(12, Relaxed);
        let text = c.render(&[("done".into(), 3)]);
        assert!(text.contains("alertwire_jobs{state=\"done\"} 3"), "{text}");
        assert!(
            text.contains("alertwire_jobs{state=\"running\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("alertwire_job_redelivered_total 12"),
            "{text}"
        );
    }
}
