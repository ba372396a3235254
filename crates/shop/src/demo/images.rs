//! Placeholder images drawn by us: small SVG files with a coloured background and a label.

use std::path::Path;

use anyhow::Context;

/// One image to write under the media directory.
pub struct Placeholder {
    /// Media name, e.g. `goods/images/goods-1.svg`.
    pub name: String,
    pub label: String,
    pub width: u32,
    pub height: u32,
    /// Hue of the background, 0–359.
    pub hue: u32,
}

impl Placeholder {
    pub fn svg(&self) -> String {
        let (w, h) = (self.width, self.height);
        let font = (h / 8).clamp(12, 48);
        format!(
            concat!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#,
                r#"<rect width="{w}" height="{h}" fill="hsl({hue},55%,62%)"/>"#,
                r##"<rect x="8" y="8" width="{iw}" height="{ih}" fill="none" stroke="#fff" stroke-width="3" rx="12"/>"##,
                r#"<text x="50%" y="50%" dominant-baseline="middle" text-anchor="middle" font-family="sans-serif" "#,
                r##"font-size="{font}" fill="#fff">{label}</text></svg>"##
            ),
            w = w,
            h = h,
            iw = w.saturating_sub(16),
            ih = h.saturating_sub(16),
            hue = self.hue % 360,
            font = font,
            label = escape_xml(&self.label),
        )
    }
}

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Writes every placeholder under `media_dir`, creating directories as needed.
pub fn write_all(media_dir: &Path, images: &[Placeholder]) -> anyhow::Result<()> {
    for image in images {
        let path = media_dir.join(&image.name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, image.svg()).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
