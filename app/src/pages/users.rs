//! Settings -> Users (admins only).

use crate::api::users::{list_users, CreateUser, SetUserActive, SetUserRole};
use crate::components::form::{
    action_error, action_succeeded, reset_on_success, Field, FormAlert, FormSuccess,
};
use crate::components::page_data::page_data;
use crate::domain::Role;
use crate::error::AppError;
use crate::format::utc_minute;
use crate::model::UserView;
use crate::pages::settings::NoPermission;
use leptos::either::Either;
use leptos::html::Form;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let set_active = ServerAction::<SetUserActive>::new();
    let users = page_data(
        move || {
            (
                create.version().get(),
                set_role.version().get(),
                set_active.version().get(),
            )
        },
        |_| list_users(),
    );
    let row_error = Signal::derive(move || {
        action_error(set_role)
            .get()
            .or_else(|| action_error(set_active).get())
    });
    view! {
        <Title text="Users"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(AppError::Forbidden) => Either::Left(view! { <NoPermission/> }),
                    result => Either::Right(view! {
                        <section class="panel">
                            <h2>"Users"</h2>
                            <FormAlert error=row_error/>
                            {match result {
                                Ok(list) => Either::Left(view! { <UserTable users=list set_role set_active/> }),
                                Err(err) => Either::Right(view! { <p class="form-alert" role="alert">{err.to_string()}</p> }),
                            }}
                        </section>
                        <NewUserForm create/>
                    }),
                }
            })}
        </Suspense>
    }
}

#[component]
fn UserTable(
    users: Vec<UserView>,
    set_role: ServerAction<SetUserRole>,
    set_active: ServerAction<SetUserActive>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr><th>"Email"</th><th>"Role"</th><th>"Status"</th><th>"Created"</th><th></th></tr>
                </thead>
                <tbody>
                    {users.into_iter().map(|user| view! { <UserRow user set_role set_active/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn UserRow(
    user: UserView,
    set_role: ServerAction<SetUserRole>,
    set_active: ServerAction<SetUserActive>,
) -> impl IntoView {
    let id = user.id.to_string();
    let id_for_role = id.clone();
    let select_id = format!("role-{}", user.id);
    let current = user.role;
    view! {
        <tr class:inactive=!user.active>
            <td data-label="Email">{user.email.clone()}</td>
            <td data-label="Role">
                <ActionForm action=set_role attr:class="inline-form">
                    <input type="hidden" name="user_id" value=id_for_role/>
                    <label class="visually-hidden" for=select_id.clone()>{format!("Role of {}", user.email)}</label>
                    <select id=select_id name="role">
                        {Role::ALL.into_iter().map(|role| view! {
                            <option value=role.as_str() selected=role == current>{role.label()}</option>
                        }).collect_view()}
                    </select>
                    <button type="submit" class="button secondary small">"Change role"</button>
                </ActionForm>
            </td>
            <td data-label="Status">{if user.active { "Active" } else { "Deactivated" }}</td>
            <td data-label="Created">{utc_minute(user.created_at)}</td>
            <td>
                <ActionForm action=set_active attr:class="inline-form">
                    <input type="hidden" name="user_id" value=id/>
                    <input type="hidden" name="active" value=(!user.active).to_string()/>
                    <button type="submit" class="button secondary small">
                        {if user.active { "Deactivate" } else { "Reactivate" }}
                    </button>
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
fn NewUserForm(create: ServerAction<CreateUser>) -> impl IntoView {
    let error = action_error(create);
    let done = action_succeeded(create);
    let form = NodeRef::<Form>::new();
    reset_on_success(form, done);
    view! {
        <section class="panel">
            <h2>"Add a user"</h2>
            <ActionForm action=create node_ref=form attr:novalidate=true>
                <FormAlert error/>
                <FormSuccess shown=done message="User created."/>
                <Field label="Email" name="email" kind="email" autocomplete="off" required=true error id_prefix="new-"/>
                <Field label="Password" name="password" kind="password" autocomplete="new-password"
                    hint="At least 12 characters. Share it with the user; they can change it." required=true
                    error id_prefix="new-"/>
                <Field label="Confirm password" name="password_confirm" kind="password"
                    autocomplete="new-password" required=true error id_prefix="new-"/>
                <RoleSelect error/>
                <button type="submit" class="button primary" disabled=move || create.pending().get()>
                    "Add user"
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
fn RoleSelect(error: Signal<Option<AppError>>) -> impl IntoView {
    let message = move || {
        error
            .get()
            .and_then(|e| e.form().and_then(|f| f.message_for("role")))
    };
    view! {
        <div class="field" class:has-error=move || message().is_some()>
            <label for="new-role">"Role"</label>
            <select id="new-role" name="role" aria-describedby="new-role-error">
                <option value="viewer">"Viewer: reads everything but secrets"</option>
                <option value="editor">"Editor: also edits and tests destinations and rules"</option>
                <option value="admin">"Admin: also manages users and API keys"</option>
            </select>
            <p class="field-error" id="new-role-error" role="status">{message}</p>
        </div>
    }
}
