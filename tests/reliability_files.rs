//! Reliability of settings files (issue 7): a truncated file is moved aside with a message and
//! the app starts with defaults; a location that cannot be written reports the error.

use std::path::PathBuf;

use sockdbg::config::{Config, ConfigStore};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sockdbg-rel-files-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    dir
}

#[test]
fn a_truncated_config_is_moved_aside_with_a_message() {
    let dir = temp_dir("truncated");
    let store = ConfigStore::at(&dir);
    let mut config = Config::default();
    config.view.log_hex = true;
    store.save(&config).expect("save");
    let text = std::fs::read(store.path()).expect("read back");
    // Every cut of the file either loads or is moved aside with a notice; none panics.
    for cut in [1, text.len() / 3, text.len() / 2, text.len() - 2] {
        std::fs::write(store.path(), &text[..cut]).expect("truncate");
        let loaded = store.load();
        if let Some(notice) = loaded.notice {
            assert!(notice.contains("was not used"), "{notice}");
            assert!(notice.contains("moved to"), "{notice}");
            assert!(!store.path().exists(), "the broken file is moved aside");
            assert_eq!(loaded.config, Config::default());
        }
    }
    let kept: Vec<_> = std::fs::read_dir(&dir)
        .expect("list")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".broken-"))
        .collect();
    assert!(!kept.is_empty(), "the broken file is kept, not deleted");
    std::fs::remove_dir_all(&dir).ok();
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
    let dir = temp_dir("isdir");
    let store = ConfigStore::at(&dir);
    std::fs::create_dir_all(store.path()).expect("a directory where the file goes");
    let loaded = store.load();
    let notice = loaded.notice.expect("a notice");
    assert!(notice.contains("was not used"), "{notice}");
    assert_eq!(loaded.config, Config::default());
    std::fs::remove_dir_all(&dir).ok();
}
