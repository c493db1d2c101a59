//! Live status: with JavaScript, a page that shows deliveries opens the
//! server's event stream (`/live/deliveries`) and reloads its data when a
//! delivery it shows changes, without reloading the page. Without JavaScript
//! the page stays as the server rendered it, with a Refresh link.
//!
//! A page calls `use_live` once, outside its `Transition`, and adds
//! `live.version()` to the source of each resource that should follow:
//!
//! ```ignore
//! let live = use_live(move || id().map(LiveScope::Delivery));
//! let data = page_data(move || (id(), live.version()), |(id, _)| load(id));
//! view! { <LiveIndicator live/> <Transition ...>...</Transition> }
//! ```
//!
//! Nested components find the same `Live` with `use_context::<Live>()`.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The stream's address (the server's `http::live::PATH`).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub const LIVE_PATH: &str = "/live/deliveries";

/// What a page shows, and so which changes it follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveScope {
    All,
    Destination(i64),
    Delivery(i64),
}

impl LiveScope {
    /// A list's scope: one destination's deliveries when its filter names
    /// one (`destination_id` from the query), else all.
    pub fn of_destination(filter: Option<String>) -> Self {
        match filter.and_then(|v| v.trim().parse::<i64>().ok()) {
            Some(id) if id > 0 => LiveScope::Destination(id),
            _ => LiveScope::All,
        }
    }

    /// The stream's address for this scope; `last_event_id` resumes a stream
    /// the page had to open anew.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn url(self, last_event_id: Option<&str>) -> String {
        let mut params = Vec::new();
        match self {
            LiveScope::All => {}
            LiveScope::Destination(id) => params.push(format!("destination_id={id}")),
            LiveScope::Delivery(id) => params.push(format!("delivery_id={id}")),
        }
        if let Some(id) = last_event_id.filter(|id| id.bytes().all(|b| b.is_ascii_digit())) {
            params.push(format!("last_event_id={id}"));
        }
        if params.is_empty() {
            LIVE_PATH.to_owned()
        } else {
            format!("{LIVE_PATH}?{}", params.join("&"))
        }
    }
}

/// Where the page's stream stands (the server renders only `Static`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum LiveState {
    /// Rendered by the server, or no stream (no JavaScript yet, or nothing to follow).
    Static,
    Connecting,
    Live,
    /// The stream dropped; the browser is opening it again.
    Reconnecting,
    /// The tab is hidden: the stream is closed until it shows again.
    Paused,
}

/// What a reload redraws, and so whether it waits while the user types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reloads {
    /// The reloaded part holds forms (filters): a reload waits while a form
    /// field has the focus (ten seconds at most), so typing is not lost.
    AroundForms,
    /// The forms stay as they are: reload at once.
    BesideForms,
}

/// A page's live updates.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    version: RwSignal<u64>,
    state: RwSignal<LiveState>,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    reloads: Reloads,
}

impl Live {
    /// Goes up each time something the page shows changed: read it in a
    /// resource's source so that the resource loads again.
    pub fn version(&self) -> u64 {
        self.version.get()
    }

    pub fn state(&self) -> LiveState {
        self.state.get()
    }
}

/// Follows `scope` (reactive; `None` follows nothing) while the calling
/// component lives, and provides the `Live` to its descendants. Reloads wait
/// while the user types (`Reloads::AroundForms`).
pub fn use_live(scope: impl Fn() -> Option<LiveScope> + 'static) -> Live {
    use_live_with(scope, Reloads::AroundForms)
}

/// `use_live`, saying what its reloads redraw.
pub fn use_live_with(scope: impl Fn() -> Option<LiveScope> + 'static, reloads: Reloads) -> Live {
    let live = Live {
        version: RwSignal::new(0),
        state: RwSignal::new(LiveState::Static),
        reloads,
    };
    provide_context(live);
    #[cfg(feature = "hydrate")]
    browser::follow(live, scope);
    #[cfg(not(feature = "hydrate"))]
    let _ = scope;
    live
}

/// For a resource's source in a component below `use_live`: the version of
/// the `Live` it provided (always 0 without one).
pub fn live_version() -> impl Fn() -> u64 + Copy + Send + Sync + 'static {
    let live = use_context::<Live>();
    move || live.map_or(0, |live| live.version())
}

/// The stream's state; without JavaScript, a link that reloads the page.
#[component]
pub fn LiveIndicator(live: Live) -> impl IntoView {
    let location = use_location();
    let here = move || {
        let search = location.search.get();
        let search = search.trim_start_matches('?');
        if search.is_empty() {
            location.pathname.get()
        } else {
            format!("{}?{search}", location.pathname.get())
        }
    };
    view! {
        <p class="live-status" data-live=move || format!("{:?}", live.state()).to_lowercase()>
            {move || match live.state() {
                LiveState::Static => view! {
                    <a href=here class="button secondary small">"Refresh"</a>
                }.into_any(),
                LiveState::Connecting => view! { <span class="muted">"Connecting…"</span> }.into_any(),
                LiveState::Live => view! {
                    <span class="live-dot" aria-hidden="true"></span>
                    <span title="This page updates as deliveries change">"Live"</span>
                }.into_any(),
                LiveState::Reconnecting => view! {
                    <span class="muted">"Reconnecting…"</span>
                    " "
                    <a href=here class="button secondary small">"Refresh"</a>
                }.into_any(),
                LiveState::Paused => view! { <span class="muted">"Paused"</span> }.into_any(),
            }}
        </p>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    //! The `EventSource`, its handlers and timers, owned by the page.

    use super::{Live, LiveScope, LiveState, Reloads};
    use leptos::prelude::*;
    use send_wrapper::SendWrapper;
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{Event, EventSource, MessageEvent, PerformanceNavigationTiming, VisibilityState};

    /// A change is shown this long after it arrives (more changes in the
    /// meantime are shown by the same reload)...
    const SETTLE: Duration = Duration::from_millis(100);
    /// ...and reloads are at least this far apart (with the server's 400 ms
    /// poll, a change is shown within about a second even while changes
    /// keep coming).
    const MIN_GAP_MS: f64 = 500.0;
    /// While the user types in a form field a reload waits (it would redraw
    /// the form), checking again this often, for at most `MAX_HOLD_MS`.
    const HOLD: Duration = Duration::from_millis(1_000);
    const MAX_HOLD_MS: f64 = 10_000.0;
    /// A stream the server refused (or that failed for good) is opened again
    /// after this, doubling up to `MAX_BACKOFF_MS`.
    const BACKOFF_MS: f64 = 2_000.0;
    const MAX_BACKOFF_MS: f64 = 60_000.0;
    /// How long before its first byte a page's data may have been read.
    const RENDER_MARGIN_MS: f64 = 250.0;

    type Handler = Closure<dyn FnMut(Event)>;

    struct Stream {
        source: EventSource,
        _handlers: Vec<Handler>,
    }

    impl Drop for Stream {
        fn drop(&mut self) {
            self.source.close();
        }
    }

    struct Conn {
        live: Live,
        /// When (this page's clock, ms) the data it shows was read, at the
        /// earliest: a change after that may be missing from it.
        data_since: f64,
        scope: Option<LiveScope>,
        stream: Option<Stream>,
        last_event_id: Option<String>,
        failures: u32,
        reopen: Option<TimeoutHandle>,
        reload: Option<TimeoutHandle>,
        last_reload: f64,
        held_since: Option<f64>,
        on_visibility: Option<Handler>,
    }

    type Shared = Rc<RefCell<Conn>>;

    fn now() -> f64 {
        window().performance().map(|p| p.now()).unwrap_or(0.0)
    }

    /// While hydrating, the data came with the page: from a little before
    /// its first byte arrived (the server renders after reading). Otherwise
    /// the page loads it now.
    fn data_since() -> f64 {
        let hydrating = Owner::current_shared_context().is_some_and(|c| c.during_hydration());
        if !hydrating {
            return now();
        }
        let first_byte = window()
            .performance()
            .and_then(|p| {
                p.get_entries_by_type("navigation")
                    .get(0)
                    .dyn_into::<PerformanceNavigationTiming>()
                    .ok()
            })
            .map_or(0.0, |nav| nav.response_start());
        first_byte - RENDER_MARGIN_MS
    }

    pub(super) fn follow(live: Live, scope: impl Fn() -> Option<LiveScope> + 'static) {
        let conn: Shared = Rc::new(RefCell::new(Conn {
            live,
            data_since: data_since(),
            scope: None,
            stream: None,
            last_event_id: None,
            failures: 0,
            reopen: None,
            reload: None,
            last_reload: f64::MIN,
            held_since: None,
            on_visibility: None,
        }));
        watch_visibility(&conn);
        let effect_conn = conn.clone();
        Effect::new(move || {
            let scope = scope();
            let changed = effect_conn.borrow().scope != scope;
            if changed {
                {
                    let mut c = effect_conn.borrow_mut();
                    // A new scope (other filters) comes with newly read data, but for the first.
                    if c.scope.is_some() {
                        c.data_since = now();
                    }
                    c.scope = scope;
                    c.last_event_id = None;
                    c.failures = 0;
                }
                close(&effect_conn);
                open(&effect_conn);
            }
        });
        let cleanup = SendWrapper::new(conn);
        on_cleanup(move || {
            let conn = cleanup.take();
            close(&conn);
            let mut c = conn.borrow_mut();
            if let Some(handle) = c.reload.take() {
                handle.clear();
            }
            if let Some(handler) = c.on_visibility.take() {
                let _ = document().remove_event_listener_with_callback(
                    "visibilitychange",
                    handler.as_ref().unchecked_ref(),
                );
            }
        });
    }

    fn hidden() -> bool {
        document().visibility_state() == VisibilityState::Hidden
    }

    fn open(conn: &Shared) {
        let (scope, last) = {
            let c = conn.borrow();
            (c.scope, c.last_event_id.clone())
        };
        let live = conn.borrow().live;
        let Some(scope) = scope else {
            live.state.set(LiveState::Static);
            return;
        };
        if hidden() {
            live.state.set(LiveState::Paused);
            return;
        }
        let Ok(source) = EventSource::new(&scope.url(last.as_deref())) else {
            live.state.set(LiveState::Static);
            return;
        };
        live.state.set(LiveState::Connecting);
        let mut handlers = Vec::new();
        let on = |name: &str, handler: Handler, handlers: &mut Vec<Handler>| {
            let _ = source.add_event_listener_with_callback(name, handler.as_ref().unchecked_ref());
            handlers.push(handler);
        };
        {
            let conn = conn.clone();
            on(
                "open",
                Closure::new(move |_: Event| {
                    conn.borrow_mut().failures = 0;
                    live.state.set(LiveState::Live);
                }),
                &mut handlers,
            );
        }
        {
            let conn = conn.clone();
            on(
                "ready",
                Closure::new(move |event: Event| {
                    remember(&conn, &event);
                    if changed_since_data(&conn, &event) {
                        schedule_reload(&conn);
                    }
                }),
                &mut handlers,
            );
        }
        {
            let conn = conn.clone();
            on(
                "deliveries",
                Closure::new(move |event: Event| {
                    remember(&conn, &event);
                    schedule_reload(&conn);
                }),
                &mut handlers,
            );
        }
        {
            let conn = conn.clone();
            on(
                "error",
                Closure::new(move |_: Event| failed(&conn)),
                &mut handlers,
            );
        }
        conn.borrow_mut().stream = Some(Stream {
            source,
            _handlers: handlers,
        });
    }

    fn close(conn: &Shared) {
        let mut c = conn.borrow_mut();
        if let Some(handle) = c.reopen.take() {
            handle.clear();
        }
        c.stream = None;
    }

    fn remember(conn: &Shared, event: &Event) {
        if let Some(message) = event.dyn_ref::<MessageEvent>() {
            let id = message.last_event_id();
            if !id.is_empty() {
                conn.borrow_mut().last_event_id = Some(id);
            }
        }
    }

    /// A new stream's `ready` names the latest change in scope of the last
    /// few seconds (server time): newer than the page's data, it may be
    /// missing from it. The stream's id is the server's time now, so the
    /// data's time on the server's clock is that minus the data's age.
    fn changed_since_data(conn: &Shared, event: &Event) -> bool {
        #[derive(serde::Deserialize)]
        struct Ready {
            latest: Option<f64>,
        }
        let Some(message) = event.dyn_ref::<MessageEvent>() else {
            return false;
        };
        let Some(latest) = message
            .data()
            .as_string()
            // Bytes, like every other JSON the page reads (`page_data.rs`).
            .and_then(|data| serde_json::from_slice::<Ready>(data.as_bytes()).ok())
            .and_then(|ready| ready.latest)
        else {
            return false;
        };
        let Ok(server_now) = message.last_event_id().parse::<f64>() else {
            return true;
        };
        let age = now() - conn.borrow().data_since;
        latest > server_now - age
    }

    /// The browser reconnects by itself after a dropped connection; after a
    /// refusal (any answer but 200) the stream is closed for good, and is
    /// opened again here, later and later.
    fn failed(conn: &Shared) {
        let (live, closed) = {
            let c = conn.borrow();
            let closed = c
                .stream
                .as_ref()
                .is_none_or(|s| s.source.ready_state() == EventSource::CLOSED);
            (c.live, closed)
        };
        live.state.set(LiveState::Reconnecting);
        if !closed {
            return;
        }
        close(conn);
        let failures = {
            let mut c = conn.borrow_mut();
            c.failures += 1;
            c.failures
        };
        let delay = (BACKOFF_MS * f64::from(2u32.saturating_pow(failures - 1))).min(MAX_BACKOFF_MS);
        let again = conn.clone();
        let handle = set_timeout_with_handle(
            move || {
                again.borrow_mut().reopen = None;
                open(&again);
            },
            Duration::from_millis(delay as u64),
        );
        conn.borrow_mut().reopen = handle.ok();
    }

    /// Reloads the page's data soon, at most twice a second, and not while
    /// the user types in a form field (for up to ten seconds).
    fn schedule_reload(conn: &Shared) {
        let wait = {
            let c = conn.borrow();
            if c.reload.is_some() {
                return;
            }
            let since = now() - c.last_reload;
            let gap = (MIN_GAP_MS - since).max(0.0);
            Duration::from_millis(gap as u64).max(SETTLE)
        };
        let again = conn.clone();
        let handle = set_timeout_with_handle(move || reload(&again), wait);
        conn.borrow_mut().reload = handle.ok();
    }

    fn reload(conn: &Shared) {
        let typing = conn.borrow().live.reloads == Reloads::AroundForms && typing();
        let mut c = conn.borrow_mut();
        c.reload = None;
        if typing {
            let since = *c.held_since.get_or_insert_with(now);
            if now() - since < MAX_HOLD_MS {
                let again = conn.clone();
                c.reload = set_timeout_with_handle(move || reload(&again), HOLD).ok();
                return;
            }
        }
        c.held_since = None;
        c.last_reload = now();
        c.data_since = c.last_reload;
        let live = c.live;
        drop(c);
        live.version.update(|v| *v += 1);
    }

    /// Whether a text field, text area or list has the focus.
    fn typing() -> bool {
        let Some(element) = document().active_element() else {
            return false;
        };
        let tag = element.tag_name().to_ascii_lowercase();
        match tag.as_str() {
            "textarea" | "select" => true,
            "input" => !matches!(
                element
                    .get_attribute("type")
                    .unwrap_or_default()
                    .to_ascii_lowercase()
                    .as_str(),
                "button" | "submit" | "reset" | "checkbox" | "radio" | "hidden"
            ),
            _ => false,
        }
    }

    /// A hidden tab closes its stream (browsers allow few connections per
    /// site); shown again, it resumes from its last event.
    fn watch_visibility(conn: &Shared) {
        let watched = conn.clone();
        let handler: Handler = Closure::new(move |_: Event| {
            if hidden() {
                close(&watched);
                let live = watched.borrow().live;
                live.state.set(LiveState::Paused);
            } else if watched.borrow().stream.is_none() {
                open(&watched);
            }
        });
        let _ = document()
            .add_event_listener_with_callback("visibilitychange", handler.as_ref().unchecked_ref());
        conn.borrow_mut().on_visibility = Some(handler);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scope_has_its_address() {
        assert_eq!(LiveScope::All.url(None), "/live/deliveries");
        assert_eq!(
            LiveScope::Destination(3).url(None),
            "/live/deliveries?destination_id=3"
        );
        assert_eq!(
            LiveScope::Delivery(8).url(Some("1700000000000")),
            "/live/deliveries?delivery_id=8&last_event_id=1700000000000"
        );
        assert_eq!(
            LiveScope::All.url(Some("17")),
            "/live/deliveries?last_event_id=17"
        );
        // Only ids the server sent (digits) are passed on.
        assert_eq!(LiveScope::All.url(Some("1&x=2")), "/live/deliveries");
        assert_eq!(
            LiveScope::of_destination(Some("4".into())),
            LiveScope::Destination(4)
        );
        assert_eq!(LiveScope::of_destination(Some("".into())), LiveScope::All);
        assert_eq!(LiveScope::of_destination(Some("x".into())), LiveScope::All);
        assert_eq!(LiveScope::of_destination(None), LiveScope::All);
    }
}
