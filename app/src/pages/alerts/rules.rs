//! Alerts -> Rules: the list.

use super::EmptyState;
use crate::api::rules::load_rules;
use crate::components::page_data::page_data;
use crate::components::shell::use_user;
use crate::domain::Role;
use crate::model::{alert_type_label, RuleView, RulesPage};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn RulesTab() -> impl IntoView {
    let user = use_user();
    let rules = page_data(|| (), |_| load_rules());
    view! {
        <Title text="Rules"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading rules…"</p> }>
            {move || Suspend::new(async move {
                let can_edit = user.await.is_some_and(|u| u.role.at_least(Role::Editor));
                let body = match rules.await {
                    Ok(page) if page.rules.is_empty() => view! { <NoRules page can_edit/> }.into_any(),
                    Ok(page) => view! { <RuleTable rules=page.rules/> }.into_any(),
                    Err(err) => view! { <p class="form-alert" role="alert">{err.to_string()}</p> }.into_any(),
                };
                view! {
                    <div class="toolbar">
                        {can_edit.then(|| view! {
                            <A href="/alerts/rules/new" attr:class="button primary">"Add rule"</A>
                        })}
                    </div>
                    {body}
                }
            })}
        </Suspense>
    }
}

#[component]
fn NoRules(page: RulesPage, can_edit: bool) -> impl IntoView {
    let needs_destination = can_edit && page.destinations.is_empty();
    view! {
        <EmptyState title="No alert rules yet">
            <p>"A rule matches incoming events by type and asset, raises an alert, and sends it to its destinations."</p>
            {needs_destination.then(|| view! {
                <p>"Rules send to destinations, so start with one: "
                    <a href="/alerts/destinations/new">"Add Destination"</a>"."</p>
            })}
        </EmptyState>
    }
}

#[component]
fn RuleTable(rules: Vec<RuleView>) -> impl IntoView {
    view! {
        <div class="panel table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th>"Name"</th><th>"Alert type"</th><th>"Assets"</th><th>"Destinations"</th>
                        <th>"Status"</th><th>"Alerts (24h)"</th>
                    </tr>
                </thead>
                <tbody>
                    {rules.into_iter().map(|rule| view! { <RuleRow rule/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn RuleRow(rule: RuleView) -> impl IntoView {
    let destinations = if rule.destinations.is_empty() {
        "None".to_string()
    } else {
        rule.destinations
            .iter()
            .map(|d| {
                if d.enabled {
                    d.name.clone()
                } else {
                    format!("{} (disabled)", d.name)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <tr class:inactive=!rule.enabled>
            <td data-label="Name"><a href=format!("/alerts/rules/{}", rule.id)>{rule.name.clone()}</a></td>
            <td data-label="Alert type">{alert_type_label(&rule.alert_type).to_owned()}</td>
            <td data-label="Assets">
                {match rule.asset_pattern.clone() {
                    Some(pattern) => view! { <code>{pattern}</code> }.into_any(),
                    None => view! { <span class="muted">"All assets"</span> }.into_any(),
                }}
            </td>
            <td data-label="Destinations">{destinations}</td>
            <td data-label="Status">
                <span class=if rule.enabled { "badge ok" } else { "badge" }>
                    {if rule.enabled { "Enabled" } else { "Disabled" }}
                </span>
            </td>
            <td data-label="Alerts (24h)" class="number">{rule.alerts_24h}</td>
        </tr>
    }
}
