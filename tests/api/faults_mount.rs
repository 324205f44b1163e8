//! A small tmpfs for storage-fault tests. Mounting needs root and permission to mount; where
//! that is missing the test reports itself skipped by name instead of failing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A mounted tmpfs, unmounted (lazily, so open files cannot keep it) when dropped.
pub struct Tmpfs {
    pub path: PathBuf,
}

impl Tmpfs {
    /// Mount a tmpfs of `size` (e.g. "4m") at `dir/mnt`; None (and a SKIPPED line) when the
    /// machine does not allow it.
    pub fn mount(dir: &Path, size: &str, test: &str) -> Option<Tmpfs> {
        let path = dir.join("mnt");
        std::fs::create_dir_all(&path).expect("mount point");
        let output = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&path)
            .output();
        match output {
            Ok(out) if out.status.success() => Some(Tmpfs { path }),
            Ok(out) => {
                let why = String::from_utf8_lossy(&out.stderr);
                super::skip::skipped(test, &format!("cannot mount a tmpfs here: {}", why.trim()));
                None
            }
            Err(e) => {
                super::skip::skipped(test, &format!("cannot run mount: {e}"));
                None
            }
        }
    }

    /// Write a file until the filesystem is full; its path.
    pub fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).expect("filler");
        let chunk = vec![0u8; 4096];
        while file
            .write_all(&chunk)
            .and_then(|()| file.sync_data())
            .is_ok()
        {}
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}
