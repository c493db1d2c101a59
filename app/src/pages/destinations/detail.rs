//! A destination's page: its settings, Send Test Alert, enable or disable,
//! its signing secret (reveal, rotate), and delete.

use super::configure::ConfigureForm;
use super::live::LiveLastResult;
use super::secret::SecretPanel;
use crate::api::destinations::{
    destination_page, DeleteDestination, RevealSigningSecret, RotateSigningSecret,
    SetDestinationEnabled,
};
use crate::components::form::{action_error, Field, FormAlert};
use crate::components::live::{use_live_with, LiveIndicator, LiveScope, Reloads};
use crate::components::shell::use_user;
use crate::domain::Role;
use crate::error::AppError;
use crate::format::utc_minute;
use crate::model::{DestinationForm, DestinationPageData, DestinationView};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn DestinationDetail() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|v| v.parse::<i64>().ok());
    let toggle = ServerAction::<SetDestinationEnabled>::new();
    let rotate = ServerAction::<RotateSigningSecret>::new();
    let page = Resource::new(
        move || (id(), toggle.version().get(), rotate.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => destination_page(Some(id)).await,
                None => Err(AppError::NotFound("No such destination".into())),
            }
        },
    );
    let user = use_user();
    // The page's own data stays as loaded (it fills the settings form); the parts that follow `live` reload.
    let live = use_live_with(
        move || id().map(LiveScope::Destination),
        Reloads::BesideForms,
    );
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumbs"><A href="/alerts/destinations">"Destinations"</A></nav>
        <LiveIndicator live/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let can_edit = user.await.is_some_and(|u| u.role.at_least(Role::Editor));
                match page.await {
                    Ok(data) => Either::Left(view! { <Loaded data can_edit toggle rotate/> }),
                    Err(err) => Either::Right(view! { <p class="form-alert" role="alert">{err.to_string()}</p> }),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Loaded(
    data: DestinationPageData,
    can_edit: bool,
    toggle: ServerAction<SetDestinationEnabled>,
    rotate: ServerAction<RotateSigningSecret>,
) -> impl IntoView {
    let Some(d) = data.destination else {
        return Either::Left(view! { <p class="form-alert">"No such destination"</p> });
    };
    let flash = data.flash.unwrap_or_default();
    let form = flash.form.clone().unwrap_or_else(|| form_of(&d));
    let rotated = move || {
        rotate
            .value()
            .get()
            .and_then(Result::ok)
            .map(|r| r.signing_secret)
    };
    Either::Right(view! {
        <Title text=d.name.clone()/>
        <header class="detail-header">
            <h2>{d.name.clone()}</h2>
            <span class=if d.enabled { "badge ok" } else { "badge" }>{if d.enabled { "Enabled" } else { "Disabled" }}</span>
        </header>
        <p class="muted">"Webhook to " <code>{d.url.clone()}</code> ". Last result: " <LiveLastResult d=d.clone()/></p>
        {flash.notice.clone().map(|n| view! { <p class="form-success" role="status">{n}</p> })}
        {flash.signing_secret.clone().map(|s| view! { <SecretPanel secret=s/> })}
        {move || rotated().map(|s| view! { <SecretPanel secret=s title="New signing secret"/> })}
        {if can_edit {
            Either::Left(view! {
                <section class="panel">
                    <h3>"Settings"</h3>
                    <ConfigureForm id=Some(d.id) initial=form report=flash.report.clone()/>
                </section>
                <EnableForm d=d.clone() toggle/>
                <SecretControls d=d.clone() rotate/>
                <DeleteForm id=d.id/>
            })
        } else {
            Either::Right(view! { <ReadOnly d=d.clone()/> })
        }}
    })
}

/// The stored settings as the form shows them (secrets stay empty: "keep").
fn form_of(d: &DestinationView) -> DestinationForm {
    DestinationForm {
        name: d.name.clone(),
        url: d.url.clone(),
        auth_type: d.auth.as_str().to_owned(),
        api_key_header: d
            .api_key_header
            .clone()
            .unwrap_or_else(|| "X-API-Key".into()),
        headers: d.headers.clone(),
        ..DestinationForm::default()
    }
}

#[component]
fn ReadOnly(d: DestinationView) -> impl IntoView {
    view! {
        <section class="panel">
            <h3>"Settings"</h3>
            <dl class="facts">
                <dt>"URL"</dt><dd><code>{d.url}</code></dd>
                <dt>"Authentication"</dt><dd>{d.auth.label()}</dd>
                <dt>"Headers"</dt>
                <dd>{if d.headers.is_empty() { "None".to_string() } else {
                    d.headers.iter().map(|h| if h.secret { format!("{} (secret)", h.name) } else { h.name.clone() })
                        .collect::<Vec<_>>().join(", ")
                }}</dd>
            </dl>
        </section>
    }
}

#[component]
fn EnableForm(d: DestinationView, toggle: ServerAction<SetDestinationEnabled>) -> impl IntoView {
    let error = action_error(toggle);
    view! {
        <section class="panel">
            <h3>"Delivery"</h3>
            <FormAlert error/>
            <ActionForm action=toggle attr:class="inline-form">
                <input type="hidden" name="id" value=d.id.to_string()/>
                <input type="hidden" name="enabled" value=(!d.enabled).to_string()/>
                <span>{if d.enabled { "Alerts are sent to this destination." } else { "This destination receives nothing while disabled." }}</span>
                <button type="submit" class="button secondary">{if d.enabled { "Disable" } else { "Enable" }}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn SecretControls(d: DestinationView, rotate: ServerAction<RotateSigningSecret>) -> impl IntoView {
    let reveal = ServerAction::<RevealSigningSecret>::new();
    let reveal_error = action_error(reveal);
    let revealed = move || reveal.value().get().and_then(Result::ok);
    view! {
        <section class="panel">
            <h3>"Signing secret"</h3>
            {d.previous_secret_expires_at.map(|at| view! {
                <p class="hint">{format!("Rotated: the previous secret also signs webhook-signature until {}.", utc_minute(at))}</p>
            })}
            {move || revealed().map(|s| view! { <SecretPanel secret=s/> })}
            <ActionForm action=reveal attr:novalidate=true>
                <input type="hidden" name="id" value=d.id.to_string()/>
                <FormAlert error=reveal_error/>
                <Field label="Your password" name="password" kind="password" autocomplete="current-password"
                    id_prefix="reveal-" error=reveal_error/>
                <button type="submit" class="button secondary">"Reveal signing secret"</button>
            </ActionForm>
            <ActionForm action=rotate attr:class="rotate">
                <input type="hidden" name="id" value=d.id.to_string()/>
                <p class="hint">"Rotating makes a new secret. For 24 hours deliveries carry signatures of both secrets in webhook-signature, so receivers can switch without missing alerts."</p>
                <button type="submit" class="button secondary">"Rotate secret"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn DeleteForm(id: i64) -> impl IntoView {
    let delete = ServerAction::<DeleteDestination>::new();
    let error = action_error(delete);
    view! {
        <section class="panel danger-zone">
            <details>
                <summary>"Delete destination…"</summary>
                <p>"Rules stop sending to it. Its delivery history stays."</p>
                <FormAlert error/>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id.to_string()/>
                    <button type="submit" class="button danger">"Delete destination"</button>
                </ActionForm>
            </details>
        </section>
    }
}
