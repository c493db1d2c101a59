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
    path, Lazy, LazyRoute, SsrMode,
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

/// Pages are split points: each page's code is a group of the hydrate
/// bundle of its own, fetched when the page is shown, so a first visit
/// downloads the shared code and one page, not every page (issue 11, "Page
/// weight"; `scripts/build.sh` splits the module). The splitter makes a chunk
/// of each set of code that several groups share, and the build puts a
/// group's chunks in one file, its pack, compressed together, so a group
/// per page does not cost a page many small files (it did before packs).
/// Sign-in and setup are groups too: the main module keeps only what every
/// page uses (the shell, the router), 41 KB smaller on the wire for it, and
/// most pages' first visit 34 to 40 KB smaller (BENCHMARKS.md).
///
/// `wasm_split` is used directly rather than through `#[lazy_route]`, which
/// makes one chunk per route: here the group names the chunk, and a page's
/// `load` fetches it. The router calls `preload` before the view, and during
/// hydration the view must be ready at once, or the page is drawn twice. On
/// the server, the page names its group's pack in a preload link
/// (`preload_links`).
/// A page's data loads inside its view, so a client-side visit to a group
/// not seen before fetches its code, then its data. If the code cannot be
/// fetched (an upgrade removed the packs an open tab asks for), the page is
/// loaded in full instead of the app stopping (`code_missing.rs`).
macro_rules! lazy_pages {
    ($($group:ident { $($route:ident => $page:ident),* $(,)? })*) => {$(
        #[allow(non_snake_case)]
        mod $group {
            use super::*;
            $(
                // A module of its own for each page's `load`: a split
                // function's loader is its own, so the router must preload
                // the very function the view then calls.
                pub mod $route {
                    use super::*;

                    // `fallible`: a load that fails is an `Err` here, not a
                    // panic that stops the app (`code_missing.rs`).
                    #[cfg(feature = "hydrate")]
                    #[::leptos::wasm_split::wasm_split($group, wasm_split_path = ::leptos::wasm_split, preload(load), fallible)]
                    pub fn $route() -> Result<AnyView, ::leptos::wasm_split::SplitLoaderError> {
                        Ok(view! { <$page/> }.into_any())
                    }

                    #[cfg(not(feature = "hydrate"))]
                    pub fn $route() -> AnyView {
                        view! { <$page/> }.into_any()
                    }
                }
            )*
        }

        $(
            struct $route;

            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                #[cfg(feature = "hydrate")]
                async fn view(_this: Self) -> AnyView {
                    let target = crate::code_missing::target();
                    match $group::$route::$route().await {
                        Ok(view) => view,
                        Err(_) => crate::code_missing::load_in_full(target).await,
                    }
                }

                #[cfg(not(feature = "hydrate"))]
                async fn view(_this: Self) -> AnyView {
                    preload_links(stringify!($group));
                    $group::$route::$route()
                }

                #[cfg(feature = "hydrate")]
                async fn preload() {
                    let target = crate::code_missing::target();
                    match $group::$route::load().await {
                        Ok(()) => crate::code_missing::arrived(),
                        Err(_) => crate::code_missing::load_in_full(target).await,
                    }
                }
            }
        )*
    )*};
}

/// Preload links to the code of `group` (the files the split manifest the
/// build writes names for it: the group's pack), so the browser fetches it
/// beside the main module instead of after it. Leptos's own links
/// (`prefetch_lazy_fn_on_server`) were missing from some pages: whether they
/// are written depends on when the page's view first runs.
///
/// They go to the page's head (leptos_meta) and add nothing to the body,
/// which must be the same on both sides for hydration.
#[cfg(not(feature = "hydrate"))]
fn preload_links(group: &str) {
    use leptos_meta::Link;
    let Some(manifest) = use_context::<leptos::WasmSplitManifest>() else {
        return;
    };
    let (pkg, groups, loader) = &*manifest.0.read_value();
    // Rendering a `Link` registers it with the head; its own output is empty.
    for file in groups.get(group).into_iter().flatten() {
        let href = format!("{pkg}/{file}.wasm");
        let _ = view! { <Link rel="preload" href as_="fetch" type_="application/wasm" crossorigin="anonymous"/> }
            .to_html();
    }
    let _ = view! { <Link rel="modulepreload" href=format!("{pkg}/{loader}")/> }.to_html();
}

lazy_pages! {
    login { Login => LoginPage }
    setup { Setup => SetupPage }
    rules { Rules => RulesTab }
    rule_new { RuleNew => NewRule }
    rule_edit { RuleEdit => EditRule }
    destination_list { Destinations => DestinationsTab }
    destination_type { ChooseType => ChooseDestinationType }
    destination_form { WebhookNew => NewWebhook }
    destination { Destination => DestinationDetail }
    deliveries { Deliveries => DeliveriesTab }
    redeliver { Redeliver => RedeliverFailedPage }
    job { Job => JobPage }
    delivery { Delivery => DeliveryDetailPage }
    alert { Alert => AlertPage }
    asset { Asset => AssetPage }
    account { Account => AccountPage }
    users { Users => UsersPage }
    api_keys { ApiKeys => ApiKeysPage }
    notifications { Notifications => NotificationsPage }
    audit_log { AuditLog => AuditLogPage }
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
                <Route path=path!("/setup") ssr=SsrMode::Async view={Lazy::<Setup>::new()}/>
                <Route path=path!("/login") ssr=SsrMode::Async view={Lazy::<Login>::new()}/>
                <ParentRoute path=path!("") ssr=SsrMode::Async view=AppShell>
                    <Route path=path!("") ssr=SsrMode::Async view=|| view! { <Redirect path="/alerts"/> }/>
                    <ParentRoute path=path!("/alerts") ssr=SsrMode::Async view=AlertsArea>
                        <Route path=path!("") ssr=SsrMode::Async view={Lazy::<Rules>::new()}/>
                        <Route path=path!("/rules") ssr=SsrMode::Async view={Lazy::<Rules>::new()}/>
                        <Route path=path!("/rules/new") ssr=SsrMode::Async view={Lazy::<RuleNew>::new()}/>
                        <Route path=path!("/rules/:id") ssr=SsrMode::Async view={Lazy::<RuleEdit>::new()}/>
                        <Route path=path!("/destinations") ssr=SsrMode::Async view={Lazy::<Destinations>::new()}/>
                        <Route path=path!("/destinations/new") ssr=SsrMode::Async view={Lazy::<ChooseType>::new()}/>
                        <Route path=path!("/destinations/new/webhook") ssr=SsrMode::Async view={Lazy::<WebhookNew>::new()}/>
                        <Route path=path!("/destinations/:id") ssr=SsrMode::Async view={Lazy::<Destination>::new()}/>
                        <Route path=path!("/deliveries") ssr=SsrMode::Async view={Lazy::<Deliveries>::new()}/>
                        <Route path=path!("/deliveries/redeliver") ssr=SsrMode::Async view={Lazy::<Redeliver>::new()}/>
                        <Route path=path!("/deliveries/:id") ssr=SsrMode::Async view={Lazy::<Delivery>::new()}/>
                        <Route path=path!("/jobs/:id") ssr=SsrMode::Async view={Lazy::<Job>::new()}/>
                        // Last: `alert_…` ids (links.alert_url); the tabs above match first.
                        <Route path=path!("/:id") ssr=SsrMode::Async view={Lazy::<Alert>::new()}/>
                    </ParentRoute>
                    <Route path=path!("/assets/:name") ssr=SsrMode::Async view={Lazy::<Asset>::new()}/>
                    <ParentRoute path=path!("/settings") ssr=SsrMode::Async view=SettingsArea>
                        <Route path=path!("") ssr=SsrMode::Async view={Lazy::<Account>::new()}/>
                        <Route path=path!("/account") ssr=SsrMode::Async view={Lazy::<Account>::new()}/>
                        <Route path=path!("/users") ssr=SsrMode::Async view={Lazy::<Users>::new()}/>
                        <Route path=path!("/api-keys") ssr=SsrMode::Async view={Lazy::<ApiKeys>::new()}/>
                        <Route path=path!("/notifications") ssr=SsrMode::Async view={Lazy::<Notifications>::new()}/>
                        <Route path=path!("/audit-log") ssr=SsrMode::Async view={Lazy::<AuditLog>::new()}/>
                    </ParentRoute>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
