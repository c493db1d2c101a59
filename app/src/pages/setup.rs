use crate::api::account::Setup;
use crate::components::form::{action_error, Field, FormAlert};
use leptos::prelude::*;
use leptos_meta::Title;

/// First-run setup: only reachable while no user exists.
#[component]
pub fn SetupPage() -> impl IntoView {
    let action = ServerAction::<Setup>::new();
    let error = action_error(action);
    view! {
        <Title text="Set up"/>
        <div class="auth-page">
            <section class="auth-card">
                <h1>"Welcome to Alertwire"</h1>
                <p class="lead">"Create the first administrator account. You can invite others from Settings afterwards."</p>
                <ActionForm action attr:novalidate=true>
                    <FormAlert error/>
                    <Field label="Email" name="email" kind="email" autocomplete="username" required=true error/>
                    <Field label="Password" name="password" kind="password" autocomplete="new-password"
                        hint="At least 12 characters." required=true error/>
                    <Field label="Confirm password" name="password_confirm" kind="password"
                        autocomplete="new-password" required=true error/>
                    <button type="submit" class="button primary wide" disabled=move || action.pending().get()>"Create admin account"</button>
                </ActionForm>
            </section>
        </div>
    }
}
