//! Addresses of the built site's files, as `scripts/build.sh` named them.

use leptos::prelude::LeptosOptions;

/// The stylesheet: `/pkg/alertwire.<hash>.css` when the build named files by
/// their content (the hashes are in `options.hash_file`), else `/pkg/alertwire.css`.
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    let (pkg, name) = (&options.site_pkg_dir, &options.output_name);
    #[cfg(feature = "ssr")]
    if options.hash_files {
        let hashes = std::fs::read_to_string(&*options.hash_file).unwrap_or_default();
        if let Some(hash) = hash_of(&hashes, "css") {
            return format!("/{pkg}/{name}.{hash}.css");
        }
    }
    format!("/{pkg}/{name}.css")
}

/// The hash on a `kind: hash` line of the hash file.
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
fn hash_of<'a>(hashes: &'a str, kind: &str) -> Option<&'a str> {
    hashes.lines().find_map(|line| {
        let (k, hash) = line.split_once(':')?;
        (k.trim() == kind).then(|| hash.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::hash_of;

    #[test]
    fn reads_the_hash_of_each_kind() {
        let file = "js: 0123456789abcdef\nwasm: fedcba9876543210\ncss: 00112233aabbccdd\n";
        assert_eq!(hash_of(file, "css"), Some("00112233aabbccdd"));
        assert_eq!(hash_of(file, "wasm"), Some("fedcba9876543210"));
        assert_eq!(hash_of(file, "png"), None);
    }
}
