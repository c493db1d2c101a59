use crate::components::shell::AppShell;
use crate::pages::{
    account::AccountPage, alerts::*, api_keys::ApiKeysPage, login::LoginPage, not_found::NotFound,
    settings::SettingsArea, setup::SetupPage, users::UsersPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{ParentRoute, Redirect, Route, Router, Routes},
    path,
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/alertwire.css"/>
        <Title formatter=|page: String| format!("{page} · Alertwire")/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/setup") view=SetupPage/>
                <Route path=path!("/login") view=LoginPage/>
                <ParentRoute path=path!("") view=AppShell>
                    <Route path=path!("") view=|| view! { <Redirect path="/alerts"/> }/>
                    <ParentRoute path=path!("/alerts") view=AlertsArea>
                        <Route path=path!("") view=RulesTab/>
                        <Route path=path!("/rules") view=RulesTab/>
                        <Route path=path!("/destinations") view=DestinationsTab/>
                        <Route path=path!("/deliveries") view=DeliveriesTab/>
                    </ParentRoute>
                    <ParentRoute path=path!("/settings") view=SettingsArea>
                        <Route path=path!("") view=AccountPage/>
                        <Route path=path!("/account") view=AccountPage/>
                        <Route path=path!("/users") view=UsersPage/>
                        <Route path=path!("/api-keys") view=ApiKeysPage/>
                    </ParentRoute>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
