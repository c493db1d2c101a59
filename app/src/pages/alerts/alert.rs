//! An alert's page, `/alerts/alert_…`: the `links.alert_url` of its webhooks.

use super::{alert_status_badge, load_error, query_value, status_badge, Missing};
use crate::api::deliveries::load_alert;
use crate::components::page_data::page_data;
use crate::format::utc_second;
use crate::model::{alert_type_label, AlertView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn AlertPage() -> impl IntoView {
    let params = use_params_map();
    // Only `alert_…` names an alert; anything else under /alerts/ is not a page.
    let id = move || {
        params
            .read()
            .get("id")
            .filter(|id| id.starts_with("alert_"))
    };
    let data = page_data(id, |id| async move {
        match id {
            Some(id) => Some(load_alert(id).await),
            None => None,
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    None => view! { <Missing message="There is nothing at this address."/> }.into_any(),
                    Some(Ok(alert)) => view! { <Loaded alert/> }.into_any(),
                    Some(Err(err)) => load_error(err),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Loaded(alert: AlertView) -> impl IntoView {
    let event = match &alert.change_type {
        Some(change) => format!("{} ({change})", alert.event_type),
        None => alert.event_type.clone(),
    };
    view! {
        <Title text=alert.id.clone()/>
        <nav class="breadcrumbs" aria-label="Breadcrumbs">
            <A href="/alerts/deliveries?view=alerts">"Alerts"</A> " / " {alert.id.clone()}
        </nav>
        <header class="detail-header">
            <h2>{format!("Alert {}", alert.id)}</h2>
            <span class="badge">{alert.status.clone()}</span>
            {alert_status_badge(alert.delivery_status())}
        </header>
        <section class="panel">
            <dl class="facts">
                <dt>"Rule"</dt><dd>{alert.rule_name.clone()}</dd>
                <dt>"Alert type"</dt><dd>{alert_type_label(&alert.alert_type).to_owned()}</dd>
                <dt>"Event"</dt><dd><code>{event}</code></dd>
                <dt>"Asset"</dt>
                <dd>
                    <a href=format!("/assets/{}", query_value(&alert.qualified_name))><code>{alert.qualified_name.clone()}</code></a>
                    " " <span class="muted">{alert.asset_type.clone()}</span>
                </dd>
                <dt>"Created"</dt><dd>{utc_second(alert.created_at)}</dd>
            </dl>
        </section>
        <section class="panel">
            <h3>"Deliveries"</h3>
            {if alert.deliveries.is_empty() {
                view! { <p class="muted">"This alert had no destination to go to."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead><tr><th>"Destination"</th><th>"Status"</th><th>"Attempts"</th><th></th></tr></thead>
                            <tbody>
                                {alert.deliveries.into_iter().map(|d| view! {
                                    <tr>
                                        <td data-label="Destination">{d.destination_name}</td>
                                        <td data-label="Status">{status_badge(d.status)}</td>
                                        <td data-label="Attempts" class="number">{d.attempts}</td>
                                        <td><a href=format!("/alerts/deliveries/{}", d.id)>"Details"</a></td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}
