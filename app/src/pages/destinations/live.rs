//! A destination's last result, kept current while its page is open (the
//! page's `use_live` follows the destination's deliveries). Only this part
//! reloads: the settings form around it keeps what is being typed.

use super::list::last_result;
use crate::api::destinations::destination_page;
use crate::components::live::live_version;
use crate::components::page_data::page_data;
use crate::model::DestinationView;
use leptos::prelude::*;

#[component]
pub fn LiveLastResult(d: DestinationView) -> impl IntoView {
    let version = live_version();
    let id = d.id;
    let current = page_data(version, move |version| {
        let rendered = d.clone();
        async move {
            if version == 0 {
                return rendered;
            }
            match destination_page(Some(id)).await {
                Ok(page) => page.destination.unwrap_or(rendered),
                Err(_) => rendered,
            }
        }
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move { last_result(&current.await) })}
        </Transition>
    }
}
