//! Bulk recovery (admins): "Redeliver failed" on the Deliveries tab leads to
//! a confirmation (`/alerts/deliveries/redeliver?<filter>`) that counts the
//! failed deliveries the filter matches; confirming starts a job and goes to
//! its page (`/alerts/jobs/:id`), which shows its progress and Cancel. Both
//! work without JavaScript (a GET link, POST forms, a Refresh link); with it
//! the job's page follows the job every second while it runs.

use super::load_error;
use crate::api::jobs::{load_job, load_redelivery_preview, CancelJob, StartRedelivery};
use crate::components::page_data::{page_data, PageData};
use crate::format::{thousands, utc_second};
use crate::model::{DeliveryFilter, JobState, JobView, RedeliveryPreview};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The Deliveries tab with this filter (where to narrow it).
fn deliveries_href(filter: &DeliveryFilter) -> String {
    let pairs: Vec<String> = filter
        .pairs()
        .into_iter()
        .map(|(k, v)| format!("{k}={}", super::query_value(v)))
        .collect();
    if pairs.is_empty() {
        "/alerts/deliveries".into()
    } else {
        format!("/alerts/deliveries?{}", pairs.join("&"))
    }
}

/// The confirmation's address for the Deliveries tab's current filter.
pub(super) fn redeliver_href(filter: &DeliveryFilter) -> String {
    deliveries_href(&DeliveryFilter {
        status: Some("failed".into()),
        cursor: None,
        ..filter.clone()
    })
    .replacen("/alerts/deliveries", "/alerts/deliveries/redeliver", 1)
}

#[component]
pub fn RedeliverFailedPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        let q = query.read();
        let text = |key: &str| q.get(key).filter(|v| !v.is_empty());
        DeliveryFilter {
            status: text("status"),
            destination_id: text("destination_id"),
            rule_id: text("rule_id"),
            event_type: text("event_type"),
            range: text("range"),
            since: text("since"),
            until: text("until"),
            q: text("q"),
            cursor: None,
        }
    };
    let preview = page_data(filter, |f| {
        load_redelivery_preview(
            f.status,
            f.destination_id,
            f.rule_id,
            f.event_type,
            f.range,
            f.since,
            f.until,
            f.q,
        )
    });
    let start = ServerAction::<StartRedelivery>::new();
    view! {
        <Title text="Redeliver failed deliveries"/>
        <nav class="breadcrumbs" aria-label="Breadcrumbs"><A href="/alerts/deliveries">"Deliveries"</A></nav>
        <h2>"Redeliver failed deliveries"</h2>
        <Transition fallback=|| view! { <p class="muted">"Counting…"</p> }>
            {move || Suspend::new(async move {
                let shown = filter();
                match preview.await {
                    Ok(p) => view! { <Preview p start/> }.into_any(),
                    Err(err) if err.form().is_some_and(|f| f.message_for("since").is_some()) => {
                        view! { <AskTimeRange filter=shown err/> }.into_any()
                    }
                    Err(err) => load_error(err),
                }
            })}
        </Transition>
    }
}

/// The count, the filter in words, and the confirm button when there is
/// something to redeliver within the cap.
#[component]
fn Preview(p: RedeliveryPreview, start: ServerAction<StartRedelivery>) -> impl IntoView {
    let back = deliveries_href(&p.filter);
    let n = thousands(p.count);
    let noun = if p.count == 1 {
        "delivery"
    } else {
        "deliveries"
    };
    let summary = format!("{n} failed {noun} match: {}.", p.description);
    let body = if let Some(id) = p.running {
        view! {
            <p class="form-alert" role="alert">
                {format!("Job {id} is already redelivering these. ")}
                <a href=format!("/alerts/jobs/{id}")>"Follow it"</a>
            </p>
        }
        .into_any()
    } else if p.count == 0 {
        view! { <p class="muted">"Nothing to redeliver."</p> }.into_any()
    } else if p.count > p.cap {
        view! {
            <p class="form-alert" role="alert" data-testid="over-cap">
                {format!(
                    "A bulk redelivery takes at most {} deliveries: narrow the filter (a shorter time range, one destination).",
                    thousands(p.cap)
                )}
            </p>
        }
        .into_any()
    } else {
        view! { <ConfirmForm filter=p.filter.clone() label=format!("Redeliver {n} failed {noun}") start/> }.into_any()
    };
    view! {
        <section class="panel">
            <p data-testid="redeliver-count" data-count=p.count.to_string()>{summary}</p>
            <p class="hint">
                "Each is queued again with the same webhook-id and body and a fresh retry schedule, "
                "behind new alerts, in batches; a delivery that is no longer failed is left alone."
            </p>
            {body}
            <p><a href=back>"Back to the deliveries"</a></p>
        </section>
    }
}

#[component]
fn ConfirmForm(
    filter: DeliveryFilter,
    label: String,
    start: ServerAction<StartRedelivery>,
) -> impl IntoView {
    let error = move || {
        start
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    let hidden = filter
        .pairs()
        .into_iter()
        .filter(|(k, _)| *k != "range")
        .map(|(k, v)| view! { <input type="hidden" name=k value=v.to_owned()/> })
        .collect_view();
    view! {
        <Show when=move || error().is_some()>
            <p class="form-alert" role="alert">{error}</p>
        </Show>
        <ActionForm action=start attr:class="inline-form">
            {hidden}
            <button type="submit" class="button primary" disabled=move || start.pending().get()>
                {label}
            </button>
        </ActionForm>
    }
}

/// A filter without a time range: a bulk redelivery needs one.
#[component]
fn AskTimeRange(filter: DeliveryFilter, err: crate::error::AppError) -> impl IntoView {
    let messages = err
        .form()
        .map(|f| f.fields.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|f| view! { <li data-field=f.field>{f.message}</li> })
        .collect_view();
    let hidden = filter
        .pairs()
        .into_iter()
        .filter(|(k, _)| !matches!(*k, "range" | "since" | "until"))
        .map(|(k, v)| view! { <input type="hidden" name=k value=v.to_owned()/> })
        .collect_view();
    let ranges = [
        ("1h", "Last hour"),
        ("24h", "Last 24 hours"),
        ("7d", "Last 7 days"),
    ];
    view! {
        <section class="panel">
            <div class="form-alert" role="alert"><ul>{messages}</ul></div>
            <form method="get" action="/alerts/deliveries/redeliver" class="filters" aria-label="Time range">
                {hidden}
                <div class="field">
                    <label for="redeliver-range">"Time"</label>
                    <select id="redeliver-range" name="range">
                        <option value="custom">"From / To"</option>
                        {ranges.into_iter().map(|(k, label)| view! { <option value=k selected=k == "24h">{label}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="redeliver-since">"From (UTC)"</label>
                    <input id="redeliver-since" name="since" type="datetime-local" step="1"/>
                </div>
                <div class="field">
                    <label for="redeliver-until">"To (UTC)"</label>
                    <input id="redeliver-until" name="until" type="datetime-local" step="1"/>
                </div>
                <button type="submit" class="button secondary">"Count"</button>
            </form>
            <p><a href=deliveries_href(&filter)>"Back to the deliveries"</a></p>
        </section>
    }
}

#[component]
pub fn JobPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|v| v.parse::<i64>().ok());
    let cancel = ServerAction::<CancelJob>::new();
    // Bumped every second while the job is active (with JavaScript).
    let tick = RwSignal::new(0_u64);
    let active = RwSignal::new(false);
    let data = page_data(
        move || (id(), tick.get(), cancel.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => load_job(id).await,
                None => Err(crate::error::AppError::NotFound("No such job".into())),
            }
        },
    );
    follow(data, tick, active);
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumbs"><A href="/alerts/deliveries">"Deliveries"</A></nav>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(job) => view! { <JobLoaded job cancel/> }.into_any(),
                    Err(err) => load_error(err),
                }
            })}
        </Transition>
    }
}

/// With JavaScript: reload the job every second while it is queued or running.
fn follow(
    data: PageData<Result<JobView, crate::error::AppError>>,
    tick: RwSignal<u64>,
    active: RwSignal<bool>,
) {
    #[cfg(feature = "hydrate")]
    {
        Effect::new(move || {
            if let Some(Ok(job)) = data.get() {
                active.set(job.state.is_active());
            }
        });
        let bump = move || {
            if active.get_untracked() {
                tick.update(|t| *t += 1);
            }
        };
        if let Ok(handle) = set_interval_with_handle(bump, std::time::Duration::from_secs(1)) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (data, tick, active);
}

fn job_badge(state: JobState) -> impl IntoView + use<> {
    let class = match state {
        JobState::Queued => "badge pending",
        JobState::Running => "badge retrying",
        JobState::Done => "badge ok",
        JobState::Cancelled | JobState::Failed => "badge failed",
    };
    view! { <span class=class data-testid="job-state" data-state=state.as_str()>{state.label()}</span> }
}

#[component]
fn JobLoaded(job: JobView, cancel: ServerAction<CancelJob>) -> impl IntoView {
    let title = format!("Job {}", job.id);
    let active = job.state.is_active();
    let progress = format!(
        "{} of {} queued again",
        thousands(job.done),
        thousands(job.total)
    );
    let skipped = (job.state == JobState::Done && job.done < job.total).then(|| {
        format!(
            " ({} skipped: no longer failed, or removed meanwhile)",
            thousands(job.total - job.done)
        )
    });
    let error = move || {
        cancel
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    let href = format!("/alerts/jobs/{}", job.id);
    let filter = job.filter.clone();
    view! {
        <Title text=title.clone()/>
        <header class="detail-header">
            <h2>{title}</h2>
            {job_badge(job.state)}
        </header>
        <section class="panel">
            <p>
                <progress max=job.total.max(1).to_string() value=job.done.to_string() aria-label="Progress"></progress>
                " "
                <span data-testid="job-progress" data-done=job.done.to_string() data-total=job.total.to_string()>{progress}</span>
                {skipped}
            </p>
            {job.error.clone().map(|e| view! { <p class="form-alert" role="alert" data-testid="job-error">{e}</p> })}
            <dl class="facts">
                <dt>"Redelivers"</dt>
                <dd><a href=deliveries_href(&filter)>"The failed deliveries of this filter"</a></dd>
                <dt>"Started by"</dt><dd>{job.created_by.clone()}</dd>
                <dt>"Created"</dt><dd>{utc_second(job.created_at)}</dd>
                {job.finished_at.map(|at| view! { <dt>"Finished"</dt><dd>{utc_second(at)}</dd> })}
            </dl>
            {active.then(|| view! { <p><a href=href.clone() class="button secondary small">"Refresh"</a></p> })}
        </section>
        <Show when=move || error().is_some()>
            <p class="form-alert" role="alert">{error}</p>
        </Show>
        {active.then(|| view! {
            <section class="panel">
                <ActionForm action=cancel attr:class="inline-form">
                    <input type="hidden" name="id" value=job.id.to_string()/>
                    <span>"Stop after the current batch: what is already queued stays queued."</span>
                    <button type="submit" class="button danger" disabled=move || cancel.pending().get()>"Cancel"</button>
                </ActionForm>
            </section>
        })}
    }
}
