//! A small filesystem of the test's own (a tmpfs mounted on a temporary
//! directory, which takes root), and ballast that fills it to the last byte.
//! Unmounted when dropped, even on failure.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

pub struct SmallFs {
    pub dir: PathBuf,
}

impl SmallFs {
    /// `None` (the test is skipped) where this machine allows no mount.
    pub fn mount(megabytes: u32) -> Option<SmallFs> {
        let dir = std::env::temp_dir().join(format!("{}_fs", crate::helpers::unique_name()));
        std::fs::create_dir_all(&dir).unwrap();
        let size = format!("size={megabytes}m");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &size, "tmpfs"])
            .arg(&dir)
            .output();
        match out {
            Ok(out) if out.status.success() => Some(SmallFs { dir }),
            other => {
                eprintln!("SKIPPED: this machine allows no tmpfs mount (needs root): {other:?}");
                let _ = std::fs::remove_dir(&dir);
                None
            }
        }
    }

    /// Writes ballast until the filesystem has no byte left.
    pub fn fill(&self) {
        let mut ballast = std::fs::File::create(self.dir.join("ballast")).unwrap();
        for chunk in [1 << 16, 4096, 512, 1] {
            let bytes = vec![0u8; chunk];
            while ballast.write_all(&bytes).is_ok() {}
        }
    }

    /// Removes the ballast: the space is back.
    pub fn free(&self) {
        std::fs::remove_file(self.dir.join("ballast")).unwrap();
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        // Lazily: a killed process may still hold a file open for a moment.
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}
