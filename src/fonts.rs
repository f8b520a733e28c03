//! The bundled CJK font (Droid Sans Fallback, Apache-2.0, from Debian's fonts-droid-fallback;
//! see `assets/fonts/`). egui's default fonts have no Han glyphs, so this one is added as the
//! last fallback of both font families: Chinese shows as glyphs on any machine.

/// The font file, compiled into the binary so no system font is needed.
pub const CJK_FONT: &[u8] = include_bytes!("../assets/fonts/DroidSansFallbackFull.ttf");

/// Name under which the font is registered with egui.
pub const CJK_FONT_NAME: &str = "droid-sans-fallback";

/// Adds the CJK font as the lowest-priority fallback for proportional and monospace text.
pub fn install_cjk_font(ctx: &egui::Context) {
    use egui::epaint::text::{FontInsert, FontPriority, InsertFontFamily};
    let families = [egui::FontFamily::Proportional, egui::FontFamily::Monospace]
        .into_iter()
        .map(|family| InsertFontFamily {
            family,
            priority: FontPriority::Lowest,
        })
        .collect();
    ctx.add_font(FontInsert {
        name: CJK_FONT_NAME.to_string(),
        data: egui::FontData::from_static(CJK_FONT),
        families,
    });
}
