//! The Configure step: Destination Name, URL, Authentication, Headers, and
//! the Send Test Alert and Save buttons. One form, two intents: it works as a
//! plain form post and, hydrated, without reloading.

use super::report::TestReportView;
use crate::api::destinations::SubmitDestination;
use crate::components::form::{action_error, Field, FormAlert};
use crate::error::AppError;
use crate::model::{AuthKind, DestinationForm, DestinationOutcome, HeaderRow, Intent, TestReport};
use leptos::prelude::*;

#[component]
pub fn ConfigureForm(
    id: Option<i64>,
    initial: DestinationForm,
    report: Option<TestReport>,
) -> impl IntoView {
    let action = ServerAction::<SubmitDestination>::new();
    let error = action_error(action);
    let editing = id.is_some();
    // The newest result: this page's last Send Test Alert, or the one a reload carried.
    let shown_report = Signal::derive(move || match action.value().get() {
        Some(Ok(DestinationOutcome::Tested(r))) => Some(r),
        Some(_) => None,
        None => report.clone(),
    });
    let saved = Signal::derive(move || {
        matches!(
            action.value().get(),
            Some(Ok(DestinationOutcome::Updated(_)))
        )
    });
    // The destination's page lists its test sends: tell it one was sent.
    if let Some(sent) = use_context::<super::health::TestsSent>() {
        Effect::new(move |_| {
            if let Some(Ok(DestinationOutcome::Tested(_))) = action.value().get() {
                sent.0.update(|n| *n += 1);
            }
        });
    }
    let pending_intent = move || {
        action
            .pending()
            .get()
            .then(|| action.input().get().map(|i| i.intent))
            .flatten()
    };
    view! {
        <ActionForm action attr:class="configure" attr:novalidate=true>
            {id.map(|id| view! { <input type="hidden" name="id" value=id.to_string()/> })}
            <FormAlert error/>
            <Show when=move || saved.get()>
                <p class="form-success" role="status">"Changes saved."</p>
            </Show>
            <Field label="Destination Name" name="name" input_name="form[name]" initial=initial.name.clone()
                placeholder="Internal Alerting System" required=true error/>
            <Field label="URL" name="url" input_name="form[url]" kind="url" initial=initial.url.clone()
                placeholder="https://your-endpoint.com/alerts" hint="Your endpoint URL (must be HTTPS)." required=true error/>
            <AuthFields initial=initial.clone() editing error/>
            <HeaderRows initial=initial.headers.clone() error/>
            <div class="actions">
                <button type="submit" name="intent" value="test" class="button secondary"
                    disabled=move || pending_intent().is_some()>
                    {move || if pending_intent() == Some(Intent::Test) { "Sending…" } else { "Send Test Alert" }}
                </button>
                <button type="submit" name="intent" value="save" class="button primary"
                    disabled=move || pending_intent().is_some()>
                    {move || if pending_intent() == Some(Intent::Save) { "Saving…" } else { "Save" }}
                </button>
            </div>
        </ActionForm>
        <div aria-live="polite">
            {move || shown_report.get().map(|report| view! { <TestReportView report unsaved=!editing/> })}
        </div>
    }
}

/// Authentication: None, Bearer token, or API key with its header. All the
/// fields are in the page; CSS shows the ones the checked choice needs.
#[component]
fn AuthFields(
    initial: DestinationForm,
    editing: bool,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let chosen = AuthKind::parse(&initial.auth_type).unwrap_or(AuthKind::None);
    let keep_hint = if editing {
        "Leave empty to keep the stored value (kept only while the URL's host stays the same)."
    } else {
        ""
    };
    let message = move || {
        error
            .get()
            .and_then(|e| e.form().and_then(|f| f.message_for("auth_type")))
    };
    view! {
        <fieldset class="field auth">
            <legend>"Authentication"</legend>
            <div class="choices">
                {[AuthKind::None, AuthKind::Bearer, AuthKind::ApiKey].into_iter().map(|kind| {
                    let id = format!("auth-{}", kind.as_str());
                    let label_for = id.clone();
                    view! {
                        <label class="choice" for=label_for>
                            <input type="radio" id=id name="form[auth_type]" value=kind.as_str() checked=kind == chosen/>
                            {kind.label()}
                        </label>
                    }
                }).collect_view()}
            </div>
            <p class="field-error" role="status">{message}</p>
            <div class="auth-bearer">
                <Field label="Token" name="bearer_token" input_name="form[bearer_token]" kind="password"
                    autocomplete="off" hint=if editing { keep_hint } else { "Sent as Authorization: Bearer <token>." } error
                    initial=initial.bearer_token.clone()/>
            </div>
            <div class="auth-api-key">
                <Field label="Header name" name="api_key_header" input_name="form[api_key_header]"
                    initial=initial.api_key_header.clone() placeholder="X-API-Key" error/>
                <Field label="Key" name="api_key" input_name="form[api_key]" kind="password" autocomplete="off"
                    hint=keep_hint initial=initial.api_key.clone() error/>
            </div>
        </fieldset>
    }
}

/// Custom headers: rows of name and value. Without JavaScript there is always
/// one blank row to fill, and "Add another header" posts the form to come
/// back with one more; with it, Add header adds rows and Remove drops them.
#[component]
fn HeaderRows(initial: Vec<HeaderRow>, error: Signal<Option<AppError>>) -> impl IntoView {
    let mut start: Vec<HeaderRow> = initial
        .into_iter()
        .filter(|r| !(r.name.is_empty() && r.value.is_empty()))
        .collect();
    start.push(HeaderRow::default());
    let rows = RwSignal::new(start);
    let hydrated = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move || hydrated.set(true));
    let message = move |key: String| {
        error
            .get()
            .and_then(|e| e.form().and_then(|f| f.message_for(&key)))
    };
    view! {
        <fieldset class="field headers">
            <legend>"Headers"</legend>
            <p class="hint">"Optional custom HTTP headers sent with every alert. A secret one is stored encrypted and never shown again; names like Authorization, Cookie or ones containing token, key, secret or password are always secret."</p>
            <p class="field-error" role="status">{move || message("headers".into())}</p>
            {move || rows.get().into_iter().enumerate().map(|(i, row)| {
                let name_id = format!("header-{i}-name");
                let value_id = format!("header-{i}-value");
                let secret_id = format!("header-{i}-secret");
                let secret_for = secret_id.clone();
                // A stored secret comes back empty: typing nothing keeps it.
                let placeholder = if row.secret && row.value.is_empty() && !row.name.is_empty() {
                    "Stored: leave empty to keep"
                } else {
                    ""
                };
                view! {
                    <div class="header-row">
                        <div class="field">
                            <label for=name_id.clone()>{format!("Header {} name", i + 1)}</label>
                            <input id=name_id name=format!("form[headers][{i}][name]") value=row.name.clone()
                                placeholder="X-Team"
                                on:input=move |ev| rows.update_untracked(|r| if let Some(x) = r.get_mut(i) { x.name = event_target_value(&ev) })/>
                            <p class="field-error" role="status">{move || message(format!("headers.{i}.name"))}</p>
                        </div>
                        <div class="field">
                            <label for=value_id.clone()>{format!("Header {} value", i + 1)}</label>
                            <input id=value_id name=format!("form[headers][{i}][value]") value=row.value.clone()
                                type=if row.secret { "password" } else { "text" } autocomplete="off" placeholder=placeholder
                                on:input=move |ev| rows.update_untracked(|r| if let Some(x) = r.get_mut(i) { x.value = event_target_value(&ev) })/>
                            <p class="field-error" role="status">{move || message(format!("headers.{i}.value"))}</p>
                        </div>
                        <label class="choice secret-toggle" for=secret_for>
                            <input type="checkbox" id=secret_id name=format!("form[headers][{i}][secret]") value="true"
                                checked=row.secret
                                on:change=move |ev| rows.update_untracked(|r| if let Some(x) = r.get_mut(i) { x.secret = event_target_checked(&ev) })/>
                            "Secret"
                        </label>
                        <Show when=move || hydrated.get()>
                            <button type="button" class="button secondary small remove"
                                on:click=move |_| rows.update(|r| { r.remove(i); if r.is_empty() { r.push(HeaderRow::default()); } })>
                                "Remove"
                            </button>
                        </Show>
                    </div>
                }
            }).collect_view()}
            <Show when=move || hydrated.get() fallback=|| view! {
                <button type="submit" name="intent" value="add_header" class="button secondary small">
                    "Add another header"
                </button>
            }>
                <button type="button" class="button secondary small" on:click=move |_| rows.update(|r| r.push(HeaderRow::default()))>
                    "Add header"
                </button>
            </Show>
        </fieldset>
    }
}
