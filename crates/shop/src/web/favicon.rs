//! A local favicon (the original redirected to a third-party host): a 16×16 ICO drawn at start-up,
//! so the repository carries no binary.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;

const SIZE: usize = 16;
/// The shop's red, as BGRA.
const RED: [u8; 4] = [0x3c, 0x39, 0xe4, 0xff];
const WHITE: [u8; 4] = [0xff, 0xff, 0xff, 0xff];

static ICON: LazyLock<Vec<u8>> = LazyLock::new(draw_icon);

pub async fn favicon() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/x-icon"), (header::CACHE_CONTROL, "public, max-age=86400")], ICON.as_slice())
}

/// A red square with a white "M"-like zigzag: one 32-bit BMP image inside an ICO container.
fn draw_icon() -> Vec<u8> {
    let pixels_len = SIZE * SIZE * 4;
    let mask_len = SIZE * 4; // 1 bit per pixel, rows padded to 32 bits
    let image_len = 40 + pixels_len + mask_len;
    let mut ico = Vec::with_capacity(22 + image_len);
    ico.extend_from_slice(&[0, 0, 1, 0, 1, 0]); // ICONDIR: icon type, one image
    ico.extend_from_slice(&[SIZE as u8, SIZE as u8, 0, 0, 1, 0, 32, 0]);
    ico.extend_from_slice(&(image_len as u32).to_le_bytes());
    ico.extend_from_slice(&22u32.to_le_bytes());
    // BITMAPINFOHEADER; the height counts the XOR image and the AND mask.
    ico.extend_from_slice(&40u32.to_le_bytes());
    ico.extend_from_slice(&(SIZE as i32).to_le_bytes());
    ico.extend_from_slice(&(2 * SIZE as i32).to_le_bytes());
    ico.extend_from_slice(&1u16.to_le_bytes());
    ico.extend_from_slice(&32u16.to_le_bytes());
    ico.extend_from_slice(&[0; 4]); // no compression
    ico.extend_from_slice(&((pixels_len + mask_len) as u32).to_le_bytes());
    ico.extend_from_slice(&[0; 16]);
    // Rows are stored bottom-up.
    for row in (0..SIZE).rev() {
        for col in 0..SIZE {
            let stroke = (3..=12).contains(&row)
                && (col == 3 || col == 12 || ((4..=11).contains(&col) && row == 3 + col.min(15 - col) - 3));
            ico.extend_from_slice(if stroke { &WHITE } else { &RED });
        }
    }
    ico.extend(std::iter::repeat_n(0, mask_len));
    ico
}

#[cfg(test)]
mod tests {
    #[test]
    fn icon_has_the_declared_size() {
        let icon = super::draw_icon();
        let declared = u32::from_le_bytes([icon[14], icon[15], icon[16], icon[17]]) as usize;
        assert_eq!(icon.len(), 22 + declared);
        assert_eq!(&icon[..4], &[0, 0, 1, 0]);
    }
}
