//! The signed-in frame: sidebar with Alerts and Settings, the user, sign out.

use crate::api::account::{whoami, Logout};
use crate::components::page_data::{page_data, PageData};
use crate::model::CurrentUser;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::{
    components::{Outlet, A},
    hooks::use_location,
};

/// The signed-in user, loaded once for the whole shell.
#[derive(Clone, Copy)]
pub struct UserContext(pub PageData<Option<CurrentUser>>);

#[component]
pub fn AppShell() -> impl IntoView {
    let user = page_data(|| (), |_| async move { whoami().await.ok().flatten() });
    provide_context(UserContext(user));
    let location = use_location();
    let in_area = move |prefix: &'static str| {
        move || {
            if location.pathname.get().starts_with(prefix) {
                "nav-link current"
            } else {
                "nav-link"
            }
        }
    };
    view! {
        <div class="layout">
            <aside class="sidebar">
                <a class="brand" href="/alerts">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    "Alertwire"
                </a>
                <nav class="nav" aria-label="Main">
                    <A href="/alerts" attr:class=in_area("/alerts")>"Alerts"</A>
                    <A href="/settings" attr:class=in_area("/settings")>"Settings"</A>
                </nav>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        user.await.map(|u| view! { <UserBadge user=u/> })
                    })}
                </Suspense>
            </aside>
            <main class="content">
                <Outlet/>
            </main>
        </div>
    }
}

#[component]
fn UserBadge(user: CurrentUser) -> impl IntoView {
    view! {
        <div class="user">
            <span class="user-email" title=user.email.clone()>{user.email.clone()}</span>
            <span class=format!("role role-{}", user.role.as_str())>{user.role.label()}</span>
            // A plain form: signing out reloads the page, so nothing stale stays on screen.
            <form method="post" action=Logout::PATH>
                <button type="submit" class="button secondary small">"Sign out"</button>
            </form>
        </div>
    }
}

/// Reads the signed-in user inside the shell.
pub fn use_user() -> PageData<Option<CurrentUser>> {
    expect_context::<UserContext>().0
}
