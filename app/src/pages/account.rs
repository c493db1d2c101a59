use crate::api::account::ChangePassword;
use crate::components::form::{
    action_error, action_succeeded, reset_on_success, Field, FormAlert, FormSuccess,
};
use crate::components::shell::use_user;
use leptos::html::Form;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> impl IntoView {
    let user = use_user();
    let action = ServerAction::<ChangePassword>::new();
    let error = action_error(action);
    let done = action_succeeded(action);
    let form = NodeRef::<Form>::new();
    reset_on_success(form, done);
    view! {
        <Title text="Account"/>
        <section class="panel">
            <h2>"Your account"</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    user.await.map(|u| view! {
                        <p>"Signed in as " <strong>{u.email}</strong> " with the role " <strong>{u.role.label()}</strong> "."</p>
                    })
                })}
            </Suspense>
        </section>
        <section class="panel">
            <h2>"Change password"</h2>
            <ActionForm action node_ref=form attr:novalidate=true>
                <FormAlert error/>
                <FormSuccess shown=done message="Your password was changed."/>
                <Field label="Current password" name="current_password" kind="password"
                    autocomplete="current-password" required=true error/>
                <Field label="New password" name="new_password" kind="password" autocomplete="new-password"
                    hint="At least 12 characters." required=true error/>
                <Field label="Confirm new password" name="new_password_confirm" kind="password"
                    autocomplete="new-password" required=true error/>
                <button type="submit" class="button primary" disabled=move || action.pending().get()>
                    "Change password"
                </button>
            </ActionForm>
        </section>
    }
}
