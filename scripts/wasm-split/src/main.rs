//! Splits the hydrate bundle at its `#[lazy]` functions (the page groups of
//! `app::routes`), so a first visit downloads the shared code and the chunk
//! of the page it shows, not every page (issue 11, "Page weight"). Run by
//! `scripts/build.sh` in two steps around `wasm-bindgen`:
//!
//! `alertwire-wasm-split split <cargo's frontend.wasm> <dir>` writes into `<dir>`
//! - `alertwire_split.wasm`, the main module, for `wasm-bindgen`;
//! - one `.wasm` per chunk, loaded by
//! - `__wasm_split.______________________.js`, which imports `initSync` from
//!   `./alertwire.js` (wasm-bindgen's output, to be written beside it);
//! - `__wasm_split_manifest.json`: for each split point, the chunks it needs,
//!   which the server names in preload links.
//!
//! `alertwire-wasm-split pack <dir>` then puts each group's chunks in one file
//! and rewrites the loader and the manifest to match (`pack`), after
//! `wasm-opt` has seen the chunks.
//!
//! `alertwire-wasm-split name <dir>` then names the packs, the loader, the
//! manifest and `alertwire.js` by their content (`names`), and prints their
//! `hash.txt` lines.

mod names;
mod pack;
mod strip;
#[cfg(test)]
mod tempdir;

use std::path::Path;
use std::process::ExitCode;

type Error = Box<dyn std::error::Error>;

/// The main module's name, as `scripts/build.sh` passes it to `wasm-bindgen`.
const MAIN: &str = "alertwire";
/// What the main module imports the chunk loaders from, and the name
/// `<HydrationScripts>` looks for when files are not hashed.
const LOADER: &str = "__wasm_split.______________________.js";
const MANIFEST: &str = "__wasm_split_manifest.json";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let done = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["split", input, dir] => split(Path::new(input), Path::new(dir)),
        ["pack", dir] => pack::pack(Path::new(dir)),
        ["name", dir] => names::name(Path::new(dir)).map(|lines| print!("{lines}")),
        _ => {
            eprintln!(
                "usage: alertwire-wasm-split split <input.wasm> <dir> | pack <dir> | name <dir>"
            );
            return ExitCode::from(2);
        }
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("alertwire-wasm-split: {err}");
            ExitCode::FAILURE
        }
    }
}

fn split(input: &Path, dir: &Path) -> Result<(), Error> {
    let wasm = std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let main_out = dir.join(format!("{MAIN}_split.wasm"));
    let main_module = format!("./{MAIN}.js");
    let link_name = format!("./{LOADER}");
    let mut opts = wasm_split_cli_support::Options::new(&wasm);
    opts.output_dir = dir;
    opts.main_out_path = &main_out;
    opts.main_module = &main_module;
    opts.link_name = &link_name;
    let split = wasm_split_cli_support::transform(opts).map_err(|e| format!("{e:?}"))?;
    for chunk in &split.split_modules {
        let bytes = std::fs::read(chunk)?;
        let stripped = strip::without_custom_sections(&bytes)
            .ok_or_else(|| format!("{}: not a WASM module", chunk.display()))?;
        std::fs::write(chunk, stripped)?;
    }
    let manifest = serde_json::to_string_pretty(&split.prefetch_map)?;
    std::fs::write(dir.join(MANIFEST), manifest)?;
    eprintln!("{} chunks", split.split_modules.len());
    Ok(())
}
