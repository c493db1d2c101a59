//! Add rule and a rule's page: Rule Name, Alert Type, Asset Pattern,
//! Destinations, Enabled; Enable/Disable and Delete. One form that works as a
//! plain form post (the page reloads with the errors and the values sent)
//! and, hydrated, in place.
//!
//! The destination checkboxes are named `form[destination_ids][<n>]`: the
//! server function's form decoding (serde_qs) reads indexed names into a list,
//! with or without gaps, whether the browser posts them or `ActionForm` does.

use super::load_error;
use crate::api::rules::{load_rule, DeleteRule, RuleEditorData, SaveRule, SetRuleEnabled};
use crate::components::form::{action_error, Field, FormAlert};
use crate::components::page_data::page_data;
use crate::components::shell::use_user;
use crate::domain::Role;
use crate::error::{AppError, FormErrors};
use crate::format::utc_minute;
use crate::model::{alert_type_label, RuleDestination, RuleForm, RuleView, ALERT_TYPES};
use crate::pages::settings::NoPermission;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

const PATTERN_HINT: &str =
    "A glob on the asset's qualified name, e.g. production.public.*; leave empty for every asset.";

#[component]
pub fn NewRule() -> impl IntoView {
    let save = ServerAction::<SaveRule>::new();
    let data = page_data(|| (), |_| load_rule(None));
    let user = use_user();
    view! {
        <Title text="Add rule"/>
        <nav class="breadcrumbs" aria-label="Breadcrumbs">
            <A href="/alerts/rules">"Rules"</A> " / Add rule"
        </nav>
        <h2>"Add rule"</h2>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let can_edit = user.await.is_some_and(|u| u.role.at_least(Role::Editor));
                match data.await {
                    Ok(_) if !can_edit => view! { <NoPermission/> }.into_any(),
                    Ok(data) => {
                        let initial = RuleForm {
                            alert_type: ALERT_TYPES[0].0.to_owned(),
                            enabled: true,
                            ..RuleForm::default()
                        };
                        view! {
                            <section class="panel">
                                <RuleFormView id=None initial destinations=data.destinations save/>
                            </section>
                        }
                        .into_any()
                    }
                    Err(err) => load_error(err),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn EditRule() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|v| v.parse::<i64>().ok());
    // The actions outlive the reloads of the page data they trigger.
    let save = ServerAction::<SaveRule>::new();
    let toggle = ServerAction::<SetRuleEnabled>::new();
    let data = page_data(
        move || (id(), save.version().get(), toggle.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => load_rule(Some(id)).await,
                None => Err(AppError::NotFound("No such rule".into())),
            }
        },
    );
    let user = use_user();
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumbs"><A href="/alerts/rules">"Rules"</A></nav>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let can_edit = user.await.is_some_and(|u| u.role.at_least(Role::Editor));
                match data.await {
                    Ok(RuleEditorData { rule: Some(rule), destinations }) => {
                        view! { <LoadedRule rule destinations can_edit save toggle/> }.into_any()
                    }
                    Ok(_) => load_error(AppError::NotFound("No such rule".into())),
                    Err(err) => load_error(err),
                }
            })}
        </Suspense>
    }
}

#[component]
fn LoadedRule(
    rule: RuleView,
    destinations: Vec<RuleDestination>,
    can_edit: bool,
    save: ServerAction<SaveRule>,
    toggle: ServerAction<SetRuleEnabled>,
) -> impl IntoView {
    let initial = RuleForm {
        name: rule.name.clone(),
        alert_type: rule.alert_type.clone(),
        asset_pattern: rule.asset_pattern.clone().unwrap_or_default(),
        destination_ids: rule.destinations.iter().map(|d| d.id).collect(),
        enabled: rule.enabled,
    };
    let body = if can_edit {
        view! {
            <section class="panel">
                <h3>"Settings"</h3>
                <RuleFormView id=Some(rule.id) initial destinations save/>
            </section>
            <EnableForm rule=rule.clone() toggle/>
            <DeleteForm id=rule.id/>
        }
        .into_any()
    } else {
        view! { <ReadOnly rule=rule.clone()/> }.into_any()
    };
    view! {
        <Title text=rule.name.clone()/>
        <header class="detail-header">
            <h2>{rule.name.clone()}</h2>
            <span class=if rule.enabled { "badge ok" } else { "badge" }>
                {if rule.enabled { "Enabled" } else { "Disabled" }}
            </span>
        </header>
        <p class="muted">
            {format!(
                "{} in the last 24 hours. Last changed {}.",
                match rule.alerts_24h {
                    1 => "1 alert".to_string(),
                    n => format!("{n} alerts"),
                },
                utc_minute(rule.updated_at)
            )}
        </p>
        {body}
    }
}

/// The form of Add rule and of a rule's page. Without JavaScript, a post that
/// fails reloads this page with the errors and every value as sent.
#[component]
fn RuleFormView(
    id: Option<i64>,
    initial: RuleForm,
    destinations: Vec<RuleDestination>,
    save: ServerAction<SaveRule>,
) -> impl IntoView {
    let error = action_error(save);
    let query = use_query_map();
    // `?saved=1` after a save that reloaded (or opened) the page; not after a later failure.
    let saved = Signal::derive(move || match save.value().get() {
        Some(result) => result.is_ok(),
        None => query.read().get("saved").is_some(),
    });
    let sent = save
        .value()
        .get_untracked()
        .and_then(Result::err)
        .and_then(|e| e.form().cloned());
    let (alert_type, chosen, enabled) = shown_values(&initial, sent.as_ref());
    view! {
        <ActionForm action=save attr:class="rule-form" attr:novalidate=true>
            {id.map(|id| view! { <input type="hidden" name="id" value=id.to_string()/> })}
            <FormAlert error/>
            <Show when=move || saved.get()>
                <p class="form-success" role="status">"Rule saved."</p>
            </Show>
            <Field label="Rule Name" name="name" input_name="form[name]" id_prefix="rule-"
                initial=initial.name.clone() placeholder="Schema changes in production" required=true error/>
            <AlertTypeSelect chosen=alert_type error/>
            <Field label="Asset Pattern" name="asset_pattern" input_name="form[asset_pattern]" id_prefix="rule-"
                initial=initial.asset_pattern.clone() placeholder="production.public.*" hint=PATTERN_HINT error/>
            <DestinationChecks destinations chosen error/>
            <div class="field">
                <label class="choice" for="rule-enabled">
                    <input type="checkbox" id="rule-enabled" name="form[enabled]" value="true" checked=enabled/>
                    "Enabled"
                </label>
                <p class="hint">"A disabled rule raises no alerts."</p>
            </div>
            <div class="actions">
                <button type="submit" class="button primary" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
            </div>
        </ActionForm>
    }
}

/// The alert type, destinations and Enabled to show: as sent when the last
/// post failed, otherwise as stored.
fn shown_values(initial: &RuleForm, sent: Option<&FormErrors>) -> (String, Vec<i64>, bool) {
    let Some(sent) = sent else {
        return (
            initial.alert_type.clone(),
            initial.destination_ids.clone(),
            initial.enabled,
        );
    };
    let alert_type = sent
        .value_for("alert_type")
        .unwrap_or_else(|| initial.alert_type.clone());
    let chosen = match sent.value_for("destination_ids") {
        Some(list) => list
            .split(',')
            .filter_map(|id| id.trim().parse().ok())
            .collect(),
        None => initial.destination_ids.clone(),
    };
    let enabled = sent
        .value_for("enabled")
        .map_or(initial.enabled, |v| v == "true");
    (alert_type, chosen, enabled)
}

fn field_message(error: Signal<Option<AppError>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || {
        error
            .get()
            .and_then(|e| e.form().and_then(|f| f.message_for(field)))
    })
}

#[component]
fn AlertTypeSelect(chosen: String, error: Signal<Option<AppError>>) -> impl IntoView {
    let message = field_message(error, "alert_type");
    let known = ALERT_TYPES.iter().any(|(k, _)| *k == chosen);
    view! {
        <div class="field" class:has-error=move || message.get().is_some()>
            <label for="rule-alert_type">"Alert Type"</label>
            <select id="rule-alert_type" name="form[alert_type]" aria-describedby="rule-alert_type-error">
                {(!known).then(|| view! { <option value="" selected=true>"Choose an alert type"</option> })}
                {ALERT_TYPES.iter().map(|(kind, label)| view! {
                    <option value=*kind selected=*kind == chosen>{*label}</option>
                }).collect_view()}
            </select>
            <p class="field-error" id="rule-alert_type-error" role="status">{message}</p>
        </div>
    }
}

#[component]
fn DestinationChecks(
    destinations: Vec<RuleDestination>,
    chosen: Vec<i64>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let message = field_message(error, "destination_ids");
    let list = if destinations.is_empty() {
        view! {
            <p class="hint">
                "There are no destinations yet. " <a href="/alerts/destinations/new">"Add Destination"</a>
                " first, then come back to this rule."
            </p>
        }
        .into_any()
    } else {
        view! {
            <div class="checks">
                {destinations.into_iter().enumerate().map(|(i, d)| {
                    let input_id = format!("rule-destination-{}", d.id);
                    let label_for = input_id.clone();
                    view! {
                        <label class="choice" for=label_for>
                            <input type="checkbox" id=input_id name=format!("form[destination_ids][{i}]")
                                value=d.id.to_string() checked=chosen.contains(&d.id)/>
                            {d.name.clone()}
                            {(!d.enabled).then(|| view! { <span class="badge">"Disabled"</span> })}
                        </label>
                    }
                }).collect_view()}
            </div>
        }
        .into_any()
    };
    view! {
        <fieldset class="field destinations" class:has-error=move || message.get().is_some()
            aria-describedby="rule-destination_ids-error">
            <legend>"Destinations"</legend>
            <p class="hint">"Every alert this rule raises is sent to each chosen destination."</p>
            {list}
            <p class="field-error" id="rule-destination_ids-error" role="status">{message}</p>
        </fieldset>
    }
}

#[component]
fn ReadOnly(rule: RuleView) -> impl IntoView {
    let destinations = if rule.destinations.is_empty() {
        "None".to_string()
    } else {
        rule.destinations
            .iter()
            .map(|d| d.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <section class="panel">
            <h3>"Settings"</h3>
            <dl class="facts">
                <dt>"Alert Type"</dt><dd>{alert_type_label(&rule.alert_type).to_owned()}</dd>
                <dt>"Asset Pattern"</dt>
                <dd>{match rule.asset_pattern.clone() {
                    Some(p) => view! { <code>{p}</code> }.into_any(),
                    None => view! { <span>"All assets"</span> }.into_any(),
                }}</dd>
                <dt>"Destinations"</dt><dd>{destinations}</dd>
                <dt>"Enabled"</dt><dd>{if rule.enabled { "Yes" } else { "No" }}</dd>
            </dl>
        </section>
    }
}

#[component]
fn EnableForm(rule: RuleView, toggle: ServerAction<SetRuleEnabled>) -> impl IntoView {
    let error = action_error(toggle);
    view! {
        <section class="panel">
            <h3>"Alerting"</h3>
            <FormAlert error/>
            <ActionForm action=toggle attr:class="inline-form">
                <input type="hidden" name="id" value=rule.id.to_string()/>
                <input type="hidden" name="enabled" value=(!rule.enabled).to_string()/>
                <span>{if rule.enabled {
                    "Matching events raise alerts."
                } else {
                    "This rule raises no alerts while disabled."
                }}</span>
                <button type="submit" class="button secondary">{if rule.enabled { "Disable" } else { "Enable" }}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn DeleteForm(id: i64) -> impl IntoView {
    let delete = ServerAction::<DeleteRule>::new();
    let error = action_error(delete);
    view! {
        <section class="panel danger-zone">
            <details>
                <summary>"Delete rule…"</summary>
                <p>"Events stop raising alerts through it. The alerts it raised and their delivery history stay."</p>
                <FormAlert error/>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id.to_string()/>
                    <button type="submit" class="button danger">"Delete rule"</button>
                </ActionForm>
            </details>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_values_as_sent_after_a_failed_post() {
        let stored = RuleForm {
            name: "Stored".into(),
            alert_type: "schema".into(),
            asset_pattern: String::new(),
            destination_ids: vec![1],
            enabled: true,
        };
        assert_eq!(
            shown_values(&stored, None),
            ("schema".into(), vec![1], true)
        );
        let mut sent = FormErrors::default();
        sent.keep("alert_type", "freshness");
        sent.keep("destination_ids", "2,3");
        sent.keep("enabled", "false");
        assert_eq!(
            shown_values(&stored, Some(&sent)),
            ("freshness".into(), vec![2, 3], false)
        );
        let mut none_chosen = FormErrors::default();
        none_chosen.keep("destination_ids", "");
        assert_eq!(
            shown_values(&stored, Some(&none_chosen)).1,
            Vec::<i64>::new()
        );
    }
}
