use crate::api::destinations::list_destinations;
use crate::components::page_data::page_data;
use crate::components::shell::use_user;
use crate::domain::Role;
use crate::format::utc_minute;
use crate::model::{DestinationList, DestinationView};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

#[component]
pub fn DestinationsTab() -> impl IntoView {
    let user = use_user();
    let query = use_query_map();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(1)
    };
    let destinations = page_data(page, |page| list_destinations(Some(page)));
    view! {
        <Title text="Destinations"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading destinations…"</p> }>
            {move || Suspend::new(async move {
                let can_edit = user.await.is_some_and(|u| u.role.at_least(Role::Editor));
                let list = destinations.await;
                view! {
                    <div class="toolbar">
                        {can_edit.then(|| view! {
                            <A href="/alerts/destinations/new" attr:class="button primary">"Add Destination"</A>
                        })}
                    </div>
                    {match list {
                        Ok(list) if list.total == 0 => Either::Left(view! {
                            <div class="empty-state">
                                <h2>"No destinations yet"</h2>
                                <p>"A destination is an HTTPS endpoint that receives alerts as signed webhooks."</p>
                            </div>
                        }),
                        Ok(list) => Either::Right(Either::Left(view! { <DestinationTable list/> })),
                        Err(err) => Either::Right(Either::Right(view! {
                            <p class="form-alert" role="alert">{err.to_string()}</p>
                        })),
                    }}
                }
            })}
        </Suspense>
    }
}

#[component]
fn DestinationTable(list: DestinationList) -> impl IntoView {
    let pager = Pager::of(&list);
    let list = list.items;
    view! {
        <div class="panel table-wrap">
            <table class="table">
                <thead>
                    <tr><th>"Name"</th><th>"Type"</th><th>"Host"</th><th>"Status"</th><th>"Health"</th><th>"Last result"</th></tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|d| { let result = last_result(&d); view! {
                        <tr class:inactive=!d.enabled>
                            <td data-label="Name"><a href=format!("/alerts/destinations/{}", d.id)>{d.name.clone()}</a></td>
                            <td data-label="Type">"Webhook"</td>
                            <td data-label="Host"><code>{d.host.clone()}</code></td>
                            <td data-label="Status">{if d.enabled { "Enabled" } else { "Disabled" }}</td>
                            <td data-label="Health"><span class=d.health.class()>{d.health.label()}</span></td>
                            <td data-label="Last result">{result}</td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
            {pager.view()}
        </div>
    }
}

/// "Showing 51–100 of 1,000" with Previous and Next links (plain links: no JavaScript needed).
struct Pager {
    first: i64,
    last: i64,
    total: i64,
    previous: Option<i64>,
    next: Option<i64>,
}

impl Pager {
    fn of(list: &DestinationList) -> Self {
        let first = (list.page - 1) * list.per_page + 1;
        let last = (first + list.items.len() as i64 - 1).max(first);
        Pager {
            first,
            last,
            total: list.total,
            previous: (list.page > 1).then_some(list.page - 1),
            next: (last < list.total).then_some(list.page + 1),
        }
    }

    fn view(self) -> impl IntoView {
        let link = |page: Option<i64>, text: &'static str| {
            page.map(|p| view! { <a class="button secondary small" href=format!("/alerts/destinations?page={p}")>{text}</a> })
        };
        (self.total > self.last - self.first + 1).then(|| view! {
            <nav class="pager" aria-label="Pages">
                <span class="muted">{format!("Showing {}–{} of {}", self.first, self.last, self.total)}</span>
                {link(self.previous, "Previous")}
                {link(self.next, "Next")}
            </nav>
        })
    }
}

pub fn last_result(d: &DestinationView) -> impl IntoView + use<> {
    match &d.last_result {
        None => Either::Left(view! { <span class="muted">"Not tested yet"</span> }),
        Some(r) => Either::Right(view! {
            <span class=if r.ok { "badge ok" } else { "badge failed" }>{r.summary.clone()}</span>
            " "
            <span class="muted">{utc_minute(r.at)}</span>
        }),
    }
}
