//! Reliability of settings files (issue 7): a truncated file is moved aside with a message and
//! the app starts with defaults; a location that cannot be written reports the error.

use sockdbg::config::{Config, ConfigStore};

#[test]
fn a_truncated_config_is_moved_aside_with_a_message() {
    let dir = common::temp_dir("rel-files-truncated");
    let store = ConfigStore::at(dir.path());
    let mut config = Config::default();
    config.view.log_hex = true;
    store.save(&config).expect("save");
    let text = std::fs::read(store.path()).expect("read back");
    // Every cut of the file either loads or is moved aside with a notice; none panics.
    for cut in [1, text.len() / 3, text.len() / 2, text.len() - 2] {
        std::fs::write(store.path(), &text[..cut]).expect("truncate");
        let loaded = store.load();
        if let Some(notice) = loaded.notice.map(|n| n.to_string()) {
            assert!(notice.contains("was not used"), "{notice}");
            assert!(notice.contains("moved to"), "{notice}");
            assert!(!store.path().exists(), "the broken file is moved aside");
            assert_eq!(loaded.config, Config::default());
        }
    }
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".broken-"))
        .collect();
    assert!(!kept.is_empty(), "the broken file is kept, not deleted");
}

#[test]
fn a_location_that_cannot_be_written_reports_the_error() {
    // /proc refuses new directories even to root, unlike a chmod'ed directory.
    let store = ConfigStore::at("/proc/sockdbg-cannot-exist");
    let error = store
        .save(&Config::default())
        .expect_err("cannot save there");
    let text = error.to_string();
    assert!(text.contains("/proc/sockdbg-cannot-exist"), "{text}");
    assert!(!text.contains('\n'), "{text}");
    // Loading from there gives defaults silently (no file).
    assert_eq!(store.load().notice, None);
}

#[test]
fn a_config_path_that_is_a_directory_gives_defaults_and_a_message() {
    let dir = common::temp_dir("rel-files-isdir");
    let store = ConfigStore::at(dir.path());
    std::fs::create_dir_all(store.path()).expect("a directory where the file goes");
    let loaded = store.load();
    let notice = loaded.notice.expect("a notice").to_string();
    assert!(notice.contains("was not used"), "{notice}");
    assert_eq!(loaded.config, Config::default());
}

mod common;

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).expect("metadata").mode() & 0o777
}

/// Issue 14: a generated TLS certificate used to go to `/tmp/sockdbg-PORT-cert.pem`, a name
/// another local user can take first. It now goes owner-only into sockdbg's own directory;
/// a symlink planted at the old name or at the new one is not written through.
#[cfg(unix)]
#[test]
fn a_generated_certificate_is_private_and_never_written_through_a_symlink() {
    use common::Engine;
    use sockdbg::protocol::SessionId;
    use std::os::unix::fs::symlink;

    let id = SessionId(1);
    let root = tempfile::tempdir().expect("temp dir");
    let dir = root.path().join("certs");
    let victim = root.path().join("victim");
    std::fs::write(&victim, b"precious").expect("victim");
    let port = common::free_tcp_port();
    let name = format!("sockdbg-{port}-cert.pem");
    std::fs::create_dir(&dir).expect("files dir");
    symlink(&victim, dir.join(&name)).expect("plant at the new name");
    let old = std::env::temp_dir().join(&name);
    std::fs::remove_file(&old).ok();
    symlink(&victim, &old).expect("plant at the old name");

    let mut engine = Engine::spawn_with_files_dir(&dir);
    engine.start(id, &format!("tls-server:127.0.0.1:{port}"));
    engine.started(id);
    let (_, note) = engine.note_with(id, "generated a self-signed certificate");
    let path = common::tls::pem_path(&note);
    assert_eq!(path, dir.join(&name), "{note}");
    assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
    assert!(
        std::fs::symlink_metadata(&old)
            .expect("old name")
            .is_symlink(),
        "the old name in the temp directory is not touched"
    );
    let pem = std::fs::read_to_string(&path).expect("the PEM");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert_eq!(mode(&path), 0o600, "the PEM is the user's alone");
    assert_eq!(mode(&dir), 0o700, "so is its directory");
    engine.shutdown();
    std::fs::remove_file(&old).ok();
}

/// `--config-dir` says where generated files go, headless as in the window.
#[test]
fn headless_writes_a_generated_certificate_under_its_config_dir() {
    let root = tempfile::tempdir().expect("temp dir");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sockdbg"))
        .args([
            "--headless",
            "tls-server:127.0.0.1:0",
            // Counted from the run's start and spent in full: long enough to generate the
            // certificate and say where it is first, in a debug build on a loaded machine
            // (300 ms was not always).
            "--duration-ms",
            "2000",
        ])
        .arg("--config-dir")
        .arg(root.path())
        .output()
        .expect("run sockdbg");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    let note = stdout
        .lines()
        .find(|l| l.contains("its PEM is at "))
        .unwrap_or_else(|| panic!("a certificate note: {stdout}"));
    let path = common::tls::pem_path(note);
    assert!(path.starts_with(root.path().join("certs")), "{note}");
    assert!(path.exists(), "{note}");
}
