//! Puts each page group's chunks in one file, a pack, so they are compressed
//! together: brotli finds the code the chunks share only within one file, and
//! 20 to 30 chunks compressed one by one cost about a quarter more on the wire
//! (BENCHMARKS.md, "Page weight"). It also makes a page of a group one request
//! for its code instead of 20 to 30.
//!
//! A pack, `pack_<group>.wasm`, is not a module itself: a little-endian `u32`,
//! the length of the index that follows, the index (JSON, `[[stem, length],
//! ...]`), then the group's chunks one after another. The loader fetches the
//! pack of the group it loads and hands each chunk's slice to
//! `WebAssembly.instantiateStreaming`. A chunk that several groups use is in
//! each of their packs; the loader instantiates it once, from the pack of the
//! first group that needed it.
//!
//! The loader `wasm_split_cli_support` writes asks for a group's chunks
//! synchronously inside the group's load (each chunk's fetch starts before the
//! first `await`), so the chunk fetches are rewritten to read from the pack of
//! the group being loaded; the table of packs in the loader is one address per
//! group, so every page carries no more than that.

use super::{Error, LOADER, MANIFEST};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// What the manifest says: each split point (page group) and the chunks it needs.
type Manifest = BTreeMap<String, Vec<String>>;

/// Packs the chunks in `dir` as the manifest groups them, rewrites the loader
/// to read them from the packs and the manifest to name the packs.
pub fn pack(dir: &Path) -> Result<(), Error> {
    let manifest: Manifest = serde_json::from_str(&fs::read_to_string(dir.join(MANIFEST))?)?;
    let mut loader = fs::read_to_string(dir.join(LOADER))?;
    let mut table = String::new();
    let mut packed = Manifest::new();
    for (group, stems) in &manifest {
        let name = format!("pack_{group}");
        fs::write(dir.join(format!("{name}.wasm")), pack_of(dir, stems)?)?;
        table.push_str(&format!("    {group:?}: \"./{name}.wasm\",\n"));
        let load = format!("export const __wasm_split_load_{group} = ");
        replace(
            &mut loader,
            &format!("{load}wrapAsyncCb("),
            &format!("{load}packed({group:?}, "),
        )?;
        packed.insert(group.clone(), vec![name]);
    }
    let stems: BTreeSet<&String> = manifest.values().flatten().collect();
    for stem in &stems {
        replace(
            &mut loader,
            &format!("fetch(new URL(\"./{stem}.wasm\", import.meta.url))"),
            &format!("fromPack({stem:?})"),
        )?;
    }
    // The comments name the groups that use each chunk: most of the loader's
    // bytes once there are many groups, and of no use to the browser.
    let code: Vec<&str> = loader
        .lines()
        .filter(|l| !(l.starts_with("/* ") && l.ends_with(" */")))
        .collect();
    let (import, rest) = code
        .split_first()
        .ok_or_else(|| format!("{LOADER} is empty"))?;
    let loader = format!("{import}\n{}{}\n", runtime(&table), rest.join("\n"));
    fs::write(dir.join(LOADER), loader)?;
    fs::write(dir.join(MANIFEST), serde_json::to_string_pretty(&packed)?)?;
    // Only now that the loader reads the packs: a failure above keeps them.
    for stem in stems {
        fs::remove_file(dir.join(format!("{stem}.wasm")))?;
    }
    Ok(())
}

/// The bytes of one group's pack: the index's length, the index, the chunks.
fn pack_of(dir: &Path, stems: &[String]) -> Result<Vec<u8>, Error> {
    let mut chunks = Vec::new();
    let mut index = Vec::new();
    for stem in stems {
        let chunk = fs::read(dir.join(format!("{stem}.wasm")))?;
        index.push((stem, chunk.len()));
        chunks.extend_from_slice(&chunk);
    }
    let index = serde_json::to_vec(&index)?;
    let length = u32::try_from(index.len())?;
    let mut bytes = length.to_le_bytes().to_vec();
    bytes.extend_from_slice(&index);
    bytes.extend_from_slice(&chunks);
    Ok(bytes)
}

/// The loader's part that reads chunks from packs; `table` lists the packs.
fn runtime(table: &str) -> String {
    format!(
        r#"// Each group's chunks come in one file (scripts/wasm-split/src/pack.rs).
const PACKS = {{
{table}}};
// A failed load costs the page its place (the app then loads it in full,
// app/src/code_missing.rs), so a pack that does not arrive is asked for twice
// more first.
async function fetchPack(url) {{
    for (let attempt = 1; ; attempt++) {{
        let failure;
        try {{
            const response = await fetch(url);
            if (response.ok) return await response.arrayBuffer();
            failure = new Error(`${{url}}: ${{response.status}}`);
        }} catch (error) {{
            failure = error;
        }}
        if (attempt === 3) throw failure;
        await new Promise((resolve) => setTimeout(resolve, 300 * attempt));
    }}
}}
const packsStarted = new Map();
function startPack(group) {{
    let pack = packsStarted.get(group);
    if (pack === undefined) {{
        pack = fetchPack(new URL(PACKS[group], import.meta.url)).then((buffer) => {{
            const length = new DataView(buffer).getUint32(0, true);
            const index = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, length)));
            const parts = new Map();
            let start = 4 + length;
            for (const [stem, size] of index) {{
                parts.set(stem, new Uint8Array(buffer, start, size));
                start += size;
            }}
            return parts;
        }});
        // A failed fetch is forgotten, so that the next load tries again.
        pack.catch(() => {{
            if (packsStarted.get(group) === pack) packsStarted.delete(group);
        }});
        packsStarted.set(group, pack);
    }}
    return pack;
}}
// The group whose load is asking for its chunks (they ask before any await).
let loadingGroup;
function fromPack(stem) {{
    const group = loadingGroup;
    if (group === undefined) return Promise.reject(new Error(`${{stem}}: asked for outside a group's load`));
    return startPack(group).then((parts) => {{
        const bytes = parts.get(stem);
        if (bytes === undefined) throw new Error(`${{stem}} is not in ${{PACKS[group]}}`);
        return new Response(bytes, {{ headers: {{ "Content-Type": "application/wasm" }} }});
    }});
}}
function packed(group, load) {{
    return wrapAsyncCb(() => {{
        loadingGroup = group;
        try {{
            return load();
        }} finally {{
            loadingGroup = undefined;
        }}
    }});
}}
"#
    )
}

/// Replaces the one `from` in the loader; an error if it is missing, since
/// then the loader is not the one this tool was written for.
fn replace(text: &mut String, from: &str, to: &str) -> Result<(), Error> {
    if !text.contains(from) {
        return Err(format!("{LOADER} does not contain {from}").into());
    }
    *text = text.replace(from, to);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tempdir;

    /// The shape of the loader `wasm_split_cli_support` 0.2.4 writes.
    fn chunk_loader(name: &str) -> String {
        format!(
            "makeLoad(() => {{\n    const src = fetch(new URL(\"./{name}.wasm\", import.meta.url));\n    src.catch(() => {{}});\n    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));\n}}\n"
        )
    }

    fn split_bundle() -> tempdir::Dir {
        let dir = tempdir::Dir::new();
        let path = dir.path();
        let loader = format!(
            "import {{ initSync }} from \"./alertwire.js\";\nfunction wrapAsyncCb(c) {{ return c; }}\n/* rules, settings */\nconst __chunk_1 = {}, []);\n/* settings */\nconst __chunk_2 = {}, []);\nexport const __wasm_split_load_rules = wrapAsyncCb({}, [__chunk_1]));\nexport const __wasm_split_load_settings = wrapAsyncCb({}, [__chunk_1, __chunk_2]));\n",
            chunk_loader("chunk_1"),
            chunk_loader("chunk_2"),
            chunk_loader("split_rules"),
            chunk_loader("split_settings"),
        );
        fs::write(path.join(LOADER), loader).unwrap();
        fs::write(
            path.join(MANIFEST),
            r#"{"rules": ["chunk_1", "split_rules"], "settings": ["chunk_1", "chunk_2", "split_settings"]}"#,
        )
        .unwrap();
        for (stem, bytes) in [
            ("chunk_1", "one"),
            ("chunk_2", "two"),
            ("split_rules", "rules"),
            ("split_settings", "settings"),
        ] {
            fs::write(path.join(format!("{stem}.wasm")), bytes).unwrap();
        }
        dir
    }

    fn files(path: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// A pack's index and chunks, read as the loader reads them.
    fn unpack(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let length = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
        let index: Vec<(String, usize)> = serde_json::from_slice(&bytes[4..4 + length]).unwrap();
        let mut start = 4 + length;
        let mut parts = Vec::new();
        for (stem, size) in index {
            parts.push((stem, bytes[start..start + size].to_vec()));
            start += size;
        }
        assert_eq!(start, bytes.len(), "nothing after the last chunk");
        parts
    }

    #[test]
    fn each_group_gets_one_file_with_its_chunks_and_the_loader_reads_them_from_it() {
        let dir = split_bundle();
        let path = dir.path();
        pack(path).unwrap();

        assert_eq!(
            files(path),
            [LOADER, MANIFEST, "pack_rules.wasm", "pack_settings.wasm"]
        );
        let part = |stem: &str, bytes: &str| (stem.to_owned(), bytes.as_bytes().to_vec());
        assert_eq!(
            unpack(&fs::read(path.join("pack_rules.wasm")).unwrap()),
            [part("chunk_1", "one"), part("split_rules", "rules")]
        );
        assert_eq!(
            unpack(&fs::read(path.join("pack_settings.wasm")).unwrap()),
            [
                part("chunk_1", "one"),
                part("chunk_2", "two"),
                part("split_settings", "settings")
            ]
        );
        let manifest: Manifest =
            serde_json::from_str(&fs::read_to_string(path.join(MANIFEST)).unwrap()).unwrap();
        assert_eq!(manifest["rules"], ["pack_rules"]);
        assert_eq!(manifest["settings"], ["pack_settings"]);

        let loader = fs::read_to_string(path.join(LOADER)).unwrap();
        assert!(loader.starts_with("import { initSync } from \"./alertwire.js\";\n// Each group"));
        assert!(!loader.contains("fetch(new URL(\"./chunk_"), "{loader}");
        assert!(!loader.contains("fetch(new URL(\"./split_"), "{loader}");
        assert!(!loader.contains("/* "), "the comments go: {loader}");
        for stem in ["chunk_1", "chunk_2", "split_rules", "split_settings"] {
            assert!(
                loader.contains(&format!("fromPack(\"{stem}\")")),
                "{loader}"
            );
        }
        assert!(loader.contains("__wasm_split_load_rules = packed(\"rules\", makeLoad("));
        assert!(loader.contains(
            "const PACKS = {\n    \"rules\": \"./pack_rules.wasm\",\n    \"settings\": \"./pack_settings.wasm\",\n};"
        ));
    }

    #[test]
    fn a_loader_of_another_shape_is_an_error_and_no_chunk_is_lost() {
        let dir = split_bundle();
        let path = dir.path();
        fs::write(
            path.join(LOADER),
            "import { initSync } from \"./alertwire.js\";\nexport const __wasm_split_load_rules = wrapAsyncCb(load(\"./chunk_1.wasm\"));\n",
        )
        .unwrap();
        let err = pack(path).unwrap_err().to_string();
        assert!(err.contains("does not contain"), "{err}");
        assert!(path.join("chunk_1.wasm").exists());
    }
}
