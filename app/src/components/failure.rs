//! A failed attempt explained: the documentation's Troubleshooting entry
//! (title, cause, fixes), the same for Send Test Alert and the delivery log.

use crate::model::Failure;
use leptos::prelude::*;

#[component]
pub fn FailureAdvice(failure: Failure) -> impl IntoView {
    let Failure {
        kind,
        title,
        cause,
        detail,
        fixes,
    } = failure;
    view! {
        <div class="failure" data-kind=kind>
            <h4>{title}</h4>
            <p><strong>"Cause: "</strong>{cause}" "{detail}</p>
            <p><strong>"Fix:"</strong></p>
            <ol>{fixes.into_iter().map(|fix| view! { <li>{fix}</li> }).collect_view()}</ol>
        </div>
    }
}
