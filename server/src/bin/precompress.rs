//! Writes `<file>.br` and `<file>.gz` beside each asset of the built site, at
//! the strongest settings, so the server sends them as they are
//! (`Content-Encoding`) instead of compressing on every request.
//!
//! Run by `scripts/build.sh`: `precompress <folder>`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

type Error = Box<dyn std::error::Error>;

/// Below this a compressed copy saves less than its headers cost.
const SMALLEST: u64 = 1024;
const COMPRESSIBLE: &[&str] = &["js", "wasm", "css", "svg", "json", "html", "txt"];

fn main() -> Result<(), Error> {
    let folder = std::env::args()
        .nth(1)
        .ok_or("usage: precompress <folder of built assets>")?;
    for path in assets(Path::new(&folder))? {
        let bytes = fs::read(&path)?;
        let br = brotli_of(&bytes)?;
        let gz = gzip_of(&bytes)?;
        fs::write(with_suffix(&path, "br"), &br)?;
        fs::write(with_suffix(&path, "gz"), &gz)?;
        println!(
            "{}: {} bytes, brotli {}, gzip {}",
            path.display(),
            bytes.len(),
            br.len(),
            gz.len()
        );
    }
    Ok(())
}

fn assets(folder: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut found = Vec::new();
    for entry in fs::read_dir(folder)? {
        let path = entry?.path();
        let wanted = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| COMPRESSIBLE.contains(&e));
        if wanted && path.is_file() && fs::metadata(&path)?.len() >= SMALLEST {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn brotli_of(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 24,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out)
}

fn gzip_of(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}
