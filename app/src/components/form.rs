//! Form building blocks: a labelled field with its error, and the form-level alert.

use crate::error::{AppError, FormErrors};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The error of the last submission of `action`, if it failed.
/// Also filled on a page reloaded after a form post without JavaScript.
pub fn action_error<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

/// Whether the last submission of `action` succeeded.
pub fn action_succeeded<S>(action: ServerAction<S>) -> Signal<bool>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || matches!(action.value().get(), Some(Ok(_))))
}

/// Clears `form` after a successful submission; only the browser has a form to clear.
pub fn reset_on_success(form: NodeRef<leptos::html::Form>, done: Signal<bool>) {
    #[cfg(feature = "hydrate")]
    Effect::new(move || {
        if done.get() {
            if let Some(form) = form.get() {
                form.reset();
            }
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (form, done);
}

fn form_errors(error: Signal<Option<AppError>>) -> Signal<Option<FormErrors>> {
    Signal::derive(move || error.get().and_then(|e| e.form().cloned()))
}

/// A labelled input with its error message underneath.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] required: bool,
    error: Signal<Option<AppError>>,
    /// Field name used by the form prefix, so two forms on a page keep distinct ids.
    #[prop(optional)]
    id_prefix: &'static str,
    /// The submitted name when it differs from `name` (e.g. `form[url]`).
    #[prop(optional)]
    input_name: Option<&'static str>,
    /// The value to show before any submission.
    #[prop(optional, into)]
    initial: Option<String>,
    #[prop(optional)] placeholder: &'static str,
) -> impl IntoView {
    let id = format!("{id_prefix}{name}");
    let err_id = format!("{id}-error");
    let errors = form_errors(error);
    let message = move || errors.get().and_then(|f| f.message_for(name));
    let initial = initial.unwrap_or_default();
    let kept = move || {
        errors
            .get()
            .and_then(|f| f.value_for(name))
            .unwrap_or_else(|| initial.clone())
    };
    let described = err_id.clone();
    view! {
        <div class="field" class:has-error=move || message().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=input_name.unwrap_or(name)
                type=kind
                placeholder=placeholder
                autocomplete=autocomplete
                required=required
                value=kept
                aria-invalid=move || message().is_some().to_string()
                aria-describedby=described
            />
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=err_id role="status">{message}</p>
        </div>
    }
}

/// The message for errors that belong to no single field.
#[component]
pub fn FormAlert(error: Signal<Option<AppError>>) -> impl IntoView {
    let text = move || match error.get() {
        None => None,
        Some(AppError::Invalid(f)) if f.fields.len() > 1 => {
            Some("Some fields need attention: see the messages below them.".to_string())
        }
        Some(AppError::Invalid(_)) => None,
        Some(other) => Some(other.to_string()),
    };
    view! {
        <Show when=move || text().is_some()>
            <p class="form-alert" role="alert">{text}</p>
        </Show>
    }
}

/// The form-level success line.
#[component]
pub fn FormSuccess(shown: Signal<bool>, message: &'static str) -> impl IntoView {
    view! {
        <Show when=move || shown.get()>
            <p class="form-success" role="status">{message}</p>
        </Show>
    }
}
