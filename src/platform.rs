//! What differs by operating system, decided in one place: where the settings and saved files
//! go, and which text encoding a first start proposes. Windows follows its own conventions
//! (`%APPDATA%\sockdbg`, the Documents folder, GBK on a Chinese Windows) rather than Linux's
//! ported over.

use std::path::PathBuf;

use crate::codec::text::TextEncoding;

/// The ANSI code page of a Chinese (simplified) Windows: GBK.
pub const CODE_PAGE_GBK: u32 = 936;

/// The usual directory of the settings file: `%APPDATA%\sockdbg` on Windows (roaming, per
/// user), the XDG config directory elsewhere (`~/.config/sockdbg`). `None` without a home.
pub fn config_dir() -> Option<PathBuf> {
    if cfg!(windows) {
        directories::BaseDirs::new().map(|d| d.config_dir().join("sockdbg"))
    } else {
        directories::ProjectDirs::from("", "", "sockdbg").map(|d| d.config_dir().to_path_buf())
    }
}

/// The user's cache directory for sockdbg (`~/.cache/sockdbg` on Linux,
/// `%LOCALAPPDATA%\\sockdbg\\cache` on Windows): what can be thrown away, such as logs
/// spilled to disk. `None` without a home.
pub fn cache_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "sockdbg").map(|d| d.cache_dir().to_path_buf())
}

/// Where the window proposes captures and exports when the settings are in the usual place:
/// `Documents\sockdbg` on Windows (where the user looks for files they saved), the XDG data
/// directory elsewhere (`~/.local/share/sockdbg`).
pub fn saved_files_dir() -> Option<PathBuf> {
    if cfg!(windows) {
        directories::UserDirs::new()
            .and_then(|d| d.document_dir().map(|docs| docs.join("sockdbg")))
            .or_else(|| config_dir().map(|dir| dir.join("files")))
    } else {
        directories::ProjectDirs::from("", "", "sockdbg").map(|d| d.data_dir().to_path_buf())
    }
}

/// The system's ANSI code page (Windows' `GetACP`: 936 on a Chinese Windows, 1252 on a
/// Western one); `None` elsewhere.
pub fn ansi_code_page() -> Option<u32> {
    #[cfg(windows)]
    {
        // SAFETY: GetACP has no arguments and cannot fail.
        Some(unsafe { windows_sys::Win32::Globalization::GetACP() })
    }
    #[cfg(not(windows))]
    {
        None
    }
}

/// The text encoding new sessions start with on this system ([`encoding_for_code_page`]).
pub fn default_encoding() -> TextEncoding {
    encoding_for_code_page(ansi_code_page())
}

/// GBK on a Chinese Windows (ANSI code page 936), where devices and the programs beside
/// sockdbg speak it; UTF-8 everywhere else (other code pages, and systems without one).
pub fn encoding_for_code_page(code_page: Option<u32>) -> TextEncoding {
    match code_page {
        Some(CODE_PAGE_GBK) => TextEncoding::Gbk,
        _ => TextEncoding::Utf8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_only_on_code_page_936() {
        assert_eq!(encoding_for_code_page(Some(936)), TextEncoding::Gbk);
        for other in [Some(1252), Some(65001), Some(950), Some(932), None] {
            assert_eq!(
                encoding_for_code_page(other),
                TextEncoding::Utf8,
                "{other:?}"
            );
        }
    }

    #[test]
    fn the_settings_folder_is_the_platforms() {
        let Some(dir) = config_dir() else {
            return; // no home directory: nothing to check
        };
        assert!(dir.ends_with("sockdbg"), "{}", dir.display());
        if cfg!(windows) {
            // %APPDATA%\sockdbg, not directories' %APPDATA%\sockdbg\config.
            let appdata = std::env::var_os("APPDATA").map(PathBuf::from);
            assert_eq!(Some(dir), appdata.map(|a| a.join("sockdbg")));
            assert!(ansi_code_page().is_some());
        }
    }
}
