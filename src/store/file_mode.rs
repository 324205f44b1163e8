//! The database file, its WAL and its shared-memory file hold shared secrets and emails: they
//! are created owner-only (0600) whatever the process umask, and tightened when an older
//! version left them readable by others.

use std::path::{Path, PathBuf};

/// The files SQLite keeps for the database at `path`.
fn companions(path: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [path.to_path_buf(), with("-wal"), with("-shm")]
}

/// Before SQLite opens `path`: create it empty with mode 0600 if it is missing, so SQLite
/// (which gives its WAL and SHM files the database file's mode) never creates it under the
/// umask. A no-op for in-memory databases.
pub(super) fn create_private(path: &Path) -> std::io::Result<()> {
    if is_memory(path) || path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => restrict(path),
        // Another process created it first: the tightening after open covers it.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// After open: the database, WAL and SHM files that exist get mode 0600.
pub(super) fn restrict_all(path: &Path) {
    if is_memory(path) {
        return;
    }
    for file in companions(path) {
        if file.exists()
            && let Err(e) = restrict(&file)
        {
            tracing::warn!(file = %file.display(), error = %e, "cannot make the file owner-only");
        }
    }
}

#[cfg(unix)]
fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if mode != 0o600 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_: &Path) -> std::io::Result<()> {
    Ok(())
}

fn is_memory(path: &Path) -> bool {
    let name = path.to_string_lossy();
    name.is_empty() || name == ":memory:" || name.contains("mode=memory")
}
