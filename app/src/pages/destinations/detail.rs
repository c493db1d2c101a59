//! A destination's page: its health, recent deliveries and test sends, its
//! settings, Send Test Alert, enable or disable, its signing secret (reveal,
//! rotate), and delete.

use super::configure::ConfigureForm;
use super::health::{DestinationHealthPanel, TestsSent};
use super::live::LiveLastResult;
use super::secret::SecretPanel;
use crate::api::destinations::{
    destination_page, DeleteDestination, EnableDestination, RevealSigningSecret,
    RotateSigningSecret, SetDestinationEnabled,
};
use crate::components::form::{action_error, Field, FormAlert};
use crate::components::live::{use_live_with, LiveIndicator, LiveScope, Reloads};
use crate::components::page_data::page_data;
use crate::components::shell::use_user;
use crate::domain::Role;
use crate::error::AppError;
use crate::format::utc_minute;
use crate::model::{
    DestinationForm, DestinationPageData, DestinationView, DisabledReason, FailedWhileFailing,
    REDELIVER_ON_ENABLE_CAP,
};
use crate::pages::alerts::BannerRefresh;
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
    let enable = ServerAction::<EnableDestination>::new();
    // The Alerts area's banner names auto-disabled destinations: look again after a change.
    if let Some(banner) = use_context::<BannerRefresh>() {
        Effect::new(move |_| {
            if toggle.version().get() + enable.version().get() > 0 {
                banner.0.update(|n| *n += 1);
            }
        });
    }
    let page = page_data(
        move || {
            (
                id(),
                toggle.version().get(),
                rotate.version().get(),
                enable.version().get(),
            )
        },
        |(id, _, _, _)| async move {
            match id {
                Some(id) => destination_page(Some(id)).await,
                None => Err(AppError::NotFound("No such destination".into())),
            }
        },
    );
    provide_context(TestsSent(RwSignal::new(0)));
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
                let role = user.await.map(|u| u.role);
                let can_edit = role.is_some_and(|r| r.at_least(Role::Editor));
                let is_admin = role.is_some_and(|r| r.at_least(Role::Admin));
                match page.await {
                    Ok(data) => Either::Left(view! { <Loaded data can_edit is_admin toggle rotate enable/> }),
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
    is_admin: bool,
    toggle: ServerAction<SetDestinationEnabled>,
    rotate: ServerAction<RotateSigningSecret>,
    enable: ServerAction<EnableDestination>,
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
    let enabled_notice = move || {
        enable
            .value()
            .get()
            .and_then(Result::ok)
            .map(|e| e.notice())
    };
    let failing = data.failed_while_failing;
    Either::Right(view! {
        <Title text=d.name.clone()/>
        <header class="detail-header">
            <h2>{d.name.clone()}</h2>
            <span class=if d.enabled { "badge ok" } else { "badge" }>{state_label(&d)}</span>
        </header>
        <p class="muted">"Webhook to " <code>{d.url.clone()}</code> ". Last result: " <LiveLastResult d=d.clone()/></p>
        {disabled_note(&d, failing).map(|note| view! { <p class="disabled-note" role="note">{note}</p> })}
        {flash.notice.clone().map(|n| view! { <p class="form-success" role="status">{n}</p> })}
        {move || enabled_notice().map(|n| view! { <p class="form-success" role="status">{n}</p> })}
        {flash.signing_secret.clone().map(|s| view! { <SecretPanel secret=s/> })}
        {move || rotated().map(|s| view! { <SecretPanel secret=s title="New signing secret"/> })}
        <DestinationHealthPanel id=d.id/>
        {if can_edit {
            Either::Left(view! {
                <section class="panel">
                    <h3>"Settings"</h3>
                    <ConfigureForm id=Some(d.id) initial=form report=flash.report.clone()/>
                </section>
                {match (d.disabled_reason, failing) {
                    (Some(DisabledReason::Auto), Some(failing)) if !d.enabled => Either::Left(
                        view! { <ReEnableForm d=d.clone() failing is_admin enable/> },
                    ),
                    _ => Either::Right(view! { <EnableForm d=d.clone() toggle/> }),
                }}
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

/// `Enabled`, `Disabled`, or `Disabled automatically`.
fn state_label(d: &DestinationView) -> &'static str {
    match (d.enabled, d.disabled_reason) {
        (true, _) => "Enabled",
        (false, Some(DisabledReason::Auto)) => "Disabled automatically",
        (false, _) => "Disabled",
    }
}

/// Why and since when a disabled destination is disabled.
fn disabled_note(d: &DestinationView, failing: Option<FailedWhileFailing>) -> Option<String> {
    if d.enabled {
        return None;
    }
    let at = d.disabled_at.map(utc_minute);
    Some(match (d.disabled_reason, at, failing) {
        (Some(DisabledReason::Auto), Some(at), Some(f)) => format!(
            "Disabled automatically on {at}: every delivery failed since {}. Its queued deliveries wait until it is enabled.",
            utc_minute(f.failing_since)
        ),
        (Some(DisabledReason::Auto), Some(at), None) => format!(
            "Disabled automatically on {at}: every delivery failed. Its queued deliveries wait until it is enabled."
        ),
        (_, Some(at), _) => format!("Disabled by hand on {at}."),
        (_, None, _) => "Disabled.".to_owned(),
    })
}

/// `5 deliveries`, or `more than 100,000 deliveries` past the cap.
fn failed_count(failed: i64) -> String {
    match failed {
        1 => "1 delivery".to_owned(),
        n if n > REDELIVER_ON_ENABLE_CAP => "more than 100,000 deliveries".to_owned(),
        n => format!("{n} deliveries"),
    }
}

/// Enabling a destination disabled automatically: enable only, or (admins)
/// enable and queue again what failed while it was failing.
#[component]
fn ReEnableForm(
    d: DestinationView,
    failing: FailedWhileFailing,
    is_admin: bool,
    enable: ServerAction<EnableDestination>,
) -> impl IntoView {
    let error = action_error(enable);
    let since = utc_minute(failing.failing_since);
    let count = failed_count(failing.failed);
    let offer = if failing.failed == 0 {
        format!("No delivery ended failed since {since}.")
    } else {
        format!("{count} ended failed since {since}.")
    };
    let redeliver_label = match failing.failed {
        1 => "Enable and redeliver 1 failed delivery".to_owned(),
        n if n > REDELIVER_ON_ENABLE_CAP => "Enable and redeliver the first 100,000".to_owned(),
        n => format!("Enable and redeliver {n} failed deliveries"),
    };
    let can_redeliver = failing.failed > 0 && is_admin;
    view! {
        <section class="panel">
            <h3>"Delivery"</h3>
            <FormAlert error/>
            <p id="failed-while-failing">{offer}</p>
            {(failing.failed > 0 && !is_admin).then(|| view! {
                <p class="hint">"An admin can enable it and redeliver them (same webhook-id and body, a fresh retry schedule)."</p>
            })}
            {can_redeliver.then(|| view! {
                <p class="hint">"Redelivering sends them again with the same webhook-id and body and a fresh retry schedule."</p>
            })}
            <ActionForm action=enable attr:class="inline-form">
                <input type="hidden" name="id" value=d.id.to_string()/>
                <button type="submit" name="redeliver" value="false" class="button secondary">"Enable"</button>
                {can_redeliver.then(|| view! {
                    <button type="submit" name="redeliver" value="true" class="button primary">{redeliver_label}</button>
                })}
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
