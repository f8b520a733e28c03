//! The CJK fonts. egui's default fonts have no Han glyphs, so a CJK font is added as the last
//! fallback of both font families: on Windows the system's own (Microsoft YaHei, else SimSun,
//! from `%WINDIR%\Fonts`) when present, so Chinese looks as in other Windows programs; and
//! always the bundled one (Droid Sans Fallback, Apache-2.0, from Debian's
//! fonts-droid-fallback; see `assets/fonts/`) after it, so Chinese shows as glyphs on any
//! machine.

use std::path::{Path, PathBuf};

/// The font file, compiled into the binary so no system font is needed.
pub const CJK_FONT: &[u8] = include_bytes!("../assets/fonts/DroidSansFallbackFull.ttf");

/// Name under which the font is registered with egui.
pub const CJK_FONT_NAME: &str = "droid-sans-fallback";

/// Name under which a system CJK font is registered with egui.
pub const SYSTEM_CJK_FONT_NAME: &str = "system-cjk";

/// Windows' CJK fonts in `%WINDIR%\Fonts`, best first, with the face to use in a collection:
/// Microsoft YaHei (a collection since Windows 8, a single font in Windows 7), then SimSun.
pub const WINDOWS_CJK_FONTS: [(&str, u32); 4] = [
    ("msyh.ttc", 0),
    ("msyh.ttf", 0),
    ("simsun.ttc", 0),
    ("simsun.ttf", 0),
];

/// Adds the CJK fonts (see the module docs) as the lowest-priority fallbacks for
/// proportional and monospace text.
pub fn install_cjk_font(ctx: &egui::Context) {
    if let Some((data, index)) = windows_fonts_dir()
        .as_deref()
        .and_then(system_cjk_font_in)
        .and_then(|(path, index)| Some((std::fs::read(path).ok()?, index)))
        .filter(|(data, index)| draws_chinese(data, *index))
    {
        let mut font = egui::FontData::from_owned(data);
        font.index = index;
        add_lowest(ctx, SYSTEM_CJK_FONT_NAME, font);
    }
    add_lowest(ctx, CJK_FONT_NAME, egui::FontData::from_static(CJK_FONT));
}

/// The first of [`WINDOWS_CJK_FONTS`] present in `fonts_dir`, with its face index.
pub fn system_cjk_font_in(fonts_dir: &Path) -> Option<(PathBuf, u32)> {
    WINDOWS_CJK_FONTS
        .iter()
        .map(|&(name, index)| (fonts_dir.join(name), index))
        .find(|(path, _)| path.is_file())
}

/// Whether face `index` of the font file `data` parses and has Han glyphs (egui panics on a
/// font it cannot parse; a damaged or unexpected file falls back to the bundled font).
pub fn draws_chinese(data: &[u8], index: u32) -> bool {
    use skrifa::MetadataProvider as _;
    skrifa::FontRef::from_index(data, index).is_ok_and(|font| {
        let chars = font.charmap();
        ['中', '文'].into_iter().all(|c| chars.map(c).is_some())
    })
}

/// `%WINDIR%\Fonts` on Windows; `None` elsewhere (Linux uses the bundled font: which CJK
/// font fontconfig picks depends on the locale, and may be a Japanese one).
fn windows_fonts_dir() -> Option<PathBuf> {
    if cfg!(windows) {
        std::env::var_os("WINDIR").map(|dir| PathBuf::from(dir).join("Fonts"))
    } else {
        None
    }
}

/// Appends `font` to the end of both families' fallback chains.
fn add_lowest(ctx: &egui::Context, name: &str, font: egui::FontData) {
    use egui::epaint::text::{FontInsert, FontPriority, InsertFontFamily};
    let families = [egui::FontFamily::Proportional, egui::FontFamily::Monospace]
        .into_iter()
        .map(|family| InsertFontFamily {
            family,
            priority: FontPriority::Lowest,
        })
        .collect();
    ctx.add_font(FontInsert {
        name: name.to_string(),
        data: font,
        families,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yahei_is_preferred_then_simsun_then_none() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(system_cjk_font_in(dir.path()), None);
        std::fs::write(dir.path().join("simsun.ttc"), b"font").expect("simsun");
        assert_eq!(
            system_cjk_font_in(dir.path()),
            Some((dir.path().join("simsun.ttc"), 0))
        );
        std::fs::write(dir.path().join("msyh.ttc"), b"font").expect("yahei");
        assert_eq!(
            system_cjk_font_in(dir.path()),
            Some((dir.path().join("msyh.ttc"), 0))
        );
    }

    #[test]
    fn only_a_font_with_han_glyphs_is_used() {
        assert!(draws_chinese(CJK_FONT, 0));
        assert!(!draws_chinese(b"font", 0), "not a font");
        assert!(!draws_chinese(CJK_FONT, 3), "no such face");
        let latin = egui::epaint::text::FontDefinitions::default();
        let ubuntu = latin.font_data.values().next().expect("a default font");
        assert!(!draws_chinese(ubuntu.bytes(), 0), "no Han glyphs");
    }
}
