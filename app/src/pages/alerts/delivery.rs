//! A delivery's page: its state, the JSON body it sends, every attempt with
//! its headers and response, and for admins Redeliver.

use super::deliveries::last_result;
use super::{load_error, state_badge};
use crate::api::deliveries::{load_delivery, CancelDelivery, RedeliverDelivery};
use crate::components::failure::FailureAdvice;
use crate::components::form::{action_error, FormAlert};
use crate::components::live::{use_live, LiveIndicator, LiveScope};
use crate::components::page_data::page_data;
use crate::components::shell::use_user;
use crate::domain::DeliveryStatus;
use crate::domain::Role;
use crate::error::AppError;
use crate::format::utc_second;
use crate::model::{alert_type_label, AttemptView, DeliveryDetail, DeliveryView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn DeliveryDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|v| v.parse::<i64>().ok());
    let redeliver = ServerAction::<RedeliverDelivery>::new();
    let cancel = ServerAction::<CancelDelivery>::new();
    let live = use_live(move || id().map(LiveScope::Delivery));
    let data = page_data(
        move || {
            (
                id(),
                redeliver.version().get() + cancel.version().get(),
                live.version(),
            )
        },
        |(id, _, _)| async move {
            match id {
                Some(id) => load_delivery(id).await,
                None => Err(AppError::NotFound("No such delivery".into())),
            }
        },
    );
    let user = use_user();
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumbs"><A href="/alerts/deliveries">"Deliveries"</A></nav>
        <LiveIndicator live/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let role = user.await.map(|u| u.role);
                let is_admin = role.is_some_and(|r| r.at_least(Role::Admin));
                let is_editor = role.is_some_and(|r| r.at_least(Role::Editor));
                match data.await {
                    Ok(detail) => view! { <Loaded detail is_admin is_editor redeliver cancel/> }.into_any(),
                    Err(err) => load_error(err),
                }
            })}
        </Transition>
    }
}

#[component]
fn Loaded(
    detail: DeliveryDetail,
    is_admin: bool,
    is_editor: bool,
    redeliver: ServerAction<RedeliverDelivery>,
    cancel: ServerAction<CancelDelivery>,
) -> impl IntoView {
    let DeliveryDetail {
        delivery: d,
        body,
        attempts,
    } = detail;
    let can_redeliver = is_admin && d.status.is_finished();
    let can_cancel = is_editor && !d.status.is_finished();
    let title = format!("Delivery {}", d.id);
    // Pretty for reading; the bytes sent (and signed) are the raw text. Read
    // from bytes, like every other JSON the page reads (`page_data.rs`).
    let pretty = serde_json::from_slice::<serde_json::Value>(body.as_bytes())
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.clone());
    view! {
        <Title text=title.clone()/>
        <header class="detail-header">
            <h2>{title}</h2>
            {state_badge(d.state)}
        </header>
        <RedeliverNotice redeliver/>
        <CancelNotice cancel/>
        <Summary d=d.clone()/>
        {can_cancel.then(|| view! { <CancelForm d=d.clone() cancel/> })}
        {is_admin.then(|| view! { <RedeliverForm d=d.clone() enabled=can_redeliver redeliver/> })}
        <section class="panel">
            <h3>"Body"</h3>
            <p class="hint">"Sent as is on every attempt, signed in X-AnomalyArmor-Signature and webhook-signature."</p>
            <pre class="code body" data-testid="body-pretty">{pretty}</pre>
            <details>
                <summary>"Raw body, as sent"</summary>
                <pre class="code body" data-testid="body-raw">{body}</pre>
            </details>
        </section>
        <section class="attempts" aria-label="Attempts">
            <h3>{format!("Attempts ({})", attempts.len())}</h3>
            {if attempts.is_empty() {
                view! { <p class="muted panel">"No attempt yet: the first one starts shortly."</p> }.into_any()
            } else {
                // Newest first: the one that explains the current state is on top.
                attempts.into_iter().rev().map(|a| view! { <Attempt a/> }).collect_view().into_any()
            }}
        </section>
    }
}

#[component]
fn Summary(d: DeliveryView) -> impl IntoView {
    let next = match (d.status, d.next_attempt_at) {
        (DeliveryStatus::Pending, Some(at)) => Some(utc_second(at)),
        _ => None,
    };
    let result = last_result(&d);
    view! {
        <section class="panel">
            <dl class="facts">
                <dt>"Alert"</dt>
                <dd><a href=format!("/alerts/{}", d.alert_id)><code>{d.alert_id.clone()}</code></a></dd>
                <dt>"Rule"</dt><dd>{format!("{} ({})", d.rule_name, alert_type_label(&d.alert_type))}</dd>
                <dt>"Destination"</dt>
                <dd><a href=format!("/alerts/destinations/{}", d.destination_id)>{d.destination_name.clone()}</a></dd>
                <dt>"webhook-id"</dt><dd><code>{d.msg_id.clone()}</code></dd>
                <dt>"Event"</dt><dd>{d.event_type.clone()}</dd>
                <dt>"Asset"</dt><dd><code>{d.qualified_name.clone()}</code></dd>
                <dt>"Status"</dt><dd>{state_badge(d.state)}</dd>
                <dt>"Attempts"</dt><dd>{d.attempts}</dd>
                <dt>"Last result"</dt><dd>{result}</dd>
                {d.last_error.clone().filter(|_| d.last_status.is_some()).map(|e| view! { <dt>"Last error"</dt><dd>{e}</dd> })}
                {next.map(|at| view! { <dt>"Next attempt"</dt><dd>{at}</dd> })}
                <dt>"Created"</dt><dd>{utc_second(d.created_at)}</dd>
                <dt>"Updated"</dt><dd>{utc_second(d.updated_at)}</dd>
            </dl>
        </section>
    }
}

/// "Queued again" after Redeliver: from the action with JavaScript, from `?redelivered=1` without.
#[component]
fn RedeliverNotice(redeliver: ServerAction<RedeliverDelivery>) -> impl IntoView {
    let query = use_query_map();
    let shown = move || match redeliver.value().get() {
        Some(result) => result.is_ok(),
        None => query.read().get("redelivered").is_some(),
    };
    view! {
        <Show when=shown>
            <p class="form-success" role="status">"Queued again: a new attempt starts shortly."</p>
        </Show>
    }
}

/// "Retries cancelled": from the action with JavaScript, from `?cancelled=1` without.
#[component]
fn CancelNotice(cancel: ServerAction<CancelDelivery>) -> impl IntoView {
    let query = use_query_map();
    let shown = move || match cancel.value().get() {
        Some(result) => result.is_ok(),
        None => query.read().get("cancelled").is_some(),
    };
    view! {
        <Show when=shown>
            <p class="form-success" role="status">"Retries cancelled: no more attempts will be made."</p>
        </Show>
    }
}

#[component]
fn CancelForm(d: DeliveryView, cancel: ServerAction<CancelDelivery>) -> impl IntoView {
    let error = action_error(cancel);
    view! {
        <section class="panel">
            <h3>"Cancel retries"</h3>
            <FormAlert error/>
            <ActionForm action=cancel attr:class="inline-form">
                <input type="hidden" name="id" value=d.id.to_string()/>
                <span>"Stop attempting this delivery: it is marked failed and can be redelivered later by an admin."</span>
                <button type="submit" class="button danger" disabled=move || cancel.pending().get()>
                    "Cancel retries"
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
fn RedeliverForm(
    d: DeliveryView,
    enabled: bool,
    redeliver: ServerAction<RedeliverDelivery>,
) -> impl IntoView {
    let error = action_error(redeliver);
    view! {
        <section class="panel">
            <h3>"Redeliver"</h3>
            <FormAlert error/>
            <ActionForm action=redeliver attr:class="inline-form">
                <input type="hidden" name="id" value=d.id.to_string()/>
                <span>{if enabled {
                    "Send this alert to the destination again, with the same webhook-id and body; the retry schedule starts over."
                } else {
                    "A pending delivery is already queued; it can be redelivered once it is delivered or failed."
                }}</span>
                <button type="submit" class="button secondary" disabled=move || !enabled || redeliver.pending().get()>
                    "Redeliver"
                </button>
            </ActionForm>
        </section>
    }
}

fn error_kind_label(kind: &str) -> &str {
    match kind {
        "dns" => "DNS lookup failed",
        "connect" => "Connection failed",
        "tls" => "TLS error",
        "timeout" => "Timed out",
        "http_status" => "Error status",
        "redirect" => "Redirect (not followed)",
        "blocked_address" => "Blocked address",
        other => other,
    }
}

#[component]
fn Attempt(a: AttemptView) -> impl IntoView {
    let ok = a.error_kind.is_none() && a.response_status.is_some_and(|s| (200..300).contains(&s));
    let message = a
        .error_message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    let result = match (&a.response_status, &a.error_kind) {
        (Some(status), None) => format!("Status: {status}"),
        (Some(status), Some(kind)) => {
            format!("Status: {status} ({}{message})", error_kind_label(kind))
        }
        (None, Some(kind)) => format!("{}{message}", error_kind_label(kind)),
        (None, None) if message.is_empty() => "No response".into(),
        (None, None) => message.trim_start_matches(": ").to_owned(),
    };
    let number = a.number;
    view! {
        <article class=if ok { "panel attempt ok" } else { "panel attempt failed" } data-attempt=number.to_string()>
            <header class="detail-header">
                <h4>{format!("Attempt {number}")}</h4>
                <span class=if ok { "badge ok" } else { "badge failed" }>{if ok { "Succeeded" } else { "Failed" }}</span>
            </header>
            <dl class="facts">
                <dt>"Started"</dt><dd>{utc_second(a.started_at)}</dd>
                <dt>"Duration"</dt><dd>{format!("{} ms", a.duration_ms)}</dd>
                <dt>"Result"</dt><dd class="attempt-result">{result}</dd>
                {a.next_attempt_at.map(|at| view! { <dt>"Next attempt"</dt><dd>{utc_second(at)}</dd> })}
            </dl>
            {a.failure.map(|failure| view! { <FailureAdvice failure/> })}
            <details>
                <summary>"Request headers"</summary>
                <HeaderTable headers=a.request_headers/>
            </details>
            <details>
                <summary>"Response headers"</summary>
                <HeaderTable headers=a.response_headers/>
            </details>
            <details>
                <summary>"Response body"</summary>
                {match a.response_body {
                    Some(body) if !body.is_empty() => view! { <pre class="code body">{body}</pre> }.into_any(),
                    _ => view! { <p class="muted">"Empty"</p> }.into_any(),
                }}
            </details>
        </article>
    }
}

#[component]
fn HeaderTable(headers: Vec<(String, String)>) -> impl IntoView {
    if headers.is_empty() {
        return view! { <p class="muted">"None"</p> }.into_any();
    }
    view! {
        <table class="table compact">
            <tbody>
                {headers.into_iter().map(|(k, v)| view! {
                    <tr><th scope="row"><code>{k}</code></th><td><code>{v}</code></td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
