//! Small, real images: pixel patterns, encoding to PNG / JPEG / WebP, reading the size of an
//! uploaded image, and scaling a requested size down to the emulator's tiny output size.
//!
//! The encoders are the image-rs project's `png` and `image-webp` (lossless VP8L) and the
//! dependency-free `jpeg-encoder`: each is small, pure Rust, and produces files any decoder reads.
//! TIFF (which Topaz can return) is written by hand below: an uncompressed baseline TIFF is a
//! header and one directory, and no small crate writes only that.

use std::fmt;

/// The longest side of a generated image, in pixels. Requested sizes are scaled down to it with
/// their aspect ratio kept (1536x1024 becomes 16x11); sizes already within it are kept exactly.
pub const MAX_SIDE: u32 = 16;

/// An image file format the emulator writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// PNG, 8-bit RGB.
    Png,
    /// Baseline JPEG.
    Jpeg,
    /// Lossless WebP (VP8L).
    Webp,
    /// Uncompressed baseline TIFF, 8-bit RGB.
    Tiff,
}

impl Format {
    /// Parses a format name as the APIs spell it (`png`, `jpeg`, `jpg`, `webp`, `tiff`, `tif`),
    /// case-insensitively.
    pub fn parse(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "png" => Some(Format::Png),
            "jpeg" | "jpg" => Some(Format::Jpeg),
            "webp" => Some(Format::Webp),
            "tiff" | "tif" => Some(Format::Tiff),
            _ => None,
        }
    }

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Jpeg => "image/jpeg",
            Format::Webp => "image/webp",
            Format::Tiff => "image/tiff",
        }
    }

    /// The usual file extension.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpeg",
            Format::Webp => "webp",
            Format::Tiff => "tiff",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ext())
    }
}

/// Scales a nominal size down so that its longest side is at most [`MAX_SIDE`], keeping the
/// aspect ratio (each side at least 1 pixel). Sizes already within the bound are kept.
pub fn fit(width: f64, height: f64) -> (u32, u32) {
    if !(width.is_finite() && height.is_finite()) || width <= 0.0 || height <= 0.0 {
        return (MAX_SIDE, MAX_SIDE);
    }
    let max = f64::from(MAX_SIDE);
    if width <= max && height <= max && width.fract() == 0.0 && height.fract() == 0.0 {
        return (width as u32, height as u32);
    }
    let scale = max / width.max(height);
    let side = |v: f64| ((v * scale).round() as u32).clamp(1, MAX_SIDE);
    (side(width), side(height))
}

/// Parses `"1024x1024"` (also `*` or `X` as the separator) into a nominal size.
pub fn parse_size(s: &str) -> Option<(f64, f64)> {
    let (w, h) = s.split_once(['x', 'X', '*'])?;
    let w: f64 = w.trim().parse().ok()?;
    let h: f64 = h.trim().parse().ok()?;
    (w > 0.0 && h > 0.0 && w.is_finite() && h.is_finite()).then_some((w, h))
}

/// Parses an aspect ratio `"16:9"` (decimals allowed: `"9:19.5"`) into a nominal size.
pub fn parse_ratio(s: &str) -> Option<(f64, f64)> {
    let (w, h) = s.split_once(':')?;
    let w: f64 = w.trim().parse().ok()?;
    let h: f64 = h.trim().parse().ok()?;
    (w > 0.0 && h > 0.0 && w.is_finite() && h.is_finite()).then_some((w, h))
}

/// What kind of image a byte string is, and its size, from its header.
pub fn sniff(bytes: &[u8]) -> Option<(Format, u32, u32)> {
    let be16 = |b: &[u8]| u32::from(u16::from_be_bytes([b[0], b[1]]));
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() >= 24 && &bytes[12..16] == b"IHDR" {
        return Some((Format::Png, be32(&bytes[16..20]), be32(&bytes[20..24])));
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        // Walk the segments to the first start-of-frame marker.
        let mut i = 2;
        while i + 9 <= bytes.len() {
            if bytes[i] != 0xFF {
                return None;
            }
            let marker = bytes[i + 1];
            let len = be16(&bytes[i + 2..]) as usize;
            let sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
            if sof {
                return Some((Format::Jpeg, be16(&bytes[i + 7..]), be16(&bytes[i + 5..])));
            }
            i += 2 + len;
        }
        return None;
    }
    if bytes.len() >= 30 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        let le24 = |b: &[u8]| u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16;
        return match &bytes[12..16] {
            b"VP8L" if bytes[20] == 0x2F => {
                let bits = u32::from_le_bytes([bytes[21], bytes[22], bytes[23], bytes[24]]);
                Some((Format::Webp, (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
            }
            b"VP8 " => {
                let w = u32::from(u16::from_le_bytes([bytes[26], bytes[27]]) & 0x3FFF);
                let h = u32::from(u16::from_le_bytes([bytes[28], bytes[29]]) & 0x3FFF);
                Some((Format::Webp, w, h))
            }
            b"VP8X" => Some((Format::Webp, le24(&bytes[24..]) + 1, le24(&bytes[27..]) + 1)),
            _ => None,
        };
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return sniff_tiff(bytes).map(|(w, h)| (Format::Tiff, w, h));
    }
    None
}

fn sniff_tiff(b: &[u8]) -> Option<(u32, u32)> {
    let le = b[0] == b'I';
    let u16_at = |i: usize| -> Option<u32> {
        let s = b.get(i..i + 2)?;
        Some(u32::from(if le { u16::from_le_bytes([s[0], s[1]]) } else { u16::from_be_bytes([s[0], s[1]]) }))
    };
    let u32_at = |i: usize| -> Option<u32> {
        let s: [u8; 4] = b.get(i..i + 4)?.try_into().ok()?;
        Some(if le { u32::from_le_bytes(s) } else { u32::from_be_bytes(s) })
    };
    let ifd = u32_at(4)? as usize;
    let count = u16_at(ifd)? as usize;
    let (mut w, mut h) = (None, None);
    for e in 0..count {
        let at = ifd + 2 + e * 12;
        let value = if u16_at(at + 2)? == 3 { u16_at(at + 8)? } else { u32_at(at + 8)? };
        match u16_at(at)? {
            256 => w = Some(value),
            257 => h = Some(value),
            _ => {}
        }
    }
    Some((w?, h?))
}

/// RGB pixels of a recognisable pattern: a diagonal gradient whose hue depends on `seed`, so that
/// several images of one answer differ. `progress` below 1.0 leaves the bottom rows grey, the way
/// a partial image is an unfinished render.
pub fn pixels(width: u32, height: u32, seed: u64, progress: f32) -> Vec<u8> {
    let (w, h) = (width.max(1) as usize, height.max(1) as usize);
    let hue = (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8;
    let done_rows = ((h as f32) * progress.clamp(0.0, 1.0)).ceil() as usize;
    let mut out = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            if y >= done_rows {
                out.extend_from_slice(&[128, 128, 128]);
                continue;
            }
            let fx = (x * 255 / w.max(2).saturating_sub(1).max(1)) as u8;
            let fy = (y * 255 / h.max(2).saturating_sub(1).max(1)) as u8;
            out.extend_from_slice(&[fx ^ hue, fy, hue.wrapping_add(fx / 2).wrapping_add(fy / 2)]);
        }
    }
    out
}

/// Encodes RGB `pixels` of `width` x `height` as `format`.
pub fn encode(format: Format, width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pixels.len() + 512);
    match format {
        Format::Png => {
            let mut enc = png::Encoder::new(&mut out, width, height);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut writer = enc.write_header().expect("writing a PNG header to a Vec cannot fail");
            writer.write_image_data(pixels).expect("the pixel buffer matches the PNG size");
            writer.finish().expect("finishing a PNG in a Vec cannot fail");
        }
        Format::Jpeg => {
            // Sides are at most MAX_SIDE, far below the u16 limit of JPEG.
            jpeg_encoder::Encoder::new(&mut out, 90)
                .encode(pixels, width as u16, height as u16, jpeg_encoder::ColorType::Rgb)
                .expect("the pixel buffer matches the JPEG size");
        }
        Format::Webp => {
            image_webp::WebPEncoder::new(&mut out)
                .encode(pixels, width, height, image_webp::ColorType::Rgb8)
                .expect("the pixel buffer matches the WebP size");
        }
        Format::Tiff => write_tiff(&mut out, width, height, pixels),
    }
    out
}

/// The pattern image of this size, seed and progress, encoded.
pub fn render(format: Format, (width, height): (u32, u32), seed: u64, progress: f32) -> Vec<u8> {
    encode(format, width, height, &pixels(width, height, seed, progress))
}

/// `png` padded to exactly `size` bytes with one private ancillary chunk (`emPd`, zeros) before
/// `IEND`: decoders skip ancillary chunks they do not know, so it stays the same valid image, only
/// bigger (for benchmarks of large responses). A PNG already that size or bigger, too short to hold
/// another chunk (a chunk is at least 12 bytes), or not a PNG, is returned unchanged.
pub fn pad_png(mut png: Vec<u8>, size: usize) -> Vec<u8> {
    const IEND_LEN: usize = 12;
    let is_png = png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() >= 8 + IEND_LEN;
    if !is_png || &png[png.len() - 8..png.len() - 4] != b"IEND" || size < png.len() + 12 {
        return png;
    }
    let Ok(len) = u32::try_from(size - png.len() - 12) else { return png };
    let iend = png.split_off(png.len() - IEND_LEN);
    png.reserve_exact(size - png.len());
    png.extend_from_slice(&len.to_be_bytes());
    let start = png.len();
    png.extend_from_slice(b"emPd");
    png.resize(png.len() + len as usize, 0);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
    png.extend_from_slice(&iend);
    png
}

/// The CRC-32 (ISO 3309, as PNG chunks use it) of `data`.
fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (n, slot) in t.iter_mut().enumerate() {
            let mut c = n as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
            *slot = c;
        }
        t
    });
    !data.iter().fold(!0u32, |c, &b| table[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8))
}

/// An uncompressed, single-strip, little-endian RGB TIFF.
fn write_tiff(out: &mut Vec<u8>, width: u32, height: u32, pixels: &[u8]) {
    const ENTRIES: u16 = 10;
    let ifd_len = 2 + usize::from(ENTRIES) * 12 + 4;
    let bits_at = 8 + ifd_len; // three u16 BitsPerSample values
    let data_at = bits_at + 6;
    out.extend_from_slice(b"II*\0");
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&ENTRIES.to_le_bytes());
    let mut entry = |tag: u16, kind: u16, count: u32, value: u32| {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    };
    let (short, long) = (3, 4);
    entry(256, long, 1, width); // ImageWidth
    entry(257, long, 1, height); // ImageLength
    entry(258, short, 3, bits_at as u32); // BitsPerSample -> 8,8,8
    entry(259, short, 1, 1); // Compression: none
    entry(262, short, 1, 2); // PhotometricInterpretation: RGB
    entry(273, long, 1, data_at as u32); // StripOffsets
    entry(277, short, 1, 3); // SamplesPerPixel
    entry(278, long, 1, height); // RowsPerStrip
    entry(279, long, 1, pixels.len() as u32); // StripByteCounts
    entry(284, short, 1, 1); // PlanarConfiguration: chunky
    out.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    for _ in 0..3 {
        out.extend_from_slice(&8u16.to_le_bytes());
    }
    out.extend_from_slice(pixels);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_keep_the_aspect_ratio() {
        assert_eq!(fit(1024.0, 1024.0), (16, 16));
        assert_eq!(fit(1536.0, 1024.0), (16, 11));
        assert_eq!(fit(1024.0, 1536.0), (11, 16));
        assert_eq!(fit(3840.0, 2160.0), (16, 9));
        assert_eq!(fit(8192.0, 1024.0), (16, 2));
        assert_eq!(fit(1024.0, 8192.0), (2, 16));
        assert_eq!(fit(12.0, 8.0), (12, 8));
        assert_eq!(fit(10000.0, 1.0), (16, 1));
        assert_eq!(fit(0.0, 5.0), (16, 16));
    }

    #[test]
    fn parses_sizes_and_ratios() {
        assert_eq!(parse_size("1536x1024"), Some((1536.0, 1024.0)));
        assert_eq!(parse_size("2048*2048"), Some((2048.0, 2048.0)));
        assert_eq!(parse_size("auto"), None);
        assert_eq!(parse_ratio("9:19.5"), Some((9.0, 19.5)));
        assert_eq!(parse_ratio("16x9"), None);
    }

    #[test]
    fn every_format_round_trips_its_size() {
        for format in [Format::Png, Format::Jpeg, Format::Webp, Format::Tiff] {
            for dims in [(16, 9), (1, 1), (7, 16)] {
                let bytes = render(format, dims, 3, 1.0);
                assert_eq!(sniff(&bytes), Some((format, dims.0, dims.1)), "{format} {dims:?}");
            }
        }
        assert_eq!(sniff(b"not an image"), None);
    }

    /// The pixels of a PNG, read to its end by the `png` crate (which checks every chunk's CRC).
    fn png_pixels(bytes: &[u8]) -> Vec<u8> {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buf).unwrap();
        reader.finish().unwrap();
        buf
    }

    #[test]
    fn a_padded_png_is_the_same_image_at_exactly_the_size_asked() {
        let png = render(Format::Png, (16, 16), 5, 1.0);
        let own = png.len();
        for size in [own + 12, own + 13, own + 1000, 64 * 1024] {
            let padded = pad_png(png.clone(), size);
            assert_eq!(padded.len(), size);
            assert_eq!(sniff(&padded), Some((Format::Png, 16, 16)));
            assert_eq!(png_pixels(&padded), png_pixels(&png), "size {size}");
            assert!(padded.ends_with(&png[own - 12..]), "IEND stays last");
        }
        // Nothing to pad: smaller than the image, or no room for a chunk; not a PNG.
        for size in [0, own, own + 11] {
            assert_eq!(pad_png(png.clone(), size), png);
        }
        let jpeg = render(Format::Jpeg, (4, 4), 1, 1.0);
        assert_eq!(pad_png(jpeg.clone(), 10_000), jpeg);
        // The CRC-32 check value.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn seeds_and_progress_change_the_pixels() {
        assert_ne!(pixels(4, 4, 1, 1.0), pixels(4, 4, 2, 1.0));
        assert_ne!(pixels(4, 4, 1, 0.5), pixels(4, 4, 1, 1.0));
        assert_eq!(pixels(4, 4, 1, 0.0), vec![128; 48]);
    }
}
