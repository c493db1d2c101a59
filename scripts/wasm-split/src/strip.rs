//! Custom sections out of a chunk. The chunks never pass through
//! `wasm-bindgen`, which strips the main module's: their function names were
//! more than half of their bytes.

/// `module` without its custom sections; `None` if it is not well formed.
pub fn without_custom_sections(module: &[u8]) -> Option<Vec<u8>> {
    const HEADER: usize = 8; // magic and version
    let mut out = module.get(..HEADER)?.to_vec();
    let mut at = HEADER;
    while at < module.len() {
        let id = *module.get(at)?;
        let (size, body) = leb128(module, at + 1)?;
        let end = body.checked_add(size)?;
        let section = module.get(at..end)?;
        if id != 0 {
            out.extend_from_slice(section);
        }
        at = end;
    }
    Some(out)
}

/// An unsigned LEB128 number at `at`, and where what follows it starts.
fn leb128(bytes: &[u8], mut at: usize) -> Option<(usize, usize)> {
    let mut value = 0usize;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(at)?;
        at += 1;
        value |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some((value, at));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_custom_sections_and_keeps_the_rest() {
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        module.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]); // type section
        module.extend_from_slice(&[0, 0x85, 0x01, 4]); // custom, 133 bytes
        module.extend_from_slice(b"name");
        module.extend_from_slice(&[0; 128]);
        module.extend_from_slice(&[3, 2, 1, 0]); // function section
        let stripped = without_custom_sections(&module).unwrap();
        assert_eq!(
            stripped,
            b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0\x03\x02\x01\0"
        );
    }

    #[test]
    fn refuses_a_truncated_module() {
        assert_eq!(
            without_custom_sections(b"\0asm\x01\0\0\0\x01\x09\x01"),
            None
        );
    }
}
