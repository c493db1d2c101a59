//! Alerts -> Deliveries: every delivery (filtered by a GET form, so it works
//! without JavaScript), or with `?view=alerts` the recent alerts and the
//! state of each of their deliveries. Both page with "Older" links.

use super::{query_value, status_badge, EmptyState};
use crate::api::deliveries::{load_alerts, load_deliveries, AlertsChunk, DeliveriesData};
use crate::components::live::{live_version, use_live, LiveIndicator, LiveScope};
use crate::domain::DeliveryStatus;
use crate::format::utc_minute;
use crate::model::{alert_type_label, AlertView, DeliveryView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn DeliveriesTab() -> impl IntoView {
    let query = use_query_map();
    // A memo, so changing the filters does not rebuild the list around them.
    let alerts_view = Memo::new(move |_| query.read().get("view").as_deref() == Some("alerts"));
    let link_class = move |alerts: bool| {
        move || {
            if alerts_view.get() == alerts {
                "segment current"
            } else {
                "segment"
            }
        }
    };
    let current = move |alerts: bool| move || (alerts_view.get() == alerts).then_some("page");
    let live = use_live(move || {
        Some(LiveScope::of_destination(
            query.read().get("destination_id"),
        ))
    });
    view! {
        <Title text="Deliveries"/>
        <nav class="segmented" aria-label="List">
            <a href="/alerts/deliveries" class=link_class(false) aria-current=current(false)>"By delivery"</a>
            <a href="/alerts/deliveries?view=alerts" class=link_class(true) aria-current=current(true)>"By alert"</a>
        </nav>
        <LiveIndicator live/>
        {move || if alerts_view.get() {
            view! { <RecentAlerts/> }.into_any()
        } else {
            view! { <DeliveryList/> }.into_any()
        }}
    }
}

/// The filters as the query string has them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Filters {
    status: Option<String>,
    destination_id: Option<i64>,
    cursor: Option<String>,
}

impl Filters {
    fn is_filtered(&self) -> bool {
        self.status.is_some() || self.destination_id.is_some()
    }

    /// The address of the page after this one, with the same filters.
    fn older_href(&self, cursor: &str) -> String {
        let mut href = String::from("/alerts/deliveries?");
        if let Some(status) = &self.status {
            href.push_str(&format!("status={}&", query_value(status)));
        }
        if let Some(id) = self.destination_id {
            href.push_str(&format!("destination_id={id}&"));
        }
        href.push_str(&format!("cursor={}", query_value(cursor)));
        href
    }

    /// The first page with the same filters.
    fn newest_href(&self) -> String {
        let mut parts = Vec::new();
        if let Some(status) = &self.status {
            parts.push(format!("status={}", query_value(status)));
        }
        if let Some(id) = self.destination_id {
            parts.push(format!("destination_id={id}"));
        }
        if parts.is_empty() {
            "/alerts/deliveries".into()
        } else {
            format!("/alerts/deliveries?{}", parts.join("&"))
        }
    }
}

#[component]
fn DeliveryList() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        let q = query.read();
        let text = |key: &str| q.get(key).filter(|v| !v.is_empty());
        Filters {
            status: text("status"),
            destination_id: text("destination_id").and_then(|v| v.parse().ok()),
            cursor: text("cursor"),
        }
    };
    let live = live_version();
    let data = Resource::new(
        move || (filters(), live()),
        |(f, _)| load_deliveries(f.status, f.destination_id, f.cursor),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading deliveries…"</p> }>
            {move || Suspend::new(async move {
                let shown = filters();
                match data.await {
                    Ok(data) => view! { <DeliveriesLoaded data filters=shown/> }.into_any(),
                    Err(err) => view! {
                        <FilterForm filters=shown.clone() destinations=Vec::new()/>
                        <p class="form-alert" role="alert">{err.to_string()}</p>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DeliveriesLoaded(data: DeliveriesData, filters: Filters) -> impl IntoView {
    let DeliveriesData { page, destinations } = data;
    let first_page = filters.cursor.is_none();
    let body = if page.items.is_empty() && first_page && !filters.is_filtered() {
        view! {
            <EmptyState title="No deliveries yet">
                <p>"Every attempt to send an alert to a destination is listed here, with its response and timing."</p>
            </EmptyState>
        }
        .into_any()
    } else if page.items.is_empty() {
        view! {
            <EmptyState title="No deliveries match">
                <p>"Try another status or destination."</p>
            </EmptyState>
        }
        .into_any()
    } else {
        view! { <DeliveryTable items=page.items/> }.into_any()
    };
    let older = page.next_cursor.map(|c| filters.older_href(&c));
    let newest = (!first_page).then(|| filters.newest_href());
    view! {
        <FilterForm filters destinations/>
        {body}
        {(older.is_some() || newest.is_some()).then(|| view! {
            <nav class="pager" aria-label="Pages">
                {newest.map(|href| view! { <a class="button secondary small" href=href>"Newest"</a> })}
                {older.map(|href| view! { <a class="button secondary small" href=href>"Older"</a> })}
            </nav>
        })}
    }
}

/// A GET form: the filters end up in the address, with or without JavaScript.
#[component]
fn FilterForm(filters: Filters, destinations: Vec<crate::model::RuleDestination>) -> impl IntoView {
    let status = filters.status.clone().unwrap_or_default();
    view! {
        <form method="get" action="/alerts/deliveries" class="filters" role="search" aria-label="Filter deliveries">
            <div class="field">
                <label for="filter-status">"Status"</label>
                <select id="filter-status" name="status">
                    <option value="" selected=status.is_empty()>"All"</option>
                    {DeliveryStatus::ALL
                        .into_iter()
                        .map(|s| view! { <option value=s.as_str() selected=s.as_str() == status>{s.label()}</option> })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="filter-destination">"Destination"</label>
                <select id="filter-destination" name="destination_id">
                    <option value="" selected=filters.destination_id.is_none()>"All destinations"</option>
                    {destinations.into_iter().map(|d| view! {
                        <option value=d.id.to_string() selected=filters.destination_id == Some(d.id)>{d.name}</option>
                    }).collect_view()}
                </select>
            </div>
            <button type="submit" class="button secondary">"Filter"</button>
        </form>
    }
}

#[component]
fn DeliveryTable(items: Vec<DeliveryView>) -> impl IntoView {
    view! {
        <div class="panel table-wrap">
            <table class="table deliveries">
                <thead>
                    <tr>
                        <th>"Alert"</th><th>"Rule"</th><th>"Destination"</th><th>"Status"</th>
                        <th>"Attempts"</th><th>"Last result"</th><th>"Next attempt"</th><th>"Created"</th><th></th>
                    </tr>
                </thead>
                <tbody>
                    {items.into_iter().map(|d| view! { <DeliveryRow d/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn DeliveryRow(d: DeliveryView) -> impl IntoView {
    let next = match (d.status, d.next_attempt_at) {
        (DeliveryStatus::Pending, Some(at)) => utc_minute(at),
        _ => "—".into(),
    };
    view! {
        <tr data-delivery=d.id.to_string()>
            <td data-label="Alert"><a href=format!("/alerts/{}", d.alert_id)><code>{d.alert_id.clone()}</code></a></td>
            <td data-label="Rule">{d.rule_name.clone()}</td>
            <td data-label="Destination">{d.destination_name.clone()}</td>
            <td data-label="Status">{status_badge(d.status)}</td>
            <td data-label="Attempts" class="number">{d.attempts}</td>
            <td data-label="Last result">{last_result(&d)}</td>
            <td data-label="Next attempt">{next}</td>
            <td data-label="Created">{utc_minute(d.created_at)}</td>
            <td><a href=format!("/alerts/deliveries/{}", d.id)>"Details"</a></td>
        </tr>
    }
}

/// `HTTP 200`, the error, or nothing yet.
pub(super) fn last_result(d: &DeliveryView) -> String {
    match (&d.last_status, &d.last_error) {
        (Some(status), _) => format!("HTTP {status}"),
        (None, Some(error)) => error.clone(),
        (None, None) if d.attempts == 0 => "Not attempted yet".into(),
        (None, None) => "—".into(),
    }
}

#[component]
fn RecentAlerts() -> impl IntoView {
    let query = use_query_map();
    let before = move || {
        query
            .read()
            .get("before")
            .and_then(|v| v.parse::<i64>().ok())
    };
    let live = live_version();
    let data = Resource::new(
        move || (before(), live()),
        |(before, _)| load_alerts(before),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading alerts…"</p> }>
            {move || Suspend::new(async move {
                let paged = before().is_some();
                match data.await {
                    Ok(chunk) => view! { <AlertsLoaded chunk paged/> }.into_any(),
                    Err(err) => view! { <p class="form-alert" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AlertsLoaded(chunk: AlertsChunk, paged: bool) -> impl IntoView {
    let AlertsChunk { alerts, older } = chunk;
    let body = if alerts.is_empty() {
        view! {
            <EmptyState title="No alerts yet">
                <p>"An alert is raised when an event posted to /api/v1/events matches an enabled rule."</p>
            </EmptyState>
        }
        .into_any()
    } else {
        view! {
            <div class="panel table-wrap">
                <table class="table alerts">
                    <thead>
                        <tr><th>"Alert"</th><th>"Rule"</th><th>"Alert type"</th><th>"Asset"</th><th>"Created"</th><th>"Deliveries"</th></tr>
                    </thead>
                    <tbody>
                        {alerts.into_iter().map(|alert| view! { <AlertRow alert/> }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <p class="hint list-intro">"Each alert a rule raised, newest first, with the state of its delivery to each destination."</p>
        {body}
        {(paged || older.is_some()).then(|| view! {
            <nav class="pager" aria-label="Pages">
                {paged.then(|| view! { <a class="button secondary small" href="/alerts/deliveries?view=alerts">"Newest"</a> })}
                {older.map(|before| view! {
                    <a class="button secondary small" href=format!("/alerts/deliveries?view=alerts&before={before}")>"Older"</a>
                })}
            </nav>
        })}
    }
}

#[component]
fn AlertRow(alert: AlertView) -> impl IntoView {
    view! {
        <tr data-alert=alert.id.clone()>
            <td data-label="Alert"><a href=format!("/alerts/{}", alert.id)><code>{alert.id.clone()}</code></a></td>
            <td data-label="Rule">{alert.rule_name.clone()}</td>
            <td data-label="Alert type">{alert_type_label(&alert.alert_type).to_owned()}</td>
            <td data-label="Asset"><code>{alert.qualified_name.clone()}</code></td>
            <td data-label="Created">{utc_minute(alert.created_at)}</td>
            <td data-label="Deliveries">
                {if alert.deliveries.is_empty() {
                    view! { <span class="muted">"None"</span> }.into_any()
                } else {
                    view! {
                        <ul class="delivery-states">
                            {alert.deliveries.into_iter().map(|d| view! {
                                <li>
                                    <a href=format!("/alerts/deliveries/{}", d.id)>{d.destination_name}</a>
                                    " "
                                    {status_badge(d.status)}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_links_keep_the_filters() {
        let f = Filters {
            status: Some("failed".into()),
            destination_id: Some(3),
            cursor: Some("abc".into()),
        };
        assert_eq!(
            f.older_href("x=1"),
            "/alerts/deliveries?status=failed&destination_id=3&cursor=x%3D1"
        );
        assert_eq!(
            f.newest_href(),
            "/alerts/deliveries?status=failed&destination_id=3"
        );
        let none = Filters {
            status: None,
            destination_id: None,
            cursor: None,
        };
        assert_eq!(none.older_href("c"), "/alerts/deliveries?cursor=c");
        assert_eq!(none.newest_href(), "/alerts/deliveries");
    }
}
