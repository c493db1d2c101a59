//! The Alerts area and its three tabs.
//!
//! - Rules (`/alerts`, `/alerts/rules`): the rules, and a page per rule.
//! - Destinations (`/alerts/destinations`): see `pages::destinations`.
//! - Deliveries (`/alerts/deliveries`): every delivery, filtered by status and
//!   destination; `?view=alerts` lists the recent alerts with the state of
//!   each of their deliveries instead. A delivery's page shows its attempts.
//! - An alert's own page is `/alerts/alert_…`, the `links.alert_url` of its webhooks;
//!   an asset's is `/assets/<qualified name>`, the `links.asset_url`.

mod alert;
mod asset;
mod deliveries;
mod delivery;
mod jobs;
mod rule;
mod rules;

pub use alert::AlertPage;
pub use asset::AssetPage;
pub use deliveries::DeliveriesTab;
pub use delivery::DeliveryDetailPage;
pub use jobs::{JobPage, RedeliverFailedPage};
pub use rule::{EditRule, NewRule};
pub use rules::RulesTab;

use crate::api::destinations::auto_disabled_destinations;
use crate::components::page_data::page_data;
use crate::components::tabs::Tabs;
use crate::domain::{DeliveryState, DeliveryStatus};
use crate::format::utc_minute;
use crate::model::{AlertDeliveryStatus, AutoDisabled};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Outlet;
use leptos_router::hooks::use_location;

/// Bumped by a page that enabled or disabled a destination, so the banner
/// of auto-disabled destinations looks again.
#[derive(Clone, Copy)]
pub struct BannerRefresh(pub RwSignal<u64>);

#[component]
pub fn AlertsArea() -> impl IntoView {
    let refresh = BannerRefresh(RwSignal::new(0));
    provide_context(refresh);
    let location = use_location();
    // Viewers are refused (the banner is for editors and admins): then there is none.
    let disabled = page_data(
        move || (location.pathname.get(), refresh.0.get()),
        |_| async move { auto_disabled_destinations().await.unwrap_or_default() },
    );
    view! {
        <header class="page-header">
            <h1>"Alerts"</h1>
        </header>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let list = disabled.await;
                (!list.is_empty()).then(|| view! { <AutoDisabledBanner list/> })
            })}
        </Suspense>
        <Tabs label="Alerts" index="/alerts" tabs=vec![
            ("/alerts/rules", "Rules"),
            ("/alerts/destinations", "Destinations"),
            ("/alerts/deliveries", "Deliveries"),
        ]/>
        <div class="tab-panel">
            <Outlet/>
        </div>
    }
}

/// Names every destination disabled automatically, with a link to each.
#[component]
fn AutoDisabledBanner(list: Vec<AutoDisabled>) -> impl IntoView {
    let one = list.len() == 1;
    view! {
        <section class="banner" role="alert" aria-label="Auto-disabled destinations">
            <p>
                <strong>{if one { "A destination was disabled automatically" } else { "Destinations were disabled automatically" }}</strong>
                {if one {
                    ": every delivery to it failed for too long. It receives nothing until it is enabled again; its queued deliveries wait."
                } else {
                    ": every delivery to them failed for too long. They receive nothing until enabled again; their queued deliveries wait."
                }}
            </p>
            <ul>
                {list.into_iter().map(|d| view! {
                    <li>
                        <a href=format!("/alerts/destinations/{}", d.id)>{d.name}</a>
                        <span class="muted">{format!(" (disabled {})", utc_minute(d.disabled_at))}</span>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn EmptyState(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="empty-state">
            <h2>{title}</h2>
            {children()}
        </div>
    }
}

/// Shown (with status 404) for an address that names nothing.
#[component]
fn Missing(#[prop(into)] message: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <div class="empty-state">
            <h2>"Not found"</h2>
            <p>{message}</p>
        </div>
    }
}

/// An error from loading a page's data: a 404 for a missing record, the message otherwise.
fn load_error(err: crate::error::AppError) -> AnyView {
    match err {
        crate::error::AppError::NotFound(message) => view! { <Missing message/> }.into_any(),
        other => view! { <p class="form-alert" role="alert">{other.to_string()}</p> }.into_any(),
    }
}

/// A delivery's status as a coloured badge.
fn status_badge(status: DeliveryStatus) -> impl IntoView + use<> {
    let class = match status {
        DeliveryStatus::Pending => "badge pending",
        DeliveryStatus::Delivered => "badge ok",
        DeliveryStatus::Failed => "badge failed",
    };
    view! { <span class=class>{status.label()}</span> }
}

/// Where a delivery stands, as a coloured badge (retrying apart from pending).
pub(crate) fn state_badge(state: DeliveryState) -> impl IntoView + use<> {
    let class = match state {
        DeliveryState::Pending => "badge pending",
        DeliveryState::Retrying => "badge retrying",
        DeliveryState::Delivered => "badge ok",
        DeliveryState::Failed => "badge failed",
    };
    view! { <span class=class>{state.label()}</span> }
}

/// How an alert's deliveries stand together, as a badge.
fn alert_status_badge(status: AlertDeliveryStatus) -> impl IntoView + use<> {
    let (class, label) = match status {
        AlertDeliveryStatus::Pending => ("badge pending", "Pending"),
        AlertDeliveryStatus::Delivered => ("badge ok", "Delivered"),
        AlertDeliveryStatus::Failed => ("badge failed", "Failed delivery"),
        AlertDeliveryStatus::PartlyFailed => ("badge failed", "Partly failed"),
    };
    view! { <span class=class data-delivery-status=format!("{status:?}")>{label}</span> }
}

/// Percent-encodes a query value (cursors are opaque text).
pub(crate) fn query_value(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::query_value;

    #[test]
    fn encodes_query_values() {
        assert_eq!(query_value("abc-1_2.3~"), "abc-1_2.3~");
        assert_eq!(query_value("a b/c=d&e"), "a%20b%2Fc%3Dd%26e");
        assert_eq!(query_value("é"), "%C3%A9");
    }
}
