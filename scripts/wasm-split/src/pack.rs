//! Puts each page group's chunks in one file, a pack, so they are compressed
//! together: brotli finds the code the chunks share only within one file, and
//! 20 to 30 chunks compressed one by one cost about a quarter more on the wire
//! (BENCHMARKS.md, "Page weight"). It also makes a page of a group one request
//! for its code instead of 20 to 30.
//!
//! A pack, `pack_<group>.wasm`, is the group's chunks one after another (it is
//! not a module itself). The loader fetches the pack of the group it loads and
//! hands each chunk's slice to `WebAssembly.instantiateStreaming`. A chunk that
//! several groups use is in each of their packs; the loader instantiates it
//! once, from whichever pack it fetched first.

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
        let mut bytes = Vec::new();
        let mut parts = Vec::new();
        for stem in stems {
            let chunk = fs::read(dir.join(format!("{stem}.wasm")))?;
            parts.push(format!("{stem:?}: [{}, {}]", bytes.len(), chunk.len()));
            bytes.extend_from_slice(&chunk);
        }
        let name = format!("pack_{group}");
        fs::write(dir.join(format!("{name}.wasm")), bytes)?;
        table.push_str(&format!(
            "    {group:?}: {{ url: \"./{name}.wasm\", parts: {{ {} }} }},\n",
            parts.join(", ")
        ));
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
    let (import, rest) = loader
        .split_once('\n')
        .ok_or_else(|| format!("{LOADER} is one line"))?;
    let loader = format!("{import}\n{}{rest}", runtime(&table));
    fs::write(dir.join(LOADER), loader)?;
    fs::write(dir.join(MANIFEST), serde_json::to_string_pretty(&packed)?)?;
    // Only now that the loader reads the packs: a failure above keeps them.
    for stem in stems {
        fs::remove_file(dir.join(format!("{stem}.wasm")))?;
    }
    Ok(())
}

/// The loader's part that reads chunks from packs; `table` lists the packs.
fn runtime(table: &str) -> String {
    format!(
        r#"// Each group's chunks come in one file (scripts/wasm-split/src/pack.rs).
const PACKS = {{
{table}}};
const packsStarted = new Map();
function startPack(group) {{
    let bytes = packsStarted.get(group);
    if (bytes === undefined) {{
        bytes = fetch(new URL(PACKS[group].url, import.meta.url)).then((response) => {{
            if (!response.ok) throw new Error(`${{response.url}}: ${{response.status}}`);
            return response.arrayBuffer();
        }});
        // A failed fetch is forgotten, so that the next load tries again.
        bytes.catch(() => {{
            if (packsStarted.get(group) === bytes) packsStarted.delete(group);
        }});
        packsStarted.set(group, bytes);
    }}
    return bytes;
}}
function fromPack(stem) {{
    const has = (group) => stem in PACKS[group].parts;
    const group = [...packsStarted.keys()].find(has) ?? Object.keys(PACKS).find(has);
    const [start, length] = PACKS[group].parts[stem];
    return startPack(group).then((buffer) => new Response(new Uint8Array(buffer, start, length), {{
        headers: {{ "Content-Type": "application/wasm" }},
    }}));
}}
// A group's load starts its pack before its chunks ask for their slices.
function packed(group, load) {{
    return wrapAsyncCb(() => {{
        startPack(group);
        return load();
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
            "import {{ initSync }} from \"./alertwire.js\";\nfunction wrapAsyncCb(c) {{ return c; }}\nconst __chunk_1 = {}, []);\nconst __chunk_2 = {}, []);\nexport const __wasm_split_load_rules = wrapAsyncCb({}, [__chunk_1]));\nexport const __wasm_split_load_settings = wrapAsyncCb({}, [__chunk_1, __chunk_2]));\n",
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

    #[test]
    fn each_group_gets_one_file_with_its_chunks_and_the_loader_reads_them_from_it() {
        let dir = split_bundle();
        let path = dir.path();
        pack(path).unwrap();

        assert_eq!(
            files(path),
            [LOADER, MANIFEST, "pack_rules.wasm", "pack_settings.wasm"]
        );
        assert_eq!(fs::read(path.join("pack_rules.wasm")).unwrap(), b"onerules");
        assert_eq!(
            fs::read(path.join("pack_settings.wasm")).unwrap(),
            b"onetwosettings"
        );
        let manifest: Manifest =
            serde_json::from_str(&fs::read_to_string(path.join(MANIFEST)).unwrap()).unwrap();
        assert_eq!(manifest["rules"], ["pack_rules"]);
        assert_eq!(manifest["settings"], ["pack_settings"]);

        let loader = fs::read_to_string(path.join(LOADER)).unwrap();
        assert!(loader.starts_with("import { initSync } from \"./alertwire.js\";\n// Each group"));
        assert!(!loader.contains("fetch(new URL(\"./chunk_"), "{loader}");
        assert!(!loader.contains("fetch(new URL(\"./split_"), "{loader}");
        for stem in ["chunk_1", "chunk_2", "split_rules", "split_settings"] {
            assert!(
                loader.contains(&format!("fromPack(\"{stem}\")")),
                "{loader}"
            );
        }
        assert!(loader.contains("__wasm_split_load_rules = packed(\"rules\", makeLoad("));
        assert!(loader.contains(
            "\"rules\": { url: \"./pack_rules.wasm\", parts: { \"chunk_1\": [0, 3], \"split_rules\": [3, 5] } },"
        ));
        assert!(loader.contains(
            "\"settings\": { url: \"./pack_settings.wasm\", parts: { \"chunk_1\": [0, 3], \"chunk_2\": [3, 3], \"split_settings\": [6, 8] } },"
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
