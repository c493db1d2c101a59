//! The browser entry point: hydrate the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Lets browser tests wait for interactivity instead of sleeping.
    let _ = js_sys::Reflect::set(
        &js_sys::global(),
        &"__alertwire_hydrated".into(),
        &true.into(),
    );
}
