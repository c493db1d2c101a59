use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

/// A row of tabs. A tab is current when the path starts with its link; the
/// first tab is also current on the area's own path (`index`).
#[component]
pub fn Tabs(
    label: &'static str,
    index: &'static str,
    tabs: Vec<(&'static str, &'static str)>,
) -> impl IntoView {
    let location = use_location();
    view! {
        <nav class="tabs" aria-label=label>
            {tabs
                .into_iter()
                .enumerate()
                .map(|(position, (href, text))| {
                    let current = move || {
                        let path = location.pathname.get();
                        path.starts_with(href)
                            || (position == 0 && path.trim_end_matches('/') == index)
                    };
                    view! {
                        <A href=href attr:class=move || if current() { "tab current" } else { "tab" }>
                            {text}
                        </A>
                    }
                })
                .collect_view()}
        </nav>
    }
}
