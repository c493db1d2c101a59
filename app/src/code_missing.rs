//! What the browser does when a page's code (its pack, `routes.rs`) cannot be
//! fetched, after the loader has asked three times: an open tab asks for the
//! packs of the version it was loaded with, which an upgrade removed, or the
//! network dropped every request. The split function would panic and stop
//! the app (no click would work any more); instead the page is loaded in full
//! from the server, as its link does without JavaScript, which also brings
//! the new version's code. If the code of that full load cannot be fetched
//! either, the page stays as the server sent it: it works without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::use_url;

/// The session's note of the address last loaded in full for this reason,
/// so a page whose code never arrives is loaded in full once, not forever.
const LOADED_IN_FULL: &str = "alertwire-loaded-in-full";

/// The address the router is showing or going to (the address bar changes
/// only once the page's code is there). Read before the load's first await.
pub fn target() -> String {
    let url = use_url().get_untracked();
    let mut target = url.path().to_owned();
    if !url.search().is_empty() {
        target.push('?');
        target.push_str(url.search());
    }
    let hash = url.hash();
    if !hash.is_empty() && !hash.starts_with('#') {
        target.push('#');
    }
    target.push_str(hash);
    target
}

/// The page's code arrived: a later failure may load a page in full again.
pub fn arrived() {
    // Removing a key that is not there does nothing.
    if let Some(storage) = session() {
        let _ = storage.remove_item(LOADED_IN_FULL);
    }
}

/// Loads `target` in full (once) and never resolves: the document is being
/// replaced, or it stays as the server sent it.
pub async fn load_in_full<T>(target: String) -> T {
    let storage = session();
    let tried = storage
        .as_ref()
        .and_then(|s| s.get_item(LOADED_IN_FULL).ok().flatten());
    if tried.as_deref() == Some(target.as_str()) {
        leptos::logging::error!(
            "the code of {target} could not be fetched; the page stays as the server sent it"
        );
    } else {
        if let Some(storage) = &storage {
            let _ = storage.set_item(LOADED_IN_FULL, &target);
        }
        leptos::logging::warn!("the code of {target} could not be fetched; loading it in full");
        let _ = window().location().assign(&target);
    }
    std::future::pending().await
}

fn session() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}
