use crate::api::account::Login;
use crate::components::form::{action_error, Field, FormAlert};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let error = action_error(action);
    view! {
        <Title text="Sign in"/>
        <div class="auth-page">
            <section class="auth-card">
                <h1>"Sign in to Alertwire"</h1>
                <ActionForm action attr:novalidate=true>
                    <FormAlert error/>
                    <Field label="Email" name="email" kind="email" autocomplete="username" required=true error/>
                    <Field label="Password" name="password" kind="password" autocomplete="current-password"
                        required=true error/>
                    <button type="submit" class="button primary wide" disabled=move || action.pending().get()>"Sign in"</button>
                </ActionForm>
            </section>
        </div>
    }
}
