//! What the engine is told once, when it starts ([`EngineSettings`]).

use std::path::PathBuf;

/// What the engine is told once, when it starts.
#[derive(Clone, Debug, Default)]
pub struct EngineSettings {
    /// Where the engine writes files it generates (a TLS server's self-signed certificate),
    /// owner-only (see [`crate::private_files`]); `None` writes none, and says so.
    pub files_dir: Option<PathBuf>,
}

impl EngineSettings {
    /// Generated files go to the default config directory's `certs` (`$SOCKDBG_CONFIG_DIR`,
    /// else the platform's), as for a window or headless run without `--config-dir`.
    pub fn from_environment() -> Self {
        let store = crate::config::ConfigStore::default_location();
        Self {
            files_dir: crate::private_files::generated_dir(store.as_ref()),
        }
    }
}
