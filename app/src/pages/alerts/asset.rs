//! An asset's page, `/assets/<qualified name>`: the `links.asset_url` of its
//! webhooks, listing the alerts raised for it with their delivery status.

use super::{alert_status_badge, load_error, query_value};
use crate::api::deliveries::{load_asset_alerts, AlertsChunk};
use crate::components::page_data::page_data;
use crate::format::utc_second;
use crate::model::{alert_type_label, AlertView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

/// Reverses the percent-encoding `links.asset_url` applies to the name.
fn decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[component]
pub fn AssetPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let name = move || {
        params
            .read()
            .get("name")
            .map(|n| decode(&n))
            .unwrap_or_default()
    };
    let before = move || {
        query
            .read()
            .get("before")
            .and_then(|v| v.parse::<i64>().ok())
    };
    let data = page_data(
        move || (name(), before()),
        |(name, before)| load_asset_alerts(name, before),
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let shown = name();
                let paged = before().is_some();
                match data.await {
                    Ok(chunk) => view! { <Loaded name=shown chunk paged/> }.into_any(),
                    Err(err) => load_error(err),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Loaded(name: String, chunk: AlertsChunk, paged: bool) -> impl IntoView {
    let AlertsChunk { alerts, older } = chunk;
    let here = format!("/assets/{}", query_value(&name));
    let deliveries = format!("/alerts/deliveries?q={}", query_value(&name));
    view! {
        <Title text=name.clone()/>
        <nav class="breadcrumbs" aria-label="Breadcrumbs">
            <A href="/alerts/deliveries?view=alerts">"Alerts"</A> " / " {name.clone()}
        </nav>
        <header class="detail-header">
            <h2>"Asset "<code>{name.clone()}</code></h2>
        </header>
        <p class="hint">
            "The alerts raised for this asset, newest first. "
            <a href=deliveries>"Its deliveries"</a>
        </p>
        {if alerts.is_empty() {
            view! {
                <div class="empty-state">
                    <h2>"No alerts for this asset"</h2>
                    <p>"No rule has raised an alert for it, or its history has been pruned."</p>
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="panel table-wrap">
                    <table class="table alerts">
                        <thead><tr><th>"Alert"</th><th>"Rule"</th><th>"Alert type"</th><th>"Event"</th><th>"Created"</th><th>"Delivery"</th></tr></thead>
                        <tbody>{alerts.into_iter().map(|alert| view! { <Row alert/> }).collect_view()}</tbody>
                    </table>
                </div>
            }
            .into_any()
        }}
        {(paged || older.is_some()).then(|| view! {
            <nav class="pager" aria-label="Pages">
                {paged.then(|| view! { <a class="button secondary small" href=here.clone()>"Newest"</a> })}
                {older.map(|b| view! { <a class="button secondary small" href=format!("{here}?before={b}")>"Older"</a> })}
            </nav>
        })}
    }
}

#[component]
fn Row(alert: AlertView) -> impl IntoView {
    let status = alert.delivery_status();
    view! {
        <tr data-alert=alert.id.clone()>
            <td data-label="Alert"><a href=format!("/alerts/{}", alert.id)><code>{alert.id.clone()}</code></a></td>
            <td data-label="Rule">{alert.rule_name.clone()}</td>
            <td data-label="Alert type">{alert_type_label(&alert.alert_type).to_owned()}</td>
            <td data-label="Event"><code>{alert.event_type.clone()}</code></td>
            <td data-label="Created">{utc_second(alert.created_at)}</td>
            <td data-label="Delivery">{alert_status_badge(status)}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn names_decode_from_the_link() {
        assert_eq!(decode("s3%3A%2F%2Fbucket%2Fa%20b%3Fx"), "s3://bucket/a b?x");
        assert_eq!(
            decode("production.public.orders"),
            "production.public.orders"
        );
        assert_eq!(decode("50%"), "50%");
        assert_eq!(decode("%zz"), "%zz");
    }
}
