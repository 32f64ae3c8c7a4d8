//! Image dimensions read from file headers: PNG, GIF, WebP (VP8, VP8L, VP8X) and JPEG.
//!
//! The headers are parsed by hand on purpose: an image-decoding crate is a heavy dependency, and all
//! we need is a width and a height near the start of the file. Every read is bounds-checked, so
//! truncated or corrupt input is an [`Error::InvalidInput`], never a panic, and every loop advances,
//! so garbage cannot hang it.

use crate::error::{Error, Result};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The `(width, height)` in pixels of a PNG, GIF, WebP or JPEG image, read from its header.
///
/// Fails with [`Error::InvalidInput`] naming the format and the problem when the data is truncated,
/// corrupt, reports a zero dimension, or is not one of these formats.
pub fn image_dimensions(bytes: &[u8]) -> Result<(u32, u32)> {
    if bytes.starts_with(PNG_SIGNATURE) {
        png(bytes)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        gif(bytes)
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        webp(bytes)
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        jpeg(bytes)
    } else {
        Err(Error::invalid_input("cannot read image dimensions: the data is not a PNG, GIF, WebP or JPEG image"))
    }
}

fn bad(format: &str, problem: impl std::fmt::Display) -> Error {
    Error::invalid_input(format!("{format} image: {problem}"))
}

fn array<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    array(b, at).map(u16::from_be_bytes)
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    array(b, at).map(u16::from_le_bytes)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    array(b, at).map(u32::from_be_bytes)
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    array::<3>(b, at).map(|[x, y, z]| u32::from_le_bytes([x, y, z, 0]))
}

fn nonzero(format: &str, width: u32, height: u32) -> Result<(u32, u32)> {
    if width == 0 || height == 0 {
        return Err(bad(format, format_args!("the header gives a zero dimension ({width}x{height})")));
    }
    Ok((width, height))
}

/// PNG: the signature, then the IHDR chunk (length 13) whose data starts with width and height.
fn png(b: &[u8]) -> Result<(u32, u32)> {
    let truncated = || bad("PNG", "truncated before the end of the IHDR dimensions");
    let len = be32(b, 8).ok_or_else(truncated)?;
    let kind = array::<4>(b, 12).ok_or_else(truncated)?;
    if &kind != b"IHDR" {
        return Err(bad("PNG", "the first chunk is not IHDR"));
    }
    if len != 13 {
        return Err(bad("PNG", format_args!("the IHDR chunk has length {len}, not 13")));
    }
    let width = be32(b, 16).ok_or_else(truncated)?;
    let height = be32(b, 20).ok_or_else(truncated)?;
    nonzero("PNG", width, height)
}

/// GIF: the logical screen descriptor right after the 6-byte signature.
fn gif(b: &[u8]) -> Result<(u32, u32)> {
    let truncated = || bad("GIF", "truncated before the end of the logical screen size");
    let width = le16(b, 6).ok_or_else(truncated)?;
    let height = le16(b, 8).ok_or_else(truncated)?;
    nonzero("GIF", width.into(), height.into())
}

/// WebP: a RIFF container whose first chunk is `VP8 ` (lossy), `VP8L` (lossless) or `VP8X` (extended).
fn webp(b: &[u8]) -> Result<(u32, u32)> {
    let truncated = |what: &str| bad("WebP", format_args!("truncated before the end of {what}"));
    let chunk = array::<4>(b, 12).ok_or_else(|| truncated("the first chunk header"))?;
    match &chunk {
        b"VP8 " => {
            // Frame tag (3 bytes), start code 9D 01 2A, then 14-bit width and height (2 scale bits).
            let tag = b.get(20).ok_or_else(|| truncated("the VP8 frame header"))?;
            if tag & 1 != 0 {
                return Err(bad("WebP", "the VP8 frame is not a key frame"));
            }
            let start = array::<3>(b, 23).ok_or_else(|| truncated("the VP8 frame header"))?;
            if start != [0x9D, 0x01, 0x2A] {
                return Err(bad("WebP", "the VP8 start code is missing"));
            }
            let width = le16(b, 26).ok_or_else(|| truncated("the VP8 frame header"))? & 0x3FFF;
            let height = le16(b, 28).ok_or_else(|| truncated("the VP8 frame header"))? & 0x3FFF;
            nonzero("WebP", width.into(), height.into())
        }
        b"VP8L" => {
            // Signature 0x2F, then width-1 and height-1 as 14-bit fields and a 3-bit version (0).
            let sig = b.get(20).ok_or_else(|| truncated("the VP8L header"))?;
            if *sig != 0x2F {
                return Err(bad("WebP", "the VP8L signature byte is not 0x2F"));
            }
            let bits = array::<4>(b, 21).map(u32::from_le_bytes).ok_or_else(|| truncated("the VP8L header"))?;
            if bits >> 29 != 0 {
                return Err(bad("WebP", "unknown VP8L version"));
            }
            Ok(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8X" => {
            // Flags (1 byte), reserved (3), then canvas width-1 and height-1 as 24-bit fields.
            let width = le24(b, 24).ok_or_else(|| truncated("the VP8X header"))?;
            let height = le24(b, 27).ok_or_else(|| truncated("the VP8X header"))?;
            Ok((width + 1, height + 1))
        }
        _ => Err(bad("WebP", format_args!("unknown first chunk `{}`", String::from_utf8_lossy(&chunk).escape_debug()))),
    }
}

/// JPEG: walk the marker segments from SOI to the first start-of-frame (SOF0–SOF15 except DHT 0xC4,
/// JPG 0xC8 and DAC 0xCC), which holds the height and width.
fn jpeg(b: &[u8]) -> Result<(u32, u32)> {
    let truncated = || bad("JPEG", "truncated before the frame header (SOF)");
    let mut pos = 2; // after SOI
    loop {
        match b.get(pos) {
            Some(0xFF) => {}
            Some(other) => {
                return Err(bad("JPEG", format_args!("expected a marker at offset {pos}, found 0x{other:02X}")));
            }
            None => return Err(truncated()),
        }
        // Any number of 0xFF fill bytes may precede the marker code.
        while b.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *b.get(pos).ok_or_else(truncated)?;
        pos += 1;
        match marker {
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                // Segment length (2), sample precision (1), height (2), width (2).
                let height = be16(b, pos + 3).ok_or_else(truncated)?;
                let width = be16(b, pos + 5).ok_or_else(truncated)?;
                return nonzero("JPEG", width.into(), height.into());
            }
            // Standalone markers carry no length: TEM, RST0–RST7 and a repeated SOI.
            0x01 | 0xD0..=0xD8 => {}
            0xD9 => return Err(bad("JPEG", "end of image before any frame header (SOF)")),
            0xDA => return Err(bad("JPEG", "scan data before any frame header (SOF)")),
            0x00 => {
                return Err(bad("JPEG", format_args!("invalid marker 0x00 at offset {}", pos - 1)));
            }
            _ => {
                let len = be16(b, pos).ok_or_else(truncated)?;
                if len < 2 {
                    return Err(bad("JPEG", format_args!("segment 0x{marker:02X} has invalid length {len}")));
                }
                // `len` counts its own two bytes, so `pos` always advances.
                pos += usize::from(len);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut v = PNG_SIGNATURE.to_vec();
        v.extend_from_slice(&13u32.to_be_bytes());
        v.extend_from_slice(b"IHDR");
        v.extend_from_slice(&width.to_be_bytes());
        v.extend_from_slice(&height.to_be_bytes());
        v
    }

    fn gif(width: u16, height: u16) -> Vec<u8> {
        let mut v = b"GIF89a".to_vec();
        v.extend_from_slice(&width.to_le_bytes());
        v.extend_from_slice(&height.to_le_bytes());
        v
    }

    fn riff_webp(chunk: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = b"RIFF".to_vec();
        v.extend_from_slice(&((12 + payload.len()) as u32).to_le_bytes());
        v.extend_from_slice(b"WEBP");
        v.extend_from_slice(chunk);
        v.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn webp_vp8(width: u16, height: u16) -> Vec<u8> {
        let mut p = vec![0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A];
        // The top two bits are the scaling field, which is not part of the size.
        p.extend_from_slice(&(width | 0x4000).to_le_bytes());
        p.extend_from_slice(&(height | 0x8000).to_le_bytes());
        riff_webp(b"VP8 ", &p)
    }

    fn webp_vp8l(width: u32, height: u32) -> Vec<u8> {
        let bits = (width - 1) | ((height - 1) << 14) | (1 << 28); // alpha hint set, version 0
        let mut p = vec![0x2F];
        p.extend_from_slice(&bits.to_le_bytes());
        riff_webp(b"VP8L", &p)
    }

    fn webp_vp8x(width: u32, height: u32) -> Vec<u8> {
        let mut p = vec![0x10, 0, 0, 0];
        p.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
        p.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
        riff_webp(b"VP8X", &p)
    }

    /// SOI, an APP0 (JFIF) segment, a TEM standalone marker, a DHT segment whose bytes would read as
    /// a bogus size if mistaken for a frame header, fill bytes, then SOF2 (progressive).
    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        v.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
        v.extend_from_slice(b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00");
        v.extend_from_slice(&[0xFF, 0x01]);
        v.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x07, 0x00, 0x12, 0x34, 0x56, 0x78]);
        v.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xC2, 0x00, 0x11, 0x08]);
        v.extend_from_slice(&height.to_be_bytes());
        v.extend_from_slice(&width.to_be_bytes());
        v
    }

    fn fixtures() -> Vec<(&'static str, Vec<u8>, (u32, u32))> {
        vec![
            ("PNG", png(640, 480), (640, 480)),
            ("GIF", gif(320, 200), (320, 200)),
            ("WebP VP8", webp_vp8(1024, 768), (1024, 768)),
            ("WebP VP8L", webp_vp8l(16383, 1), (16383, 1)),
            ("WebP VP8X", webp_vp8x(1 << 24, 3000), (1 << 24, 3000)),
            ("JPEG", jpeg(1920, 1080), (1920, 1080)),
        ]
    }

    #[test]
    fn reads_dimensions_of_every_format() {
        for (name, bytes, want) in fixtures() {
            assert_eq!(image_dimensions(&bytes).unwrap(), want, "{name}");
        }
        // Trailing data after the header changes nothing.
        let mut long = png(1, 2);
        long.extend_from_slice(&[0; 100]);
        assert_eq!(image_dimensions(&long).unwrap(), (1, 2));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        for (name, bytes, _) in fixtures() {
            for n in 0..bytes.len() {
                let err = image_dimensions(&bytes[..n]).expect_err(&format!("{name} truncated to {n} bytes"));
                assert!(matches!(err, Error::InvalidInput(_)), "{name}/{n}: {err}");
            }
        }
        let err = image_dimensions(&png(1, 1)[..20]).unwrap_err().to_string();
        assert!(err.contains("PNG") && err.contains("truncated"), "{err}");
    }

    #[test]
    fn corrupt_headers_name_the_format_and_problem() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (png(0, 5), "PNG image: the header gives a zero dimension"),
            (
                {
                    let mut v = png(1, 1);
                    v[12..16].copy_from_slice(b"IDAT");
                    v
                },
                "PNG image: the first chunk is not IHDR",
            ),
            (gif(0, 0), "GIF image: the header gives a zero dimension"),
            (riff_webp(b"ALPH", &[0; 10]), "WebP image: unknown first chunk"),
            (
                {
                    let mut v = webp_vp8(1, 1);
                    v[23] = 0;
                    v
                },
                "WebP image: the VP8 start code is missing",
            ),
            (
                {
                    let mut v = webp_vp8l(1, 1);
                    v[20] = 0;
                    v
                },
                "WebP image: the VP8L signature",
            ),
            (vec![0xFF, 0xD8, 0xFF, 0xD9], "JPEG image: end of image before"),
            (vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08], "JPEG image: scan data before"),
            (vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01, 0xFF], "JPEG image: segment 0xE1 has invalid length 1"),
            (vec![0xFF, 0xD8, 0x12, 0x34], "JPEG image: expected a marker at offset 2"),
            (vec![0xFF, 0xD8, 0xFF, 0x00], "JPEG image: invalid marker 0x00"),
            (b"BM\0\0\0\0".to_vec(), "not a PNG, GIF, WebP or JPEG"),
        ];
        for (bytes, want) in cases {
            let err = image_dimensions(&bytes).unwrap_err().to_string();
            assert!(err.contains(want), "{err:?} does not contain {want:?}");
        }
    }

    #[test]
    fn jpeg_garbage_terminates() {
        // All fill bytes: runs off the end instead of looping.
        let mut v = vec![0xFF, 0xD8];
        v.extend(std::iter::repeat_n(0xFF, 10_000));
        assert!(image_dimensions(&v).is_err());
        // A chain of maximal segments that never reaches a frame header.
        let mut v = vec![0xFF, 0xD8];
        for _ in 0..4 {
            v.extend_from_slice(&[0xFF, 0xE1, 0xFF, 0xFF]);
            v.extend(std::iter::repeat_n(0, 0xFFFF - 2));
        }
        assert!(image_dimensions(&v).is_err());
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = image_dimensions(&bytes);
        }

        #[test]
        fn never_panics_after_a_valid_signature(
            which in 0usize..6,
            tail in proptest::collection::vec(any::<u8>(), 0..128),
        ) {
            let mut bytes = match which {
                0 => PNG_SIGNATURE.to_vec(),
                1 => b"GIF89a".to_vec(),
                2 => b"RIFF\0\0\0\0WEBPVP8 ".to_vec(),
                3 => b"RIFF\0\0\0\0WEBPVP8L".to_vec(),
                4 => b"RIFF\0\0\0\0WEBPVP8X".to_vec(),
                _ => vec![0xFF, 0xD8],
            };
            bytes.extend_from_slice(&tail);
            let _ = image_dimensions(&bytes);
        }
    }
}
