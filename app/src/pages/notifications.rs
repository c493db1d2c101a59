//! Settings -> Notifications (admins only): the destinations that receive
//! operational events, such as `destination.disabled` when a destination is
//! disabled automatically. The checkboxes are named `destination_ids[<n>]`,
//! which the server function reads as a list, with or without JavaScript.

use crate::api::notifications::{load_notification_settings, SaveNotificationSettings};
use crate::components::form::{action_error, FormAlert};
use crate::components::page_data::page_data;
use crate::error::AppError;
use crate::model::NotificationSettings;
use crate::pages::settings::NoPermission;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let save = ServerAction::<SaveNotificationSettings>::new();
    let data = page_data(
        move || save.version().get(),
        |_| load_notification_settings(),
    );
    view! {
        <Title text="Notifications"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(AppError::Forbidden) => Either::Left(view! { <NoPermission/> }),
                    Err(err) => Either::Right(Either::Left(view! {
                        <p class="form-alert" role="alert">{err.to_string()}</p>
                    })),
                    Ok(settings) => Either::Right(Either::Right(view! { <NotificationsForm settings save/> })),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NotificationsForm(
    settings: NotificationSettings,
    save: ServerAction<SaveNotificationSettings>,
) -> impl IntoView {
    let error = action_error(save);
    let query = use_query_map();
    // `?saved=1` after a save that reloaded the page; not after a later failure.
    let saved = Signal::derive(move || match save.value().get() {
        Some(result) => result.is_ok(),
        None => query.read().get("saved").is_some(),
    });
    let message = Signal::derive(move || {
        error
            .get()
            .and_then(|e| e.form().and_then(|f| f.message_for("destination_ids")))
    });
    // After a refused post, the boxes as sent; otherwise as stored.
    let sent = save
        .value()
        .get_untracked()
        .and_then(Result::err)
        .and_then(|e| e.form().and_then(|f| f.value_for("destination_ids")));
    let chosen: Vec<i64> = match sent {
        Some(list) => list
            .split(',')
            .filter_map(|id| id.trim().parse().ok())
            .collect(),
        None => settings.chosen.clone(),
    };
    let list = if settings.destinations.is_empty() {
        Either::Left(view! {
            <p class="hint">
                "There are no destinations yet. " <a href="/alerts/destinations/new">"Add Destination"</a>
                " first, then come back here."
            </p>
        })
    } else {
        Either::Right(view! {
            <div class="checks">
                {settings.destinations.into_iter().enumerate().map(|(i, d)| {
                    let input_id = format!("notify-destination-{}", d.id);
                    let label_for = input_id.clone();
                    view! {
                        <label class="choice" for=label_for>
                            <input type="checkbox" id=input_id name=format!("destination_ids[{i}]")
                                value=d.id.to_string() checked=chosen.contains(&d.id)/>
                            {d.name.clone()}
                            {(!d.enabled).then(|| view! { <span class="badge">"Disabled"</span> })}
                        </label>
                    }
                }).collect_view()}
            </div>
        })
    };
    view! {
        <section class="panel">
            <h2>"Notifications"</h2>
            <p>
                "Operational events go to the destinations chosen here, signed and retried like alerts, and show in the Deliveries tab. "
                "Today there is one: " <code>"destination.disabled"</code>
                ", sent when a destination is disabled automatically because every delivery to it failed for too long. "
                "A destination never hears of its own disabling, and a disabled one receives nothing."
            </p>
            <ActionForm action=save attr:novalidate=true>
                <FormAlert error/>
                <Show when=move || saved.get()>
                    <p class="form-success" role="status">"Notification settings saved."</p>
                </Show>
                <fieldset class="field destinations" class:has-error=move || message.get().is_some()
                    aria-describedby="notify-destination_ids-error">
                    <legend>"Destinations that receive operational events"</legend>
                    {list}
                    <p class="field-error" id="notify-destination_ids-error" role="status">{message}</p>
                </fieldset>
                <div class="actions">
                    <button type="submit" class="button primary" disabled=move || save.pending().get()>
                        {move || if save.pending().get() { "Saving…" } else { "Save" }}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}
