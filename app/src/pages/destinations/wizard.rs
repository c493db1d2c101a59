//! Add Destination: choose the type, then configure it.

use super::configure::ConfigureForm;
use crate::api::destinations::destination_page;
use crate::components::page_data::page_data;
use crate::model::DestinationForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn ChooseDestinationType() -> impl IntoView {
    view! {
        <Title text="Add Destination"/>
        <nav class="breadcrumbs" aria-label="Breadcrumbs">
            <A href="/alerts/destinations">"Destinations"</A> " / Add Destination"
        </nav>
        <h2>"Add Destination"</h2>
        <p class="muted">"Choose where alerts go."</p>
        <div class="type-grid">
            <A href="/alerts/destinations/new/webhook" attr:class="type-card">
                <span class="type-name">"Webhook"</span>
                <span class="muted">"Send alerts to any HTTPS endpoint as signed JSON."</span>
            </A>
        </div>
    }
}

#[component]
pub fn NewWebhook() -> impl IntoView {
    let page = page_data(|| (), |_| destination_page(None));
    view! {
        <Title text="Add Webhook"/>
        <nav class="breadcrumbs" aria-label="Breadcrumbs">
            <A href="/alerts/destinations">"Destinations"</A> " / "
            <A href="/alerts/destinations/new">"Add Destination"</A> " / Webhook"
        </nav>
        <h2>"Configure the webhook"</h2>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let flash = page.await.ok().and_then(|p| p.flash);
                let initial = flash.as_ref().and_then(|f| f.form.clone()).unwrap_or_else(|| DestinationForm {
                    auth_type: "none".into(),
                    api_key_header: "X-API-Key".into(),
                    ..DestinationForm::default()
                });
                let report = flash.and_then(|f| f.report);
                view! { <ConfigureForm id=None initial report/> }
            })}
        </Suspense>
    }
}
