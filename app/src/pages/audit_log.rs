//! Settings -> Audit log (admins only): who did what to which object, when
//! and from where, newest first. Filtered by a GET form and paged by "Older"
//! links, so the filters live in the address and it works without JavaScript.

use crate::api::audit::load_audit_log;
use crate::components::page_data::page_data;
use crate::domain::{AuditAction, ObjectKind};
use crate::error::AppError;
use crate::format::utc_second;
use crate::model::{AuditActor, AuditEntryView, AuditFilter, AuditLogData};
use crate::pages::alerts::query_value;
use crate::pages::settings::NoPermission;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const PATH: &str = "/settings/audit-log";

/// `?actor=..&object=..` for these filters (and `cursor` when given).
fn href(filter: &AuditFilter, cursor: Option<&str>) -> String {
    let pairs = [
        ("actor", filter.actor.as_deref()),
        ("object", filter.object.as_deref()),
        ("since", filter.since.as_deref()),
        ("until", filter.until.as_deref()),
        ("cursor", cursor),
    ];
    let query: Vec<String> = pairs
        .into_iter()
        .filter_map(|(key, value)| {
            value
                .filter(|v| !v.is_empty())
                .map(|v| format!("{key}={}", query_value(v)))
        })
        .collect();
    if query.is_empty() {
        PATH.to_owned()
    } else {
        format!("{PATH}?{}", query.join("&"))
    }
}

/// A time filter as a `datetime-local` field shows it: `2024-01-15T08:00:00Z`
/// becomes `2024-01-15T08:00:00`; other text is shown as typed.
fn local_field(value: &str) -> String {
    match value.strip_suffix('Z') {
        Some(local) if local.len() == 19 || local.len() == 16 => local.to_owned(),
        _ => value.to_owned(),
    }
}

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        let q = query.read();
        let text = |key: &str| q.get(key).filter(|v| !v.is_empty());
        AuditFilter {
            actor: text("actor"),
            object: text("object"),
            since: text("since"),
            until: text("until"),
            cursor: text("cursor"),
        }
    };
    let data = page_data(filter, |f| {
        load_audit_log(f.actor, f.object, f.since, f.until, f.cursor)
    });
    view! {
        <Title text="Audit log"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading the audit log…"</p> }>
            {move || Suspend::new(async move {
                let shown = filter();
                match data.await {
                    Err(AppError::Forbidden) => Either::Left(view! { <NoPermission/> }),
                    result => Either::Right(view! { <AuditLoaded result filter=shown/> }),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AuditLoaded(result: Result<AuditLogData, AppError>, filter: AuditFilter) -> impl IntoView {
    let (page, actors, error) = match result {
        Ok(data) => (Some(data.page), data.actors, None),
        Err(err) => (None, Vec::new(), Some(err)),
    };
    let messages: Vec<String> = match &error {
        Some(AppError::Invalid(errors)) => {
            errors.fields.iter().map(|f| f.message.clone()).collect()
        }
        Some(err) => vec![err.to_string()],
        None => Vec::new(),
    };
    let first_page = filter.cursor.is_none();
    let body = page.map(|page| {
        let older = page.next_cursor.as_deref().map(|c| href(&filter, Some(c)));
        let newest = (!first_page).then(|| href(&filter, None));
        let table = if page.items.is_empty() {
            let (title, text) = if filter.is_filtered() {
                ("No entries match", "Try another actor, object or time.")
            } else {
                ("No entries yet", "Changes to destinations, rules, users and API keys, tests, reveals, redeliveries and failed sign-ins are listed here.")
            };
            Either::Left(view! {
                <div class="empty-state">
                    <h2>{title}</h2>
                    <p>{text}</p>
                </div>
            })
        } else {
            Either::Right(view! { <AuditTable items=page.items/> })
        };
        view! {
            {table}
            {(older.is_some() || newest.is_some()).then(|| view! {
                <nav class="pager" aria-label="Pages">
                    {newest.map(|href| view! { <a class="button secondary small" href=href>"Newest"</a> })}
                    {older.map(|href| view! { <a class="button secondary small" href=href>"Older"</a> })}
                </nav>
            })}
        }
    });
    view! {
        <p class="hint list-intro">
            "Who changed what, newest first: changes to destinations, rules, users and API keys, test alerts, "
            "revealed secrets, redeliveries, and failed sign-ins. Secret values are never recorded."
        </p>
        <AuditFilterForm filter actors/>
        {(!messages.is_empty()).then(|| view! {
            <div class="form-alert" role="alert">
                <ul>{messages.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
            </div>
        })}
        {body}
    }
}

/// A GET form: the filters end up in the address, with or without JavaScript.
#[component]
fn AuditFilterForm(filter: AuditFilter, actors: Vec<AuditActor>) -> impl IntoView {
    let actor = filter.actor.clone().unwrap_or_default();
    let object = filter.object.clone().unwrap_or_default();
    // A filter on one object (`destination:4`) stays offered as it is.
    let one_object = object.contains(':').then(|| object.clone());
    let since = filter.since.as_deref().map(local_field).unwrap_or_default();
    let until = filter.until.as_deref().map(local_field).unwrap_or_default();
    view! {
        <form method="get" action=PATH class="filters" role="search" aria-label="Filter the audit log">
            <div class="field">
                <label for="audit-actor">"Actor"</label>
                <select id="audit-actor" name="actor">
                    <option value="" selected=actor.is_empty()>"Anyone"</option>
                    {actors.into_iter().map(|a| {
                        let value = a.filter_value();
                        let selected = value == actor;
                        let text = format!("{} ({})", a.name, a.kind.label());
                        view! { <option value=value selected=selected>{text}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="audit-object">"Object"</label>
                <select id="audit-object" name="object">
                    <option value="" selected=object.is_empty()>"Anything"</option>
                    {one_object.map(|value| view! {
                        <option value=value.clone() selected=true>{format!("Only {value}")}</option>
                    })}
                    {ObjectKind::ALL.iter().map(|k| view! {
                        <option value=k.as_str() selected=k.as_str() == object>{format!("Any {}", k.label().to_lowercase())}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="audit-since">"From (UTC)"</label>
                <input id="audit-since" name="since" type="datetime-local" step="1" value=since/>
            </div>
            <div class="field">
                <label for="audit-until">"To (UTC)"</label>
                <input id="audit-until" name="until" type="datetime-local" step="1" value=until/>
            </div>
            <button type="submit" class="button secondary">"Filter"</button>
        </form>
    }
}

#[component]
fn AuditTable(items: Vec<AuditEntryView>) -> impl IntoView {
    view! {
        <div class="panel table-wrap">
            <table class="table audit-log">
                <thead>
                    <tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Object"</th><th>"Address"</th></tr>
                </thead>
                <tbody>
                    {items.into_iter().map(|entry| view! { <AuditRow entry/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Who acted, linked to the log filtered to them.
fn who(entry: &AuditEntryView) -> impl IntoView {
    match &entry.actor {
        Some(actor) => {
            let filtered = href(
                &AuditFilter {
                    actor: Some(actor.filter_value()),
                    ..AuditFilter::default()
                },
                None,
            );
            Either::Left(view! {
                <a href=filtered>{actor.name.clone()}</a>
                " "
                <span class="muted">{format!("({})", actor.kind.label())}</span>
            })
        }
        // Nobody signed in: a sign-in attempt or first-run setup (with an
        // address), or the command line (without).
        None if entry.address.is_some() => {
            Either::Right(view! { <span class="muted">"Not signed in"</span> })
        }
        None => Either::Right(view! { <span class="muted">"Command line"</span> }),
    }
}

#[component]
fn AuditRow(entry: AuditEntryView) -> impl IntoView {
    let object = &entry.object;
    let object_filter = href(
        &AuditFilter {
            object: Some(object.filter_value()),
            ..AuditFilter::default()
        },
        None,
    );
    let object_text = match object.id {
        Some(id) if object.name.is_empty() => format!("#{id}"),
        _ => object.name.clone(),
    };
    let failure = matches!(
        entry.action,
        AuditAction::SignInFailed | AuditAction::PasswordReentryFailed | AuditAction::LockedOut
    );
    view! {
        <tr data-audit=entry.id.to_string() data-action=entry.action.as_str()>
            <td data-label="When">{utc_second(entry.at)}</td>
            <td data-label="Who">{who(&entry)}</td>
            <td data-label="What" class:failure=failure>{entry.action.label()}</td>
            <td data-label="Object">
                <span class="muted">{object.kind.label()}</span>
                " "
                <a href=object_filter>{object_text}</a>
            </td>
            <td data-label="Address">{entry.address.clone().unwrap_or_else(|| "—".into())}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filters() {
        let f = AuditFilter {
            actor: Some("user:3".into()),
            object: None,
            since: Some("2024-01-15T08:00".into()),
            until: None,
            cursor: Some("90".into()),
        };
        assert_eq!(
            href(&f, Some("40")),
            "/settings/audit-log?actor=user%3A3&since=2024-01-15T08%3A00&cursor=40"
        );
        assert_eq!(
            href(&f, None),
            "/settings/audit-log?actor=user%3A3&since=2024-01-15T08%3A00"
        );
        assert_eq!(href(&AuditFilter::default(), None), "/settings/audit-log");
    }

    #[test]
    fn times_show_in_the_field() {
        assert_eq!(local_field("2024-01-15T08:00:00Z"), "2024-01-15T08:00:00");
        assert_eq!(local_field("2024-01-15T08:00"), "2024-01-15T08:00");
        assert_eq!(local_field("yesterday"), "yesterday");
    }
}
