use crate::components::shell::AppShell;
use crate::pages::{
    account::AccountPage, alerts::*, api_keys::ApiKeysPage, audit_log::AuditLogPage,
    destinations::*, login::LoginPage, not_found::NotFound, notifications::NotificationsPage,
    settings::SettingsArea, setup::SetupPage, users::UsersPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{ParentRoute, Redirect, Route, Router, Routes},
    path, SsrMode,
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let stylesheet = crate::assets::stylesheet_href(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="stylesheet" href=stylesheet/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Every route renders with its data in the first response (`SsrMode::Async`):
/// out-of-order streaming would need JavaScript to put the data in place, and
/// every page must work without it.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|page: String| format!("{page} · Alertwire")/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/setup") ssr=SsrMode::Async view=SetupPage/>
                <Route path=path!("/login") ssr=SsrMode::Async view=LoginPage/>
                <ParentRoute path=path!("") ssr=SsrMode::Async view=AppShell>
                    <Route path=path!("") ssr=SsrMode::Async view=|| view! { <Redirect path="/alerts"/> }/>
                    <ParentRoute path=path!("/alerts") ssr=SsrMode::Async view=AlertsArea>
                        <Route path=path!("") ssr=SsrMode::Async view=RulesTab/>
                        <Route path=path!("/rules") ssr=SsrMode::Async view=RulesTab/>
                        <Route path=path!("/rules/new") ssr=SsrMode::Async view=NewRule/>
                        <Route path=path!("/rules/:id") ssr=SsrMode::Async view=EditRule/>
                        <Route path=path!("/destinations") ssr=SsrMode::Async view=DestinationsTab/>
                        <Route path=path!("/destinations/new") ssr=SsrMode::Async view=ChooseDestinationType/>
                        <Route path=path!("/destinations/new/webhook") ssr=SsrMode::Async view=NewWebhook/>
                        <Route path=path!("/destinations/:id") ssr=SsrMode::Async view=DestinationDetail/>
                        <Route path=path!("/deliveries") ssr=SsrMode::Async view=DeliveriesTab/>
                        <Route path=path!("/deliveries/redeliver") ssr=SsrMode::Async view=RedeliverFailedPage/>
                        <Route path=path!("/deliveries/:id") ssr=SsrMode::Async view=DeliveryDetailPage/>
                        <Route path=path!("/jobs/:id") ssr=SsrMode::Async view=JobPage/>
                        // Last: `alert_…` ids (links.alert_url); the tabs above match first.
                        <Route path=path!("/:id") ssr=SsrMode::Async view=AlertPage/>
                    </ParentRoute>
                    <Route path=path!("/assets/:name") ssr=SsrMode::Async view=AssetPage/>
                    <ParentRoute path=path!("/settings") ssr=SsrMode::Async view=SettingsArea>
                        <Route path=path!("") ssr=SsrMode::Async view=AccountPage/>
                        <Route path=path!("/account") ssr=SsrMode::Async view=AccountPage/>
                        <Route path=path!("/users") ssr=SsrMode::Async view=UsersPage/>
                        <Route path=path!("/api-keys") ssr=SsrMode::Async view=ApiKeysPage/>
                        <Route path=path!("/notifications") ssr=SsrMode::Async view=NotificationsPage/>
                        <Route path=path!("/audit-log") ssr=SsrMode::Async view=AuditLogPage/>
                    </ParentRoute>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
