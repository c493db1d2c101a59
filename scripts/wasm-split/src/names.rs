//! Names each file of the split bundle by its content, as `scripts/build.sh`
//! names the rest of the site (`<stem>.<16 hex digits>.<ext>`), so the server
//! lets browsers keep them for good, and rewrites the references between them.
//!
//! The loader and `alertwire.js` refer to each other, so neither name can be
//! the hash of its own final text. `alertwire.js` is named by its text and the
//! loader's (with the chunks' final names in it), the loader by its final
//! text: a change to any chunk, the loader or the JS renames both.

use super::{Error, LOADER, MAIN, MANIFEST};
use sha2::{Digest, Sha256};
use std::fs;
use std::path::Path;

/// Renames the files in `dir` and returns their `hash.txt` lines.
pub fn name(dir: &Path) -> Result<String, Error> {
    let mut loader = fs::read_to_string(dir.join(LOADER))?;
    let mut manifest = fs::read_to_string(dir.join(MANIFEST))?;
    for stem in chunks(dir)? {
        let hash = hash_of(&fs::read(dir.join(format!("{stem}.wasm")))?);
        let named = format!("{stem}.{hash}");
        replace(
            &mut loader,
            &format!("\"./{stem}.wasm\""),
            &format!("\"./{named}.wasm\""),
            LOADER,
        )?;
        replace(
            &mut manifest,
            &format!("\"{stem}\""),
            &format!("\"{named}\""),
            MANIFEST,
        )?;
        fs::rename(
            dir.join(format!("{stem}.wasm")),
            dir.join(format!("{named}.wasm")),
        )?;
    }

    let main_js = format!("{MAIN}.js");
    let mut js = fs::read_to_string(dir.join(&main_js))?;
    let js_hash = hash_of(format!("{js}{loader}").as_bytes());
    let js_name = format!("{MAIN}.{js_hash}.js");
    replace(
        &mut loader,
        &format!("\"./{main_js}\""),
        &format!("\"./{js_name}\""),
        LOADER,
    )?;

    let loader_hash = hash_of(loader.as_bytes());
    let loader_name = format!("__wasm_split.{loader_hash}.js");
    // Only the import: the imports object keeps the name the WASM imports from.
    let import = |name: &str| format!("from \"./{name}\"");
    replace(&mut js, &import(LOADER), &import(&loader_name), &main_js)?;

    let manifest_hash = hash_of(manifest.as_bytes());
    write_as(dir, LOADER, &loader_name, &loader)?;
    write_as(dir, &main_js, &js_name, &js)?;
    write_as(
        dir,
        MANIFEST,
        &format!("__wasm_split_manifest.{manifest_hash}.json"),
        &manifest,
    )?;
    Ok(format!(
        "js: {js_hash}\nsplit: {loader_hash}\nmanifest: {manifest_hash}\n"
    ))
}

/// The stems of the chunk files: `chunk_<n>` (code several split points
/// share), `split_<name>` (one split point's own) and, once `pack` has run,
/// `pack_<name>` (the chunks of one split point together).
fn chunks(dir: &Path) -> Result<Vec<String>, Error> {
    let mut stems = Vec::new();
    for entry in fs::read_dir(dir)? {
        let file = entry?.file_name().to_string_lossy().into_owned();
        if let Some(stem) = file.strip_suffix(".wasm") {
            if ["chunk_", "split_", "pack_"]
                .iter()
                .any(|p| stem.starts_with(p))
            {
                stems.push(stem.to_owned());
            }
        }
    }
    stems.sort();
    Ok(stems)
}

/// The first 16 hex digits of the SHA-256 of `bytes`, as `build.sh`'s `hash_of`.
fn hash_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Replaces every `from` in `text`; an error if there is none, since then the
/// file refers to a name this tool does not know, and the page would break.
fn replace(text: &mut String, from: &str, to: &str, file: &str) -> Result<(), Error> {
    if !text.contains(from) {
        return Err(format!("{file} does not mention {from}").into());
    }
    *text = text.replace(from, to);
    Ok(())
}

fn write_as(dir: &Path, old: &str, new: &str, text: &str) -> Result<(), Error> {
    fs::write(dir.join(new), text)?;
    fs::remove_file(dir.join(old))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tempdir;

    fn write(dir: &Path, file: &str, text: &str) {
        fs::write(dir.join(file), text).unwrap();
    }

    fn read(dir: &Path, file: &str) -> String {
        fs::read_to_string(dir.join(file)).unwrap()
    }

    fn split_bundle() -> tempdir::Dir {
        let dir = tempdir::Dir::new();
        let path = dir.path();
        write(
            path,
            "alertwire.js",
            r#"import * as s from "./__wasm_split.______________________.js"; imports = { "./__wasm_split.______________________.js": s };"#,
        );
        write(
            path,
            LOADER,
            r#"import { initSync } from "./alertwire.js"; fetch("./chunk_1.wasm"); fetch("./chunk_10.wasm"); fetch("./split_pages_7.wasm");"#,
        );
        write(
            path,
            MANIFEST,
            r#"{"pages_7": ["chunk_1", "chunk_10", "split_pages_7"]}"#,
        );
        write(path, "chunk_1.wasm", "one");
        write(path, "chunk_10.wasm", "ten");
        write(path, "split_pages_7.wasm", "pages");
        write(path, "alertwire_bg.wasm", "main");
        dir
    }

    #[test]
    fn every_file_is_named_by_content_and_found_by_its_new_name() {
        let dir = split_bundle();
        let path = dir.path();
        let lines = name(path).unwrap();
        let hash = |kind: &str| {
            let line = lines.lines().find(|l| l.starts_with(kind)).unwrap();
            line[kind.len() + 2..].to_owned()
        };
        let (js, split, manifest) = (hash("js"), hash("split"), hash("manifest"));
        let one = hash_of(b"one");
        let ten = hash_of(b"ten");

        let loader = read(path, &format!("__wasm_split.{split}.js"));
        assert_eq!(split, hash_of(loader.as_bytes()));
        assert!(
            loader.contains(&format!("from \"./alertwire.{js}.js\"")),
            "{loader}"
        );
        assert!(
            loader.contains(&format!("\"./chunk_1.{one}.wasm\"")),
            "{loader}"
        );
        assert!(
            loader.contains(&format!("\"./chunk_10.{ten}.wasm\"")),
            "{loader}"
        );
        let main = read(path, &format!("alertwire.{js}.js"));
        assert_eq!(
            main,
            format!(
                r#"import * as s from "./__wasm_split.{split}.js"; imports = {{ "./__wasm_split.______________________.js": s }};"#
            )
        );
        let map = read(path, &format!("__wasm_split_manifest.{manifest}.json"));
        assert!(
            map.contains(&format!(
                "[\"chunk_1.{one}\", \"chunk_10.{ten}\", \"split_pages_7."
            )),
            "{map}"
        );

        let mut left: Vec<String> = fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| {
                !f.contains(&one)
                    && !f.contains(&ten)
                    && !f.contains(&js)
                    && !f.contains(&split)
                    && !f.contains(&manifest)
            })
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "alertwire_bg.wasm".to_owned(),
                format!("split_pages_7.{}.wasm", hash_of(b"pages"))
            ]
        );
    }

    #[test]
    fn a_changed_chunk_renames_the_loader_and_the_main_script() {
        let before = split_bundle();
        let after = split_bundle();
        write(after.path(), "chunk_10.wasm", "ten, changed");
        let (before, after) = (name(before.path()).unwrap(), name(after.path()).unwrap());
        let line = |lines: &str, kind: &str| {
            lines
                .lines()
                .find(|l| l.starts_with(kind))
                .unwrap()
                .to_owned()
        };
        assert_ne!(line(&before, "js"), line(&after, "js"));
        assert_ne!(line(&before, "split"), line(&after, "split"));
        assert_ne!(line(&before, "manifest"), line(&after, "manifest"));
    }

    #[test]
    fn a_loader_that_does_not_name_a_chunk_is_an_error() {
        let dir = split_bundle();
        write(
            dir.path(),
            LOADER,
            r#"import { initSync } from "./alertwire.js";"#,
        );
        let err = name(dir.path()).unwrap_err().to_string();
        assert!(err.contains("does not mention \"./chunk_1.wasm\""), "{err}");
    }
}
