//! Files only the user may read, for what sockdbg generates (a TLS server's self-signed
//! certificate): a directory of sockdbg's own, created owner-only (0700) and checked before
//! each use, and files written into it atomically, as a fresh owner-only (0600) temporary
//! file renamed over the name. A symlink or a file planted at the name is replaced, never
//! written through or trusted; a directory that is a symlink, or that someone else owns, is
//! refused.
//!
//! Where: `<config dir>/certs`, next to the settings file (`--config-dir DIR` or
//! `$SOCKDBG_CONFIG_DIR` when given, else the platform's config directory, e.g.
//! `~/.config/sockdbg/certs`), see [`generated_dir`]. Never the shared temp directory, where
//! another local user could choose the name first.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::config::ConfigStore;
pub use crate::protocol::DirRefusal;

/// Why a private file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PrivateFileError {
    /// The directory is not one to keep private files in (the window words `why` in its
    /// language; this is the English).
    #[error("{} {why}; not used for private files", dir.display())]
    Refused {
        /// The directory.
        dir: PathBuf,
        /// What is wrong with it.
        why: DirRefusal,
    },
    /// The system refused (its own words).
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The subdirectory of the config directory that holds generated files.
pub const GENERATED_SUBDIR: &str = "certs";

/// Where generated files go for a config store at `store` (see the module docs); `None`
/// when there is no config directory (no home directory).
pub fn generated_dir(store: Option<&ConfigStore>) -> Option<PathBuf> {
    store.map(|store| store.dir().join(GENERATED_SUBDIR))
}

/// Where the window proposes to save captures and exports: for the usual settings location,
/// the platform's place ([`crate::platform::saved_files_dir`]: `~/.local/share/sockdbg` on
/// Linux, `Documents\sockdbg` on Windows), else (`--config-dir`, `$SOCKDBG_CONFIG_DIR`:
/// portable installs, tests) a `files` directory beside the settings.
/// Never the shared temp directory, where another user could plant the name. It is made
/// owner-only ([`ensure_private_dir`]) when a file is first saved there.
pub fn saved_files_dir(store: Option<&ConfigStore>) -> Option<PathBuf> {
    let store = store?;
    let usual = crate::platform::config_dir().filter(|dir| dir == store.dir());
    match usual.and(crate::platform::saved_files_dir()) {
        Some(dir) => Some(dir),
        None => Some(store.dir().join("files")),
    }
}

/// Writes `contents` to `dir/name` for the user alone: `dir` is made (0700) or checked,
/// the bytes go to a new 0600 temporary file in it, which is then renamed over `name`.
/// Returns the file's path.
///
/// # Errors
/// Creating or checking `dir` (a symlink, not a directory, owned by another user, or
/// open to others and not ours to close), or writing the file.
pub fn write_private(dir: &Path, name: &str, contents: &[u8]) -> Result<PathBuf, PrivateFileError> {
    ensure_private_dir(dir)?;
    let path = dir.join(name);
    // tempfile creates with O_EXCL (never through a symlink) and mode 0600.
    let mut file = tempfile::Builder::new()
        .prefix(".sockdbg-")
        .tempfile_in(dir)?;
    file.write_all(contents)?;
    file.as_file().sync_all()?;
    // rename(2) replaces whatever is at the name (a symlink included) without following it.
    file.persist(&path)
        .map_err(|e| PrivateFileError::Io(e.error))?;
    Ok(path)
}

/// Makes `dir` (its parents as usual, itself 0700) or checks an existing one: it must be a
/// real directory (not a symlink) owned by this user; one open to others is closed (0700).
///
/// # Errors
/// When `dir` cannot be made, is a symlink or not a directory, is someone else's, or
/// its permissions cannot be tightened.
pub fn ensure_private_dir(dir: &Path) -> Result<(), PrivateFileError> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    #[cfg_attr(not(unix), allow(unused_mut))] // only unix sets a mode
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e.into()),
    }
    let meta = std::fs::symlink_metadata(dir)?;
    if meta.file_type().is_symlink() {
        return Err(refused(dir, DirRefusal::Symlink));
    }
    if !meta.is_dir() {
        return Err(refused(dir, DirRefusal::NotDirectory));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(refused(dir, DirRefusal::OtherOwner));
        }
        if meta.mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

fn refused(dir: &Path, why: DirRefusal) -> PrivateFileError {
    PrivateFileError::Refused {
        dir: dir.to_path_buf(),
        why,
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path).expect("metadata").mode() & 0o777
    }

    #[test]
    fn files_are_owner_only_and_a_planted_symlink_is_replaced() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("a/certs");
        let victim = root.path().join("victim");
        std::fs::write(&victim, b"precious").expect("victim");
        std::fs::create_dir_all(root.path().join("a")).expect("parent");
        std::fs::create_dir(&dir).expect("dir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        symlink(&victim, dir.join("x.pem")).expect("plant");

        let path = write_private(&dir, "x.pem", b"pem").expect("written");
        assert_eq!(path, dir.join("x.pem"));
        assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
        assert!(!std::fs::symlink_metadata(&path).expect("meta").is_symlink());
        assert_eq!(std::fs::read(&path).expect("file"), b"pem");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir), 0o700, "an open directory is closed");
        // Written again: replaced, still private, no temporary file left behind.
        write_private(&dir, "x.pem", b"pem2").expect("rewritten");
        assert_eq!(std::fs::read(&path).expect("file"), b"pem2");
        assert_eq!(std::fs::read_dir(&dir).expect("list").count(), 1);
    }

    #[test]
    fn a_directory_that_is_a_symlink_is_refused() {
        let root = tempfile::tempdir().expect("temp dir");
        let elsewhere = root.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).expect("dir");
        let dir = root.path().join("certs");
        symlink(&elsewhere, &dir).expect("plant");
        let error = write_private(&dir, "x.pem", b"pem").expect_err("refused");
        assert!(error.to_string().contains("is a symlink"), "{error}");
        assert_eq!(std::fs::read_dir(&elsewhere).expect("list").count(), 0);
        let file = root.path().join("file");
        std::fs::write(&file, b"").expect("file");
        let error = write_private(&file, "x.pem", b"pem").expect_err("refused");
        assert!(error.to_string().contains("not a directory"), "{error}");
    }

    #[test]
    fn a_new_directory_is_owner_only() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("deep/er/certs");
        write_private(&dir, "x.pem", b"pem").expect("written");
        assert_eq!(mode(&dir), 0o700);
    }
}
