//! The result of Send Test Alert.

use crate::components::failure::FailureAdvice;
use crate::model::TestReport;
use leptos::prelude::*;

#[component]
pub fn TestReportView(report: TestReport, unsaved: bool) -> impl IntoView {
    let mut summary = vec![report.request_line.clone()];
    if let Some(status) = &report.status {
        summary.push(format!("Status: {status}"));
    }
    summary.push(format!("Response time: {}ms", report.response_ms));
    let class = if report.ok {
        "test-report ok"
    } else {
        "test-report failed"
    };
    view! {
        <section class=class data-testid="test-report">
            <h3>{if report.ok { "Test alert delivered" } else { "Test alert failed" }}</h3>
            <pre class="summary">{summary.join("\n")}</pre>
            {report.failure.map(|failure| view! { <FailureAdvice failure/> })}
            {report.ok.then(|| view! { <p class="muted">"Your endpoint responded with a 2xx status code."</p> })}
            {unsaved.then(|| view! {
                <p class="hint">"Signed with a temporary secret: the destination gets its own signing secret when you save it."</p>
            })}
            <details>
                <summary>{if report.response_truncated { "Response body (first 2 KiB)" } else { "Response body" }}</summary>
                <pre class="body">{report.response_body}</pre>
            </details>
            <details>
                <summary>"Headers sent"</summary>
                <table class="table compact">
                    <tbody>
                        {report.request_headers.into_iter().map(|(k, v)| view! {
                            <tr><th scope="row"><code>{k}</code></th><td><code>{v}</code></td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        </section>
    }
}
