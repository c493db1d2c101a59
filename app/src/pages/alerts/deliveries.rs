//! Alerts -> Deliveries: every delivery (filtered by a GET form, so it works
//! without JavaScript), or with `?view=alerts` the recent alerts and the
//! state of each of their deliveries. Both page with "Older" links.

use super::jobs::redeliver_href;
use super::{alert_status_badge, query_value, state_badge, status_badge, EmptyState};
use crate::api::deliveries::{
    load_alerts, load_deliveries, load_delivery_choices, AlertsChunk, DeliveriesData,
    DeliveryChoices,
};
use crate::components::history_kept::HistoryKept;
use crate::components::live::{live_version, use_live, LiveIndicator, LiveScope};
use crate::components::page_data::page_data;
use crate::components::shell::use_user;
use crate::domain::Role;
use crate::domain::{DeliveryState, DeliveryStatus};
use crate::format::{relative, rfc3339, utc_second};
use crate::model::{alert_type_label, AlertView, DeliveryFilter, DeliveryView};
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
        <HistoryKept/>
        <LiveIndicator live/>
        {move || if alerts_view.get() {
            view! { <RecentAlerts/> }.into_any()
        } else {
            view! { <DeliveryList/> }.into_any()
        }}
    }
}

/// The filters as the address has them: a view can be shared by its link.
fn filters_from_query(q: &leptos_router::params::ParamsMap) -> DeliveryFilter {
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
        cursor: text("cursor"),
    }
}

/// The address of this list with the same filters, on the page after `cursor`.
fn list_href(filter: &DeliveryFilter, cursor: Option<&str>) -> String {
    let mut parts: Vec<String> = filter
        .pairs()
        .into_iter()
        .map(|(k, v)| format!("{k}={}", query_value(v)))
        .collect();
    if let Some(c) = cursor {
        parts.push(format!("cursor={}", query_value(c)));
    }
    if parts.is_empty() {
        "/alerts/deliveries".into()
    } else {
        format!("/alerts/deliveries?{}", parts.join("&"))
    }
}

/// The filter form, then the list. The form has its own resource, which does
/// not follow live status: a reload of the list must not rebuild the form
/// under a choice not yet submitted.
#[component]
fn DeliveryList() -> impl IntoView {
    let query = use_query_map();
    let filters = move || filters_from_query(&query.read());
    let live = live_version();
    let choices = page_data(|| (), |_| load_delivery_choices());
    let data = page_data(
        move || (filters(), live()),
        |(f, _): (DeliveryFilter, _)| {
            load_deliveries(
                f.status,
                f.destination_id,
                f.rule_id,
                f.event_type,
                f.range,
                f.since,
                f.until,
                f.q,
                f.cursor,
            )
        },
    );
    let user = use_user();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let shown = filters();
                let DeliveryChoices { destinations, rules } = choices.await.unwrap_or_default();
                view! { <FilterForm filters=shown destinations rules/> }
            })}
        </Transition>
        <Transition fallback=|| view! { <p class="muted">"Loading deliveries…"</p> }>
            {move || Suspend::new(async move {
                let shown = filters();
                let is_admin = user.await.is_some_and(|u| u.role.at_least(Role::Admin));
                match data.await {
                    Ok(data) => view! { <DeliveriesLoaded data filters=shown is_admin/> }.into_any(),
                    Err(err) => view! { <FilterError err/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A refused filter: each bad value with its message.
#[component]
fn FilterError(err: crate::error::AppError) -> impl IntoView {
    match err.form().cloned() {
        Some(errors) => view! {
            <div class="form-alert" role="alert">
                <p>"These filters cannot be used:"</p>
                <ul>
                    {errors.fields.into_iter().map(|f| view! { <li data-field=f.field>{f.message}</li> }).collect_view()}
                </ul>
            </div>
        }
        .into_any(),
        None => view! { <p class="form-alert" role="alert">{err.to_string()}</p> }.into_any(),
    }
}

#[component]
fn DeliveriesLoaded(
    data: DeliveriesData,
    filters: DeliveryFilter,
    is_admin: bool,
) -> impl IntoView {
    let DeliveriesData { page, now } = data;
    let first_page = filters.cursor.is_none();
    let filtered = !filters.pairs().is_empty();
    let body = if page.items.is_empty() && first_page && !filtered {
        view! {
            <EmptyState title="No deliveries yet">
                <p>"Every attempt to send an alert to a destination is listed here, with its response and timing."</p>
            </EmptyState>
        }
        .into_any()
    } else if page.items.is_empty() {
        view! {
            <EmptyState title="No deliveries match">
                <p>"Try another status, destination or time range."</p>
            </EmptyState>
        }
        .into_any()
    } else {
        view! { <DeliveryTable items=page.items now/> }.into_any()
    };
    let older = page.next_cursor.map(|c| list_href(&filters, Some(&c)));
    let newest = (!first_page).then(|| list_href(&filters, None));
    // Admins: the failed deliveries of this filter, counted and confirmed first.
    let bulk = is_admin.then(|| {
        view! {
            <p class="bulk-actions">
                <a class="button secondary small" href=redeliver_href(&filters)>"Redeliver failed"</a>
                <span class="muted small">" The failed deliveries this filter matches, counted before anything is queued."</span>
            </p>
        }
    });
    view! {
        {bulk}
        {body}
        {(older.is_some() || newest.is_some()).then(|| view! {
            <nav class="pager" aria-label="Pages">
                {newest.map(|href| view! { <a class="button secondary small" href=href>"Newest"</a> })}
                {older.map(|href| view! { <a class="button secondary small" href=href>"Older"</a> })}
            </nav>
        })}
    }
}

/// The event types, as the Event filter offers them.
const EVENT_TYPES: [(&str, &str); 4] = [
    ("schema_change", "Schema change"),
    ("freshness_violation", "Freshness violation"),
    ("discovery_complete", "Discovery complete"),
    ("connection_failed", "Connection failed"),
];

fn event_type_label(kind: &str) -> &str {
    EVENT_TYPES
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(kind, |(_, label)| label)
}

/// A GET form: the filters end up in the address, with or without JavaScript.
#[component]
fn FilterForm(
    filters: DeliveryFilter,
    destinations: Vec<crate::model::RuleDestination>,
    rules: Vec<(i64, String)>,
) -> impl IntoView {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let status = text(&filters.status);
    let destination = text(&filters.destination_id);
    let rule = text(&filters.rule_id);
    let event = text(&filters.event_type);
    let range = text(&filters.range);
    let ranges = [
        ("", "Any time"),
        ("1h", "Last hour"),
        ("24h", "Last 24 hours"),
        ("7d", "Last 7 days"),
        ("custom", "From / To"),
    ];
    view! {
        <form method="get" action="/alerts/deliveries" class="filters" role="search" aria-label="Filter deliveries">
            <div class="field search">
                <label for="filter-q">"Search"</label>
                <input id="filter-q" name="q" type="search" value=text(&filters.q)
                    placeholder="Alert id, webhook-id or asset name"/>
            </div>
            <div class="field">
                <label for="filter-status">"Status"</label>
                <select id="filter-status" name="status">
                    <option value="" selected=status.is_empty()>"All"</option>
                    {DeliveryState::ALL
                        .into_iter()
                        .map(|s| view! { <option value=s.as_str() selected=s.as_str() == status>{s.label()}</option> })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="filter-destination">"Destination"</label>
                <select id="filter-destination" name="destination_id">
                    <option value="" selected=destination.is_empty()>"All destinations"</option>
                    {destinations.into_iter().map(|d| {
                        let id = d.id.to_string();
                        let selected = id == destination;
                        view! { <option value=id selected=selected>{d.name}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="filter-rule">"Rule"</label>
                <select id="filter-rule" name="rule_id">
                    <option value="" selected=rule.is_empty()>"All rules"</option>
                    {rules.into_iter().map(|(id, name)| {
                        let id = id.to_string();
                        let selected = id == rule;
                        view! { <option value=id selected=selected>{name}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="filter-event">"Event type"</label>
                <select id="filter-event" name="event_type">
                    <option value="" selected=event.is_empty()>"All events"</option>
                    {EVENT_TYPES.into_iter().map(|(k, label)| view! {
                        <option value=k selected=k == event>{label}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="filter-range">"Time"</label>
                <select id="filter-range" name="range">
                    {ranges.into_iter().map(|(k, label)| view! {
                        <option value=k selected=k == range>{label}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="filter-since">"From (UTC)"</label>
                <input id="filter-since" name="since" type="datetime-local" step="1" value=text(&filters.since)/>
            </div>
            <div class="field">
                <label for="filter-until">"To (UTC)"</label>
                <input id="filter-until" name="until" type="datetime-local" step="1" value=text(&filters.until)/>
            </div>
            <button type="submit" class="button secondary">"Filter"</button>
            <a class="button secondary" href="/alerts/deliveries">"Clear"</a>
        </form>
    }
}

#[component]
fn DeliveryTable(items: Vec<DeliveryView>, now: i64) -> impl IntoView {
    view! {
        <div class="panel table-wrap">
            <table class="table deliveries">
                <thead>
                    <tr>
                        <th>"Alert"</th><th>"Event"</th><th>"Asset"</th><th>"Destination"</th><th>"Status"</th>
                        <th>"Attempts"</th><th>"Last result"</th><th>"Next attempt"</th><th>"Created"</th><th></th>
                    </tr>
                </thead>
                <tbody>
                    {items.into_iter().map(|d| view! { <DeliveryRow d now/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// A time to the second, with "3 min ago" beside it.
#[component]
pub(super) fn When(at: i64, now: i64) -> impl IntoView {
    view! {
        <time datetime=rfc3339(at) title=utc_second(at)>
            {utc_second(at)}
            <span class="relative">{relative(now, at)}</span>
        </time>
    }
}

#[component]
fn DeliveryRow(d: DeliveryView, now: i64) -> impl IntoView {
    let next = match (d.status, d.next_attempt_at) {
        (DeliveryStatus::Pending, Some(at)) => view! { <When at now/> }.into_any(),
        _ => "—".into_any(),
    };
    view! {
        <tr data-delivery=d.id.to_string() data-state=d.state.as_str()>
            <td data-label="Alert"><a href=format!("/alerts/{}", d.alert_id)><code>{d.alert_id.clone()}</code></a>
                <div class="muted small">{d.rule_name.clone()}</div></td>
            <td data-label="Event">{event_type_label(&d.event_type).to_owned()}</td>
            <td data-label="Asset"><code>{d.qualified_name.clone()}</code></td>
            <td data-label="Destination">{d.destination_name.clone()}</td>
            <td data-label="Status">{state_badge(d.state)}</td>
            <td data-label="Attempts" class="number">{d.attempts}</td>
            <td data-label="Last result">{last_result(&d)}</td>
            <td data-label="Next attempt">{next}</td>
            <td data-label="Created"><When at=d.created_at now/></td>
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
    let data = page_data(
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
                        <tr><th>"Alert"</th><th>"Rule"</th><th>"Alert type"</th><th>"Asset"</th><th>"Created"</th><th>"Delivery"</th><th>"Deliveries"</th></tr>
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
            <td data-label="Asset"><a href=format!("/assets/{}", query_value(&alert.qualified_name))><code>{alert.qualified_name.clone()}</code></a></td>
            <td data-label="Created">{utc_second(alert.created_at)}</td>
            <td data-label="Delivery">{alert_status_badge(alert.delivery_status())}</td>
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
        let f = DeliveryFilter {
            status: Some("failed".into()),
            destination_id: Some("3".into()),
            range: Some("24h".into()),
            q: Some("prod db".into()),
            cursor: Some("abc".into()),
            ..DeliveryFilter::default()
        };
        assert_eq!(
            list_href(&f, Some("x=1")),
            "/alerts/deliveries?status=failed&destination_id=3&range=24h&q=prod%20db&cursor=x%3D1"
        );
        assert_eq!(
            list_href(&f, None),
            "/alerts/deliveries?status=failed&destination_id=3&range=24h&q=prod%20db"
        );
        let none = DeliveryFilter::default();
        assert_eq!(list_href(&none, Some("c")), "/alerts/deliveries?cursor=c");
        assert_eq!(list_href(&none, None), "/alerts/deliveries");
    }
}
