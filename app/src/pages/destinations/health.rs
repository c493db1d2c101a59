//! A destination's health on its page: success rate, attempts by outcome,
//! p50/p95 response time for the last 24 hours or 7 days (`?window=`), the
//! last error and consecutive failures, its recent deliveries and test
//! sends. Follows the page's live status (reloads with `live_version`).

use crate::api::destinations::destination_health;
use crate::components::chart::{LatencyChart, OutcomeChart};
use crate::components::live::live_version;
use crate::components::page_data::page_data;
use crate::format::{relative, utc_minute, utc_second};
use crate::model::{DeliveryView, DestinationHealthPage, HealthState, HealthWindow, TestSendView};
use crate::pages::alerts::state_badge;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Bumped by the Configure form after a Send Test Alert, so the test sends
/// shown here reload (provided by the destination's page).
#[derive(Debug, Clone, Copy)]
pub struct TestsSent(pub RwSignal<u64>);

#[component]
pub fn DestinationHealthPanel(id: i64) -> impl IntoView {
    let query = use_query_map();
    let window = move || {
        query
            .read()
            .get("window")
            .and_then(|w| HealthWindow::parse(&w))
            .unwrap_or_default()
    };
    let version = live_version();
    let tests = use_context::<TestsSent>();
    let data = page_data(
        move || (window(), version(), tests.map_or(0, |t| t.0.get())),
        move |(window, _, _)| destination_health(id, Some(window.as_str().to_owned())),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading health…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => Either::Left(view! { <Loaded id page/> }),
                    Err(err) => Either::Right(view! { <p class="form-alert" role="alert">{err.to_string()}</p> }),
                }
            })}
        </Transition>
    }
}

#[component]
fn Loaded(id: i64, page: DestinationHealthPage) -> impl IntoView {
    let h = page.health.clone();
    let window = h.window;
    let tab = move |w: HealthWindow| {
        let current = w == window;
        view! {
            <a href=format!("/alerts/destinations/{id}?window={}", w.as_str())
                class=if current { "button secondary small current" } else { "button secondary small" }
                aria-current=current.then_some("page")>{w.label()}</a>
        }
    };
    let rate = h.success_rate.map_or_else(
        || "No attempts".to_owned(),
        |r| format!("{:.1}%", r * 100.0),
    );
    let ms = |v: Option<i64>| v.map_or_else(|| "—".to_owned(), |v| format!("≤ {v} ms"));
    let unit = if window == HealthWindow::Day {
        "hour"
    } else {
        "day"
    };
    let first = page
        .bars
        .first()
        .map(|b| utc_minute(b.start))
        .unwrap_or_default();
    let state = match h.state {
        HealthState::Healthy => ("badge ok", "Healthy"),
        HealthState::Failing => ("badge failed", "Failing"),
        HealthState::Disabled => ("badge", "Disabled"),
    };
    view! {
        <section class="panel health" id="health">
            <header class="health-header">
                <h3>"Health " <span class=state.0 id="health-state">{state.1}</span></h3>
                <nav class="window-toggle" aria-label="Window">{tab(HealthWindow::Day)}{tab(HealthWindow::Week)}</nav>
            </header>
            <dl class="facts health-figures">
                <dt>"Success rate"</dt><dd id="health-success-rate">{rate}</dd>
                <dt>"Attempts"</dt>
                <dd id="health-attempts">{format!("{} ({} succeeded, {} failed)", h.attempts, h.succeeded, h.failed)}</dd>
                <dt>"Response time p50"</dt><dd id="health-p50">{ms(h.p50_ms)}</dd>
                <dt>"Response time p95"</dt><dd id="health-p95">{ms(h.p95_ms)}</dd>
                <dt>"Consecutive failures"</dt><dd id="health-consecutive">{h.consecutive_failures}</dd>
                <dt>"Last error"</dt>
                <dd id="health-last-error">{match (h.last_error.clone(), h.last_error_at) {
                    (Some(e), Some(at)) => format!("{e} ({})", utc_minute(at)),
                    (Some(e), None) => e,
                    _ => "None".to_owned(),
                }}</dd>
            </dl>
            <figure class="chart-figure">
                <figcaption>{format!("Attempts by outcome, per {unit}, since {first}")}</figcaption>
                <OutcomeChart bars=page.bars.clone()
                    label=format!("Attempts by outcome per {unit}: {} succeeded, {} failed", h.succeeded, h.failed)/>
                <ul class="legend">
                    {h.outcomes.parts().into_iter().map(|(name, n, class)| view! {
                        <li><span class=format!("swatch {class}")></span>{format!("{name}: {n}")}</li>
                    }).collect_view()}
                </ul>
            </figure>
            <figure class="chart-figure">
                <figcaption>{format!("Response time p50 and p95, per {unit}")}</figcaption>
                <LatencyChart bars=page.bars.clone()
                    label=format!("Response time per {unit}: p50 {}, p95 {}", ms(h.p50_ms), ms(h.p95_ms))/>
                <ul class="legend">
                    <li><span class="swatch p50"></span>"p50"</li>
                    <li><span class="swatch p95"></span>"p95"</li>
                </ul>
            </figure>
            <p class="hint">"Alert deliveries only: test sends are not counted. Response times are read from buckets, so they are upper bounds."</p>
        </section>
        <RecentDeliveries id recent=page.recent.clone() now=page.now/>
        <TestSends tests=page.tests.clone() now=page.now/>
    }
}

#[component]
fn RecentDeliveries(id: i64, recent: Vec<DeliveryView>, now: i64) -> impl IntoView {
    let all = format!("/alerts/deliveries?destination_id={id}");
    view! {
        <section class="panel" id="recent-deliveries">
            <h3>"Recent deliveries"</h3>
            {if recent.is_empty() {
                Either::Left(view! { <p class="muted">"No deliveries yet."</p> })
            } else {
                Either::Right(view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead><tr><th>"Delivery"</th><th>"Status"</th><th>"Event"</th><th>"Attempts"</th><th>"Created"</th></tr></thead>
                            <tbody>
                                {recent.into_iter().map(|d| view! {
                                    <tr>
                                        <td data-label="Delivery"><a href=format!("/alerts/deliveries/{}", d.id)>{format!("#{}", d.id)}</a></td>
                                        <td data-label="Status">{state_badge(d.state)}</td>
                                        <td data-label="Event">{format!("{} · {}", d.event_type, d.qualified_name)}</td>
                                        <td data-label="Attempts">{d.attempts}</td>
                                        <td data-label="Created" title=utc_second(d.created_at)>{relative(now, d.created_at)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                })
            }}
            <p><a href=all>"All deliveries to this destination"</a></p>
        </section>
    }
}

#[component]
fn TestSends(tests: Vec<TestSendView>, now: i64) -> impl IntoView {
    view! {
        <section class="panel" id="test-sends">
            <h3>"Test sends"</h3>
            <p class="hint">"Test alerts sent from this saved destination's settings: kept here, apart from its deliveries."</p>
            {if tests.is_empty() {
                Either::Left(view! { <p class="muted">"No test sent yet."</p> })
            } else {
                Either::Right(view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead><tr><th>"Sent"</th><th>"By"</th><th>"Status"</th><th>"Response time"</th><th>"Error"</th></tr></thead>
                            <tbody>
                                {tests.into_iter().map(|t| view! {
                                    <tr>
                                        <td data-label="Sent" title=utc_second(t.at)>{relative(now, t.at)}</td>
                                        <td data-label="By">{t.by.unwrap_or_default()}</td>
                                        <td data-label="Status"><span class=if t.ok { "badge ok" } else { "badge failed" }>{t.summary}</span></td>
                                        <td data-label="Response time">{format!("{} ms", t.duration_ms)}</td>
                                        <td data-label="Error">{t.error.unwrap_or_default()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                })
            }}
        </section>
    }
}
