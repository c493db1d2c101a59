//! The Alerts area and its three tabs.

use crate::components::tabs::Tabs;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Outlet;

#[component]
pub fn AlertsArea() -> impl IntoView {
    view! {
        <header class="page-header">
            <h1>"Alerts"</h1>
        </header>
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

#[component]
fn EmptyState(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="empty-state">
            <h2>{title}</h2>
            {children()}
        </div>
    }
}

#[component]
pub fn RulesTab() -> impl IntoView {
    view! {
        <Title text="Rules"/>
        <EmptyState title="No alert rules yet">
            <p>"A rule matches incoming events by type and asset, raises an alert, and sends it to its destinations."</p>
        </EmptyState>
    }
}

#[component]
pub fn DeliveriesTab() -> impl IntoView {
    view! {
        <Title text="Deliveries"/>
        <EmptyState title="No deliveries yet">
            <p>"Every attempt to send an alert to a destination is listed here, with its response and timing."</p>
        </EmptyState>
    }
}
