//! The browser entry point: hydrate the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Each page's code is a chunk of its own (`app::routes`): hydration waits
    // for the chunk of the page shown, so it runs as a task.
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::tachys::dom::body();
        leptos::mount::hydrate_from_async(body, app::App)
            .await
            .forget();
        // Lets browser tests wait for interactivity instead of sleeping.
        let _ = js_sys::Reflect::set(
            &js_sys::global(),
            &"__alertwire_hydrated".into(),
            &true.into(),
        );
    });
}
