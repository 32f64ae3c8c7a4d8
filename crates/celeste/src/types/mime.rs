//! MIME types: the closed sets of the reference (image, video, audio, document, application) plus a
//! lenient [`MimeType::Other`] for anything else, with parsing, file-extension lookup and magic-byte
//! sniffing.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::types::enums::InputType;

/// A MIME type.
///
/// The named variants are the reference's sets. Anything else parses to [`MimeType::Other`], which
/// holds the lowercased `type/subtype` without parameters; build `Other` values by parsing so that a
/// known type never ends up as `Other` (`"image/PNG".parse()` gives [`MimeType::ImagePng`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MimeType {
    /// `image/png`.
    ImagePng,
    /// `image/jpeg`.
    ImageJpeg,
    /// `image/webp`.
    ImageWebp,
    /// `image/bmp`.
    ImageBmp,
    /// `image/tiff`.
    ImageTiff,
    /// `image/gif`.
    ImageGif,
    /// `video/mp4`.
    VideoMp4,
    /// `video/x-msvideo` (AVI).
    VideoAvi,
    /// `video/quicktime` (MOV).
    VideoQuicktime,
    /// `audio/mpeg` (MP3).
    AudioMpeg,
    /// `audio/wav`.
    AudioWav,
    /// `audio/ogg`.
    AudioOgg,
    /// `audio/webm`.
    AudioWebm,
    /// `audio/aac`.
    AudioAac,
    /// `audio/flac`.
    AudioFlac,
    /// `audio/aiff`.
    AudioAiff,
    /// `audio/mp4` (M4A).
    AudioMp4,
    /// `audio/x-ms-wma`.
    AudioWma,
    /// `audio/pcm` (raw samples; cannot be sniffed).
    AudioPcm,
    /// `application/pdf`.
    Pdf,
    /// `application/vnd.openxmlformats-officedocument.wordprocessingml.document` (Word).
    Docx,
    /// `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` (Excel).
    Xlsx,
    /// `application/vnd.openxmlformats-officedocument.presentationml.presentation` (PowerPoint).
    Pptx,
    /// `text/csv`.
    TextCsv,
    /// `text/plain`.
    TextPlain,
    /// `text/html`.
    TextHtml,
    /// `text/markdown`.
    TextMarkdown,
    /// `application/json`.
    Json,
    /// `application/octet-stream`.
    OctetStream,
    /// Any other `type/subtype`, lowercased, without parameters.
    Other(String),
}

/// Every named variant, for parsing by canonical name.
const KNOWN: &[MimeType] = &[
    MimeType::ImagePng,
    MimeType::ImageJpeg,
    MimeType::ImageWebp,
    MimeType::ImageBmp,
    MimeType::ImageTiff,
    MimeType::ImageGif,
    MimeType::VideoMp4,
    MimeType::VideoAvi,
    MimeType::VideoQuicktime,
    MimeType::AudioMpeg,
    MimeType::AudioWav,
    MimeType::AudioOgg,
    MimeType::AudioWebm,
    MimeType::AudioAac,
    MimeType::AudioFlac,
    MimeType::AudioAiff,
    MimeType::AudioMp4,
    MimeType::AudioWma,
    MimeType::AudioPcm,
    MimeType::Pdf,
    MimeType::Docx,
    MimeType::Xlsx,
    MimeType::Pptx,
    MimeType::TextCsv,
    MimeType::TextPlain,
    MimeType::TextHtml,
    MimeType::TextMarkdown,
    MimeType::Json,
    MimeType::OctetStream,
];

impl MimeType {
    /// The full `type/subtype`, e.g. `audio/mp4`.
    pub fn as_str(&self) -> &str {
        match self {
            MimeType::ImagePng => "image/png",
            MimeType::ImageJpeg => "image/jpeg",
            MimeType::ImageWebp => "image/webp",
            MimeType::ImageBmp => "image/bmp",
            MimeType::ImageTiff => "image/tiff",
            MimeType::ImageGif => "image/gif",
            MimeType::VideoMp4 => "video/mp4",
            MimeType::VideoAvi => "video/x-msvideo",
            MimeType::VideoQuicktime => "video/quicktime",
            MimeType::AudioMpeg => "audio/mpeg",
            MimeType::AudioWav => "audio/wav",
            MimeType::AudioOgg => "audio/ogg",
            MimeType::AudioWebm => "audio/webm",
            MimeType::AudioAac => "audio/aac",
            MimeType::AudioFlac => "audio/flac",
            MimeType::AudioAiff => "audio/aiff",
            MimeType::AudioMp4 => "audio/mp4",
            MimeType::AudioWma => "audio/x-ms-wma",
            MimeType::AudioPcm => "audio/pcm",
            MimeType::Pdf => "application/pdf",
            MimeType::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            MimeType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            MimeType::Pptx => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            MimeType::TextCsv => "text/csv",
            MimeType::TextPlain => "text/plain",
            MimeType::TextHtml => "text/html",
            MimeType::TextMarkdown => "text/markdown",
            MimeType::Json => "application/json",
            MimeType::OctetStream => "application/octet-stream",
            MimeType::Other(s) => s,
        }
    }

    /// Which kind of input this is. The application types (`json`, `octet-stream`) are none; an
    /// [`MimeType::Other`] is classified by its top-level type (`image/*`, `video/*`, `audio/*`) and is
    /// otherwise none.
    pub fn input_type(&self) -> Option<InputType> {
        use MimeType as M;
        match self {
            M::ImagePng | M::ImageJpeg | M::ImageWebp | M::ImageBmp | M::ImageTiff | M::ImageGif => {
                Some(InputType::Image)
            }
            M::VideoMp4 | M::VideoAvi | M::VideoQuicktime => Some(InputType::Video),
            M::AudioMpeg
            | M::AudioWav
            | M::AudioOgg
            | M::AudioWebm
            | M::AudioAac
            | M::AudioFlac
            | M::AudioAiff
            | M::AudioMp4
            | M::AudioWma
            | M::AudioPcm => Some(InputType::Audio),
            M::Pdf | M::Docx | M::Xlsx | M::Pptx | M::TextCsv | M::TextPlain | M::TextHtml | M::TextMarkdown => {
                Some(InputType::Document)
            }
            M::Json | M::OctetStream => None,
            M::Other(s) => match s.split_once('/').map(|(top, _)| top) {
                Some("image") => Some(InputType::Image),
                Some("video") => Some(InputType::Video),
                Some("audio") => Some(InputType::Audio),
                _ => None,
            },
        }
    }

    /// The MIME type for a file extension (`"png"`, `".PNG"`), or `None` when the extension is not one
    /// of the reference types. `.webm` is `None`: it may be audio or video, and only `audio/webm` is
    /// in the reference sets (`.weba` is audio).
    pub fn from_extension(ext: &str) -> Option<MimeType> {
        let ext = ext.trim().trim_start_matches('.').to_ascii_lowercase();
        Some(match ext.as_str() {
            "png" => MimeType::ImagePng,
            "jpg" | "jpeg" | "jpe" | "jfif" => MimeType::ImageJpeg,
            "webp" => MimeType::ImageWebp,
            "bmp" | "dib" => MimeType::ImageBmp,
            "tif" | "tiff" => MimeType::ImageTiff,
            "gif" => MimeType::ImageGif,
            "mp4" => MimeType::VideoMp4,
            "avi" => MimeType::VideoAvi,
            "mov" | "qt" => MimeType::VideoQuicktime,
            "mp3" | "mpga" => MimeType::AudioMpeg,
            "wav" | "wave" => MimeType::AudioWav,
            "ogg" | "oga" | "opus" => MimeType::AudioOgg,
            "weba" => MimeType::AudioWebm,
            "aac" => MimeType::AudioAac,
            "flac" => MimeType::AudioFlac,
            "aif" | "aiff" | "aifc" => MimeType::AudioAiff,
            "m4a" => MimeType::AudioMp4,
            "wma" => MimeType::AudioWma,
            "pcm" => MimeType::AudioPcm,
            "pdf" => MimeType::Pdf,
            "docx" => MimeType::Docx,
            "xlsx" => MimeType::Xlsx,
            "pptx" => MimeType::Pptx,
            "csv" => MimeType::TextCsv,
            "txt" | "text" => MimeType::TextPlain,
            "html" | "htm" => MimeType::TextHtml,
            "md" | "markdown" => MimeType::TextMarkdown,
            "json" => MimeType::Json,
            "bin" => MimeType::OctetStream,
            _ => return None,
        })
    }

    /// Detects the type of `bytes` from their magic numbers, mapping only onto the reference sets:
    /// a recognised format outside them (ZIP, video/webm, HEIF, ...) and anything unrecognised
    /// (raw PCM, plain text, JSON, ...) is `None`. Office Open XML files (docx, xlsx, pptx) are told
    /// apart by their first ZIP entries; one that cannot be told apart is `None`, never a guess. A
    /// bare `BM` prefix (common at the start of text) is not taken for a bitmap.
    pub fn sniff(bytes: &[u8]) -> Option<MimeType> {
        // `infer` reports its own MIME names; map them explicitly rather than through our aliases so
        // that a new infer type never silently lands on one of ours.
        let kind = infer::get(bytes)?;
        Some(match kind.mime_type() {
            "image/png" => MimeType::ImagePng,
            "image/jpeg" => MimeType::ImageJpeg,
            "image/webp" => MimeType::ImageWebp,
            // infer takes any `BM` prefix for a bitmap, which plain text often starts with.
            "image/bmp" if plausible_bmp(bytes) => MimeType::ImageBmp,
            "image/tiff" => MimeType::ImageTiff,
            "image/gif" => MimeType::ImageGif,
            "video/mp4" => MimeType::VideoMp4,
            "video/x-msvideo" => MimeType::VideoAvi,
            "video/quicktime" => MimeType::VideoQuicktime,
            "audio/mpeg" => MimeType::AudioMpeg,
            "audio/x-wav" => MimeType::AudioWav,
            // Opus files are Ogg containers.
            "audio/ogg" | "audio/opus" => MimeType::AudioOgg,
            "audio/aac" => MimeType::AudioAac,
            "audio/x-flac" => MimeType::AudioFlac,
            "audio/x-aiff" => MimeType::AudioAiff,
            "audio/m4a" => MimeType::AudioMp4,
            "application/pdf" => MimeType::Pdf,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => MimeType::Docx,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => MimeType::Xlsx,
            "application/vnd.openxmlformats-officedocument.presentationml.presentation" => MimeType::Pptx,
            "text/html" => MimeType::TextHtml,
            _ => return None,
        })
    }
}

/// Whether a `BM`-prefixed buffer has a bitmap file header followed by a known DIB header size.
fn plausible_bmp(bytes: &[u8]) -> bool {
    let dib_size = bytes.get(14..18).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes);
    matches!(dib_size, Some(12 | 16 | 40 | 52 | 56 | 64 | 108 | 124))
}

/// The canonical variant for a lowercased essence, aliases included.
fn known(essence: &str) -> Option<MimeType> {
    if let Some(m) = KNOWN.iter().find(|m| m.as_str() == essence) {
        return Some(m.clone());
    }
    Some(match essence {
        "image/jpg" | "image/pjpeg" => MimeType::ImageJpeg,
        "image/x-png" => MimeType::ImagePng,
        "image/x-bmp" | "image/x-ms-bmp" => MimeType::ImageBmp,
        "image/tif" | "image/x-tiff" => MimeType::ImageTiff,
        "video/avi" | "video/msvideo" | "video/x-avi" => MimeType::VideoAvi,
        "audio/mp3" | "audio/mpeg3" | "audio/x-mp3" | "audio/x-mpeg" | "audio/mpg" => MimeType::AudioMpeg,
        "audio/x-wav" | "audio/wave" | "audio/vnd.wave" | "audio/x-pn-wav" => MimeType::AudioWav,
        "audio/x-ogg" => MimeType::AudioOgg,
        "audio/x-aac" => MimeType::AudioAac,
        "audio/x-flac" => MimeType::AudioFlac,
        "audio/x-aiff" => MimeType::AudioAiff,
        "audio/m4a" | "audio/x-m4a" => MimeType::AudioMp4,
        "audio/wma" => MimeType::AudioWma,
        "application/x-pdf" => MimeType::Pdf,
        "text/x-csv" | "application/csv" => MimeType::TextCsv,
        "text/x-markdown" => MimeType::TextMarkdown,
        "text/json" => MimeType::Json,
        _ => return None,
    })
}

impl fmt::Display for MimeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MimeType {
    type Err = Error;

    /// Parses a MIME type case-insensitively, ignoring parameters (`; charset=utf-8`) and normalising
    /// common aliases (`image/jpg`, `audio/mp3`, `audio/x-wav`, ...). Any well-formed `type/subtype`
    /// that is not a named variant becomes [`MimeType::Other`]; only a string that is not
    /// `type/subtype` at all is an error.
    fn from_str(s: &str) -> Result<Self> {
        let essence = s.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        let well_formed = match essence.split_once('/') {
            Some((top, sub)) => {
                !top.is_empty()
                    && !sub.is_empty()
                    && !sub.contains('/')
                    && !essence.contains(|c: char| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if !well_formed {
            return Err(Error::invalid_input(format!("invalid MIME type `{s}`: expected `type/subtype`")));
        }
        Ok(known(&essence).unwrap_or(MimeType::Other(essence)))
    }
}

impl serde::Serialize for MimeType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for MimeType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names_round_trip_through_parse_display_and_serde() {
        for m in KNOWN {
            assert_eq!(m.as_str().parse::<MimeType>().unwrap(), *m, "{m}");
            assert_eq!(m.to_string(), m.as_str());
            let json = serde_json::to_string(m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.as_str()));
            assert_eq!(serde_json::from_str::<MimeType>(&json).unwrap(), *m);
        }
        assert_eq!(MimeType::AudioMp4.as_str(), "audio/mp4");
        assert_eq!(MimeType::Docx.as_str(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
        assert_eq!(MimeType::VideoAvi.as_str(), "video/x-msvideo");
    }

    #[test]
    fn parsing_is_case_insensitive_ignores_parameters_and_normalises_aliases() {
        let cases = [
            ("IMAGE/PNG", MimeType::ImagePng),
            ("text/plain; charset=utf-8", MimeType::TextPlain),
            ("  Text/HTML;charset=UTF-8  ", MimeType::TextHtml),
            ("image/jpg", MimeType::ImageJpeg),
            ("audio/mp3", MimeType::AudioMpeg),
            ("audio/x-wav", MimeType::AudioWav),
            ("audio/wave", MimeType::AudioWav),
            ("audio/m4a", MimeType::AudioMp4),
            ("audio/x-flac", MimeType::AudioFlac),
            ("video/avi", MimeType::VideoAvi),
            ("application/json; charset=utf-8", MimeType::Json),
        ];
        for (s, want) in cases {
            assert_eq!(s.parse::<MimeType>().unwrap(), want, "{s}");
        }
    }

    #[test]
    fn unknown_types_are_other_and_round_trip() {
        let m: MimeType = "Application/X-Foo; a=b".parse().unwrap();
        assert_eq!(m, MimeType::Other("application/x-foo".into()));
        assert_eq!(m.to_string(), "application/x-foo");
        assert_eq!(m.to_string().parse::<MimeType>().unwrap(), m);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, "\"application/x-foo\"");
        assert_eq!(serde_json::from_str::<MimeType>(&json).unwrap(), m);
    }

    #[test]
    fn malformed_strings_are_errors() {
        for s in ["", "png", "image/", "/png", "image/png/x", "ima ge/png", ";charset=x"] {
            let err = s.parse::<MimeType>().unwrap_err();
            assert!(matches!(err, Error::InvalidInput(_)), "{s}: {err}");
        }
        assert!(serde_json::from_str::<MimeType>("\"png\"").is_err());
    }

    #[test]
    fn input_type_follows_the_reference_classes() {
        use InputType as I;
        let cases = [
            (MimeType::ImageGif, Some(I::Image)),
            (MimeType::VideoQuicktime, Some(I::Video)),
            (MimeType::AudioMp4, Some(I::Audio)),
            (MimeType::AudioPcm, Some(I::Audio)),
            (MimeType::Pdf, Some(I::Document)),
            (MimeType::Pptx, Some(I::Document)),
            (MimeType::TextPlain, Some(I::Document)),
            (MimeType::TextMarkdown, Some(I::Document)),
            (MimeType::Json, None),
            (MimeType::OctetStream, None),
            (MimeType::Other("image/avif".into()), Some(I::Image)),
            (MimeType::Other("video/webm".into()), Some(I::Video)),
            (MimeType::Other("audio/opus".into()), Some(I::Audio)),
            (MimeType::Other("text/xml".into()), None),
            (MimeType::Other("application/zip".into()), None),
        ];
        for (m, want) in cases {
            assert_eq!(m.input_type(), want, "{m}");
        }
        // Every named variant except the two application types has a class.
        let unclassified: Vec<_> = KNOWN.iter().filter(|m| m.input_type().is_none()).collect();
        assert_eq!(unclassified, [&MimeType::Json, &MimeType::OctetStream]);
    }

    #[test]
    fn extensions_map_onto_the_reference_sets() {
        assert_eq!(MimeType::from_extension("png"), Some(MimeType::ImagePng));
        assert_eq!(MimeType::from_extension(".JPG"), Some(MimeType::ImageJpeg));
        assert_eq!(MimeType::from_extension("m4a"), Some(MimeType::AudioMp4));
        assert_eq!(MimeType::from_extension("docx"), Some(MimeType::Docx));
        assert_eq!(MimeType::from_extension("md"), Some(MimeType::TextMarkdown));
        assert_eq!(MimeType::from_extension("webm"), None);
        assert_eq!(MimeType::from_extension("exe"), None);
        assert_eq!(MimeType::from_extension(""), None);
    }

    /// A minimal ZIP local file header whose entry is named `name`.
    fn zip_entry(name: &[u8]) -> Vec<u8> {
        let mut v = b"PK\x03\x04".to_vec();
        v.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, method, time, date
        v.extend_from_slice(&[0; 12]); // crc, compressed size, size
        v.extend_from_slice(&(name.len() as u16).to_le_bytes());
        v.extend_from_slice(&[0, 0]); // extra field length
        v.extend_from_slice(name);
        v
    }

    fn ftyp(brand: &[u8; 4]) -> Vec<u8> {
        let mut v = vec![0, 0, 0, 0x18];
        v.extend_from_slice(b"ftyp");
        v.extend_from_slice(brand);
        v.extend_from_slice(&[0; 12]);
        v
    }

    fn riff(form: &[u8; 4]) -> Vec<u8> {
        let mut v = b"RIFF".to_vec();
        v.extend_from_slice(&[0x24, 0, 0, 0]);
        v.extend_from_slice(form);
        v.extend_from_slice(&[0; 8]);
        v
    }

    #[test]
    fn sniffs_each_constructible_format() {
        let mut tiff_le = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
        tiff_le.extend_from_slice(&[0; 8]);
        let mut bmp = b"BM".to_vec();
        bmp.extend_from_slice(&[0; 12]);
        bmp.extend_from_slice(&40u32.to_le_bytes()); // BITMAPINFOHEADER
        let cases: Vec<(Vec<u8>, MimeType)> = vec![
            (b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec(), MimeType::ImagePng),
            (b"\xff\xd8\xff\xe0\0\x10JFIF\0".to_vec(), MimeType::ImageJpeg),
            (riff(b"WEBP"), MimeType::ImageWebp),
            (bmp, MimeType::ImageBmp),
            (tiff_le, MimeType::ImageTiff),
            (b"GIF89a\x01\0\x01\0".to_vec(), MimeType::ImageGif),
            (ftyp(b"isom"), MimeType::VideoMp4),
            (riff(b"AVI "), MimeType::VideoAvi),
            (ftyp(b"qt  "), MimeType::VideoQuicktime),
            (b"ID3\x04\0\0\0\0\0\0".to_vec(), MimeType::AudioMpeg),
            (b"\xff\xfb\x90\x00".to_vec(), MimeType::AudioMpeg),
            (riff(b"WAVE"), MimeType::AudioWav),
            (b"OggS\0\x02\0\0".to_vec(), MimeType::AudioOgg),
            (b"\xff\xf1\x50\x80".to_vec(), MimeType::AudioAac),
            (b"fLaC\0\0\0\x22".to_vec(), MimeType::AudioFlac),
            (b"FORM\0\0\0\x20AIFFCOMM".to_vec(), MimeType::AudioAiff),
            (ftyp(b"M4A "), MimeType::AudioMp4),
            (b"%PDF-1.7\n".to_vec(), MimeType::Pdf),
            (zip_entry(b"word/document.xml"), MimeType::Docx),
            (zip_entry(b"xl/workbook.xml"), MimeType::Xlsx),
            (zip_entry(b"ppt/presentation.xml"), MimeType::Pptx),
            (b"<!DOCTYPE html><html>".to_vec(), MimeType::TextHtml),
        ];
        for (bytes, want) in cases {
            assert_eq!(MimeType::sniff(&bytes), Some(want.clone()), "{want}");
        }
    }

    #[test]
    fn sniffs_office_files_in_the_usual_entry_order() {
        // Word, Excel and PowerPoint write `[Content_Types].xml` and `_rels/.rels` first, then the
        // parts under `word/`, `xl/` or `ppt/`; infer looks at the third and fourth entries.
        for (dir, want) in [("word", MimeType::Docx), ("xl", MimeType::Xlsx), ("ppt", MimeType::Pptx)] {
            let mut bytes = Vec::new();
            for name in [
                "[Content_Types].xml".to_owned(),
                "_rels/.rels".to_owned(),
                format!("{dir}/_rels/a.xml.rels"),
                format!("{dir}/a.xml"),
            ] {
                bytes.extend(zip_entry(name.as_bytes()));
                bytes.extend([0u8; 64]); // stands in for the compressed entry
            }
            assert_eq!(MimeType::sniff(&bytes), Some(want.clone()), "{want}");
        }
    }

    #[test]
    fn sniffing_never_guesses_outside_the_reference_sets() {
        // Raw PCM, text and JSON have no magic numbers.
        assert_eq!(MimeType::sniff(&[0x01, 0x00, 0xff, 0x7f, 0x00, 0x80]), None);
        assert_eq!(MimeType::sniff(b"hello, world"), None);
        assert_eq!(MimeType::sniff(b"BMW sales report, 2025 edition"), None);
        assert_eq!(MimeType::sniff(b"{\"a\": 1}"), None);
        assert_eq!(MimeType::sniff(b""), None);
        // A ZIP that is not Office Open XML, and one whose type cannot be told, are not guessed.
        assert_eq!(MimeType::sniff(&zip_entry(b"readme.txt")), None);
        assert_eq!(MimeType::sniff(&zip_entry(b"[Content_Types].xml")), None);
        // Known to infer but outside our sets.
        let mut webm = vec![0x1a, 0x45, 0xdf, 0xa3];
        webm.extend_from_slice(b"\x42\x82\x84webm");
        webm.resize(300, 0);
        assert_eq!(MimeType::sniff(&webm), None);
        assert_eq!(MimeType::sniff(&ftyp(b"heic")), None);
    }

    proptest::proptest! {
        #[test]
        fn sniff_never_panics_on_arbitrary_bytes(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
        ) {
            let _ = MimeType::sniff(&bytes);
        }

        /// The Office Open XML check follows offsets read from the data; feed it ZIP headers with
        /// random sizes followed by pieces that look like further entries.
        #[test]
        fn sniff_never_panics_on_zip_like_bytes(
            first in proptest::sample::select(vec![
                &b"[Content_Types].xml"[..], b"_rels/.rels", b"docProps/app.xml", b"word/x",
            ]),
            size in proptest::prelude::any::<u32>(),
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b"PK\x03\x04".to_vec()),
                    proptest::strategy::Just(b"word/".to_vec()),
                    proptest::strategy::Just(b"xl/".to_vec()),
                    proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
                ],
                0..32,
            ),
        ) {
            let mut bytes = zip_entry(first);
            bytes[18..22].copy_from_slice(&size.to_le_bytes());
            bytes.extend(pieces.concat());
            let _ = MimeType::sniff(&bytes);
        }
    }
}
