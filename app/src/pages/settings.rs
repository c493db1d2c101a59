use crate::components::shell::use_user;
use crate::components::tabs::Tabs;
use crate::domain::Role;
use leptos::prelude::*;
use leptos_router::components::Outlet;

#[component]
pub fn SettingsArea() -> impl IntoView {
    let user = use_user();
    view! {
        <header class="page-header">
            <h1>"Settings"</h1>
        </header>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let is_admin = user.await.is_some_and(|u| u.role.at_least(Role::Admin));
                let mut tabs = vec![("/settings/account", "Account")];
                if is_admin {
                    tabs.push(("/settings/users", "Users"));
                    tabs.push(("/settings/api-keys", "API keys"));
                    tabs.push(("/settings/notifications", "Notifications"));
                    tabs.push(("/settings/audit-log", "Audit log"));
                }
                view! { <Tabs label="Settings" index="/settings" tabs/> }
            })}
        </Suspense>
        <div class="tab-panel">
            <Outlet/>
        </div>
    }
}

/// Shown in place of a page the user's role does not allow.
#[component]
pub fn NoPermission() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::FORBIDDEN);
    }
    view! {
        <div class="empty-state">
            <h2>"You do not have permission to see this page"</h2>
            <p>"Ask an admin if you need access."</p>
        </div>
    }
}
