//! "History is kept for 30 days.": how long the Deliveries tab's history
//! lasts before retention (`--retention`) removes it. Self-contained: it
//! loads the window itself, in the page's first response.

use crate::api::audit::history_kept;
use crate::components::page_data::page_data;
use crate::format::duration_words;
use leptos::prelude::*;

#[component]
pub fn HistoryKept() -> impl IntoView {
    let kept = page_data(|| (), |_| history_kept());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                kept.await.ok().map(|ms| view! {
                    <p class="hint history-kept">{format!("History is kept for {}.", duration_words(ms))}</p>
                })
            })}
        </Suspense>
    }
}
