//! Settings -> API keys (admins only).

use crate::api::api_keys::{get_api_keys, CreateApiKey, RevokeApiKey};
use crate::components::form::{action_error, Field, FormAlert};
use crate::components::page_data::page_data;
use crate::domain::KeyRole;
use crate::error::AppError;
use crate::format::utc_minute;
use crate::model::{ApiKeyView, NewApiKey};
use crate::pages::settings::NoPermission;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let page = page_data(
        move || (create.version().get(), revoke.version().get()),
        |_| get_api_keys(),
    );
    view! {
        <Title text="API keys"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading API keys…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(AppError::Forbidden) => Either::Left(view! { <NoPermission/> }),
                    Err(err) => Either::Right(Either::Left(view! {
                        <p class="form-alert" role="alert">{err.to_string()}</p>
                    })),
                    Ok(data) => {
                        // With JavaScript the action holds the new key; without it, the reloaded page does.
                        let fresh = move || {
                            create.value().get().and_then(Result::ok).or_else(|| data.just_created.clone())
                        };
                        Either::Right(Either::Right(view! {
                            {move || fresh().map(|key| view! { <NewKeyNotice key/> })}
                            <KeyTable keys=data.keys.clone() revoke/>
                            <NewKeyForm create/>
                        }))
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn NewKeyNotice(key: NewApiKey) -> impl IntoView {
    view! {
        <section class="panel notice" role="status">
            <h2>{format!("API key \u{201c}{}\u{201d} created", key.key.name)}</h2>
            <p>"Copy it now: it is shown only once, and Alertwire keeps only a hash of it."</p>
            <div class="secret-row">
                <code class="secret" id="new-api-key">{key.secret.clone()}</code>
                <CopyButton text=key.secret/>
            </div>
            <p class="hint">"Send it as " <code>"Authorization: Bearer <key>"</code> " to " <code>"/api/v1"</code> "."</p>
        </section>
    }
}

/// Copies `text` to the clipboard (needs JavaScript; without it the text stays selectable).
#[component]
pub fn CopyButton(text: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let on_click = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let clipboard = window().navigator().clipboard();
            let _ = clipboard.write_text(&text);
            copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    view! {
        <button type="button" class="button secondary small" on:click=on_click>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

#[component]
fn KeyTable(keys: Vec<ApiKeyView>, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    let error = action_error(revoke);
    if keys.is_empty() {
        return Either::Left(view! {
            <div class="empty-state">
                <h2>"No API keys yet"</h2>
                <p>"Programs that post events to Alertwire authenticate with an API key."</p>
            </div>
        });
    }
    Either::Right(view! {
        <section class="panel">
            <h2>"API keys"</h2>
            <FormAlert error/>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr><th>"Name"</th><th>"Key"</th><th>"Role"</th><th>"Created"</th><th>"Last used"</th><th></th></tr>
                    </thead>
                    <tbody>
                        {keys.into_iter().map(|key| {
                            let revoked = key.revoked_at.is_some();
                            view! {
                                <tr class:inactive=revoked>
                                    <td data-label="Name">{key.name.clone()}</td>
                                    <td data-label="Key"><code>{format!("{}…", key.prefix)}</code></td>
                                    <td data-label="Role">{key.role.label()}</td>
                                    <td data-label="Created">{utc_minute(key.created_at)}</td>
                                    <td data-label="Last used">{key.last_used_at.map(utc_minute).unwrap_or_else(|| "Never".into())}</td>
                                    <td>
                                        {match key.revoked_at {
                                            Some(at) => Either::Left(view! { <span class="muted">{format!("Revoked {}", utc_minute(at))}</span> }),
                                            None => Either::Right(view! {
                                                <ActionForm action=revoke attr:class="inline-form">
                                                    <input type="hidden" name="key_id" value=key.id.to_string()/>
                                                    <button type="submit" class="button danger small">"Revoke"</button>
                                                </ActionForm>
                                            }),
                                        }}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    })
}

/// The key's role; `ingest` is proposed, since most keys belong to monitors that post events.
#[component]
fn RoleField(error: Signal<Option<AppError>>) -> impl IntoView {
    let message = move || {
        error
            .get()
            .and_then(|e| e.form().and_then(|f| f.message_for("role")))
    };
    view! {
        <div class="field" class:has-error=move || message().is_some()>
            <label for="key-role">"Role"</label>
            <select id="key-role" name="role" aria-describedby="key-role-error">
                {KeyRole::ALL.into_iter().map(|role| view! {
                    <option value=role.as_str() selected=role == KeyRole::Ingest>{role.description()}</option>
                }).collect_view()}
            </select>
            <p class="field-error" id="key-role-error" role="status">{message}</p>
        </div>
    }
}

#[component]
fn NewKeyForm(create: ServerAction<CreateApiKey>) -> impl IntoView {
    let error = action_error(create);
    view! {
        <section class="panel">
            <h2>"Create an API key"</h2>
            <ActionForm action=create attr:novalidate=true>
                <FormAlert error/>
                <Field label="Name" name="name" hint="What uses it, for example \u{201c}Production monitor\u{201d}."
                    required=true error id_prefix="key-"/>
                <RoleField error/>
                <button type="submit" class="button primary" disabled=move || create.pending().get()>
                    "Create API key"
                </button>
            </ActionForm>
        </section>
    }
}
