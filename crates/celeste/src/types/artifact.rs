//! Artifacts: a piece of media (image, video, audio, document) given by URL, by bytes or by a file
//! path, with an optional MIME type and free-form metadata.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::types::image;
use crate::types::mime::MimeType;

/// A piece of media given by any of a URL, in-memory bytes or a file path.
///
/// An empty URL, empty data or empty path counts as absent, as in the reference. A path is read
/// lazily, only when the bytes are needed.
///
/// In JSON, `data` is a standard base64 string (decoding also accepts the URL-safe alphabet and
/// missing padding); `url`, `path`, `mime_type` and `metadata` are plain fields; absent ones are
/// skipped. A path that is not valid UTF-8 cannot be serialised.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Artifact {
    /// A URL the provider can fetch (`https://...`, `gs://...`, or a `data:` URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The content itself.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "base64_data")]
    pub data: Option<Bytes>,
    /// A local file holding the content, read on demand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// The MIME type, when known; see [`Artifact::mime`] for the detected one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<MimeType>,
    /// Free-form metadata, never sent to a provider by the artifact itself.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
}

/// Base64 decoding that takes standard or URL-safe input, padded or not, with any trailing bits.
const fn lenient(alphabet: &'static alphabet::Alphabet) -> GeneralPurpose {
    GeneralPurpose::new(
        alphabet,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}
const LENIENT_STANDARD: GeneralPurpose = lenient(&alphabet::STANDARD);
const LENIENT_URL_SAFE: GeneralPurpose = lenient(&alphabet::URL_SAFE);

/// Decodes base64 in either alphabet, with or without padding, ignoring ASCII whitespace (line
/// breaks in wrapped base64).
fn decode_base64(s: &str) -> Result<Vec<u8>> {
    let compact;
    let mut s = s.trim();
    if s.contains(|c: char| c.is_ascii_whitespace()) {
        compact = s.chars().filter(|c| !c.is_ascii_whitespace()).collect::<String>();
        s = &compact;
    }
    let engine = if s.contains(['-', '_']) { &LENIENT_URL_SAFE } else { &LENIENT_STANDARD };
    // The error names the offending byte and offset; the payload itself may be huge, so it stays out.
    engine.decode(s).map_err(|e| Error::invalid_input(format!("invalid base64 data: {e}")))
}

/// Serde for `data`: standard base64 out, lenient base64 in.
mod base64_data {
    use super::*;

    pub(super) fn serialize<S: serde::Serializer>(data: &Option<Bytes>, s: S) -> std::result::Result<S::Ok, S::Error> {
        match data {
            Some(d) => s.serialize_str(&STANDARD.encode(d)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Bytes>, D::Error> {
        struct Visitor;

        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Option<Bytes>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a base64 string or null")
            }

            fn visit_str<E: serde::de::Error>(self, s: &str) -> std::result::Result<Self::Value, E> {
                decode_base64(s).map(|v| Some(Bytes::from(v))).map_err(E::custom)
            }

            fn visit_none<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
                d.deserialize_str(self)
            }
        }

        d.deserialize_option(Visitor)
    }
}

impl Artifact {
    /// An artifact the provider fetches from `url`.
    pub fn from_url(url: impl Into<String>) -> Self {
        Artifact { url: Some(url.into()), ..Default::default() }
    }

    /// An artifact holding `data` in memory.
    pub fn from_bytes(data: impl Into<Bytes>) -> Self {
        Artifact { data: Some(data.into()), ..Default::default() }
    }

    /// An artifact from base64 text: standard or URL-safe alphabet, padded or not, line breaks
    /// allowed. A full `data:` URL (`data:image/png;base64,...`) is accepted too, and its MIME type
    /// becomes [`Artifact::mime_type`].
    ///
    /// Fails with [`Error::InvalidInput`] on invalid base64, or a `data:` URL that is malformed or not
    /// base64-encoded.
    pub fn from_base64(s: &str) -> Result<Self> {
        let s = s.trim();
        let is_data_url = s.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("data:"));
        if !is_data_url {
            return Ok(Artifact::from_bytes(decode_base64(s)?));
        }
        let (meta, payload) =
            s[5..].split_once(',').ok_or_else(|| Error::invalid_input("malformed data URL: no `,` before the data"))?;
        let mut params = meta.split(';');
        let media_type = params.next().unwrap_or_default().trim();
        if !params.any(|p| p.trim().eq_ignore_ascii_case("base64")) {
            return Err(Error::invalid_input("the data URL is not base64-encoded (no `;base64`)"));
        }
        let mut artifact = Artifact::from_bytes(decode_base64(payload)?);
        if !media_type.is_empty() {
            artifact.mime_type = Some(media_type.parse()?);
        }
        Ok(artifact)
    }

    /// An artifact backed by the file at `path`. The file is not read until the bytes are needed.
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        Artifact { path: Some(path.into()), ..Default::default() }
    }

    /// Sets the MIME type.
    pub fn with_mime_type(mut self, mime_type: MimeType) -> Self {
        self.mime_type = Some(mime_type);
        self
    }

    /// Adds one metadata entry.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    fn present_url(&self) -> Option<&str> {
        self.url.as_deref().filter(|u| !u.is_empty())
    }

    fn present_data(&self) -> Option<&Bytes> {
        self.data.as_ref().filter(|d| !d.is_empty())
    }

    fn present_path(&self) -> Option<&Path> {
        self.path.as_deref().filter(|p| !p.as_os_str().is_empty())
    }

    /// Whether the artifact has a (non-empty) URL, data or path.
    pub fn has_content(&self) -> bool {
        self.present_url().is_some() || self.present_data().is_some() || self.present_path().is_some()
    }

    /// The error for an artifact whose bytes are not available locally.
    fn no_bytes(&self) -> Error {
        // The URL itself stays out of the message: it may be a signed URL carrying a credential.
        if self.present_url().is_some() {
            Error::invalid_input(
                "the artifact has only a URL; its bytes are not available locally \
                 (give data or a path, or pass the URL to the provider)",
            )
        } else {
            Error::invalid_input("the artifact is empty: it has no data, path or URL")
        }
    }

    fn read_error(path: &Path, err: std::io::Error) -> Error {
        Error::invalid_input(format!("could not read artifact file `{}`: {err}", path.display()))
    }

    /// The content: the data, else the file at the path (read synchronously), else
    /// [`Error::InvalidInput`] (a URL-only or empty artifact, or an unreadable file).
    pub fn bytes(&self) -> Result<Bytes> {
        if let Some(d) = self.present_data() {
            return Ok(d.clone());
        }
        match self.present_path() {
            Some(p) => std::fs::read(p).map(Bytes::from).map_err(|e| Self::read_error(p, e)),
            None => Err(self.no_bytes()),
        }
    }

    /// Like [`Artifact::bytes`], reading the file without blocking the async runtime.
    pub async fn read_bytes(&self) -> Result<Bytes> {
        if let Some(d) = self.present_data() {
            return Ok(d.clone());
        }
        match self.present_path() {
            Some(p) => tokio::fs::read(p).await.map(Bytes::from).map_err(|e| Self::read_error(p, e)),
            None => Err(self.no_bytes()),
        }
    }

    /// The content as standard, padded base64 (see [`Artifact::bytes`] for where it comes from).
    pub fn base64(&self) -> Result<String> {
        Ok(STANDARD.encode(self.bytes()?))
    }

    /// The MIME type: the explicit one, else sniffed from the in-memory data, else from the path's
    /// file extension. A path's file is not read.
    pub fn mime(&self) -> Option<MimeType> {
        self.resolve_mime(self.present_data().map(|d| &d[..]))
    }

    fn resolve_mime(&self, content: Option<&[u8]>) -> Option<MimeType> {
        self.mime_type.clone().or_else(|| content.and_then(MimeType::sniff)).or_else(|| {
            self.present_path().and_then(Path::extension).and_then(|e| e.to_str()).and_then(MimeType::from_extension)
        })
    }

    /// A URL for the content: a URL-only artifact's URL as is; otherwise a
    /// `data:{mime};base64,...` URL built from the bytes (data, else the file, which is then also
    /// sniffed for its type).
    ///
    /// Fails with [`Error::InvalidInput`] when the MIME type is neither set nor detectable, when
    /// the file cannot be read, or when the artifact is empty.
    pub fn data_url(&self) -> Result<String> {
        if self.present_data().is_none() && self.present_path().is_none() {
            return match self.present_url() {
                Some(url) => Ok(url.to_owned()),
                None => Err(self.no_bytes()),
            };
        }
        let bytes = self.bytes()?;
        let mime = self.resolve_mime(Some(&bytes)).ok_or_else(|| {
            Error::invalid_input(
                "cannot build a data URL: the artifact's MIME type is unknown \
                 (not set, and not detectable from its bytes or file extension); \
                 set it with `with_mime_type`",
            )
        })?;
        Ok(format!("data:{mime};base64,{}", STANDARD.encode(&bytes)))
    }

    /// The `(width, height)` of an image artifact, read from the header of its bytes (see
    /// [`image::image_dimensions`]).
    pub fn image_dimensions(&self) -> Result<(u32, u32)> {
        image::image_dimensions(&self.bytes()?)
    }
}

impl fmt::Debug for Artifact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// Shows a length instead of content.
        struct Len(usize, &'static str);
        impl fmt::Debug for Len {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "<{} {}>", self.0, self.1)
            }
        }
        /// A URL, cut short when long (a `data:` URL can hold megabytes).
        struct ShortUrl<'a>(&'a str);
        impl fmt::Debug for ShortUrl<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                const MAX: usize = 96;
                if self.0.len() <= MAX {
                    return fmt::Debug::fmt(self.0, f);
                }
                let mut cut = MAX;
                while !self.0.is_char_boundary(cut) {
                    cut -= 1;
                }
                write!(f, "{:?}… <{} bytes>", &self.0[..cut], self.0.len())
            }
        }

        let mut d = f.debug_struct("Artifact");
        if let Some(url) = &self.url {
            d.field("url", &ShortUrl(url));
        }
        if let Some(data) = &self.data {
            d.field("data", &Len(data.len(), "bytes"));
        }
        if let Some(path) = &self.path {
            d.field("path", path);
        }
        if let Some(mime) = &self.mime_type {
            d.field("mime_type", &format_args!("{mime}"));
        }
        if !self.metadata.is_empty() {
            d.field("metadata", &self.metadata);
        }
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_1X1: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01";

    /// A file in the temp dir, removed on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, content: &[u8]) -> Self {
            let path = std::env::temp_dir().join(format!("celeste-artifact-test-{}-{name}", std::process::id()));
            std::fs::write(&path, content).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn has_content_counts_url_data_or_path_but_not_empty_ones() {
        assert!(!Artifact::default().has_content());
        assert!(Artifact::from_url("https://x/y.png").has_content());
        assert!(Artifact::from_bytes(&b"abc"[..]).has_content());
        assert!(Artifact::from_path("/nonexistent").has_content());
        assert!(!Artifact::from_url("").has_content());
        assert!(!Artifact::from_bytes(Vec::new()).has_content());
        assert!(!Artifact::from_path("").has_content());
        let meta_only = Artifact::default().with_metadata("k", 1);
        assert!(!meta_only.has_content());
    }

    #[test]
    fn bytes_prefer_data_then_path() {
        let file = TempFile::new("order.bin", b"from file");
        let mut a = Artifact::from_path(&file.0);
        assert_eq!(a.bytes().unwrap(), &b"from file"[..]);
        a.data = Some(Bytes::from_static(b"from data"));
        assert_eq!(a.bytes().unwrap(), &b"from data"[..]);
        assert_eq!(a.base64().unwrap(), STANDARD.encode("from data"));
        // Empty data is absent: the file is used.
        a.data = Some(Bytes::new());
        assert_eq!(a.bytes().unwrap(), &b"from file"[..]);
    }

    #[tokio::test]
    async fn read_bytes_reads_the_file_asynchronously() {
        let file = TempFile::new("async.bin", b"async");
        assert_eq!(Artifact::from_path(&file.0).read_bytes().await.unwrap(), &b"async"[..]);
        assert_eq!(Artifact::from_bytes(&b"mem"[..]).read_bytes().await.unwrap(), &b"mem"[..]);
        assert!(Artifact::from_url("https://x").read_bytes().await.is_err());
    }

    #[test]
    fn url_only_empty_and_unreadable_artifacts_have_no_bytes() {
        let err = Artifact::from_url("https://example.com/a.png?sig=secret").bytes().unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::InvalidInput(_)));
        assert!(msg.contains("only a URL"), "{msg}");
        assert!(!msg.contains("secret"), "{msg}");
        let msg = Artifact::default().bytes().unwrap_err().to_string();
        assert!(msg.contains("empty"), "{msg}");
        let err = Artifact::from_path("/nonexistent/celeste/x.png").bytes().unwrap_err();
        assert!(matches!(&err, Error::InvalidInput(m) if m.contains("/nonexistent/celeste/x.png")));
    }

    #[test]
    fn mime_is_explicit_then_sniffed_then_from_the_extension() {
        let a = Artifact::from_bytes(PNG_1X1);
        assert_eq!(a.mime(), Some(MimeType::ImagePng));
        let a = a.with_mime_type(MimeType::ImageGif);
        assert_eq!(a.mime(), Some(MimeType::ImageGif));
        // The path's file is not read; its extension decides.
        assert_eq!(Artifact::from_path("/nonexistent/doc.PDF").mime(), Some(MimeType::Pdf));
        let mut a = Artifact::from_path("/nonexistent/x.pdf");
        a.data = Some(Bytes::from_static(PNG_1X1));
        assert_eq!(a.mime(), Some(MimeType::ImagePng));
        assert_eq!(Artifact::from_bytes(&b"plain"[..]).mime(), None);
        assert_eq!(Artifact::from_url("https://x/y.png").mime(), None);
    }

    #[test]
    fn data_url_passes_urls_through_and_needs_a_mime_type() {
        assert_eq!(Artifact::from_url("https://x/y.png").data_url().unwrap(), "https://x/y.png");
        let png = Artifact::from_bytes(PNG_1X1);
        assert_eq!(png.data_url().unwrap(), format!("data:image/png;base64,{}", STANDARD.encode(PNG_1X1)));
        // Data wins over a URL.
        let mut both = png.clone();
        both.url = Some("https://x/y.png".into());
        assert!(both.data_url().unwrap().starts_with("data:image/png;base64,"));

        let err = Artifact::from_bytes(&b"no magic here"[..]).data_url().unwrap_err();
        assert!(matches!(&err, Error::InvalidInput(m) if m.contains("MIME type is unknown")));
        let explicit = Artifact::from_bytes(&b"hi"[..]).with_mime_type(MimeType::TextPlain);
        assert_eq!(explicit.data_url().unwrap(), "data:text/plain;base64,aGk=");
        assert!(Artifact::default().data_url().is_err());

        // A file without an extension is sniffed once read.
        let file = TempFile::new("noext", PNG_1X1);
        let from_file = Artifact::from_path(&file.0);
        assert_eq!(from_file.mime(), None);
        assert!(from_file.data_url().unwrap().starts_with("data:image/png;"));
    }

    #[test]
    fn from_base64_accepts_both_alphabets_padding_and_line_breaks() {
        let data: Vec<u8> = (0u8..=255).collect();
        let encoders = [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        for engine in encoders {
            let s = engine.encode(&data);
            assert_eq!(Artifact::from_base64(&s).unwrap().data.unwrap(), data);
        }
        let wrapped = STANDARD
            .encode(&data)
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n");
        assert_eq!(Artifact::from_base64(&wrapped).unwrap().data.unwrap(), data);
        assert!(Artifact::from_base64("not base64!").is_err());
        assert!(Artifact::from_base64("ab+c-d").is_err(), "mixed alphabets");
    }

    #[test]
    fn from_base64_parses_data_urls() {
        let url = format!("data:image/PNG;name=x.png;base64,{}", STANDARD.encode(PNG_1X1));
        let a = Artifact::from_base64(&url).unwrap();
        assert_eq!(a.mime_type, Some(MimeType::ImagePng));
        assert_eq!(a.data.as_deref(), Some(PNG_1X1));

        let a = Artifact::from_base64("DATA:audio/mp3;base64,aGk").unwrap();
        assert_eq!(a.mime_type, Some(MimeType::AudioMpeg));
        assert_eq!(a.data.as_deref(), Some(&b"hi"[..]));

        let a = Artifact::from_base64("data:;base64,aGk=").unwrap();
        assert_eq!(a.mime_type, None);

        let a = Artifact::from_base64(&png_data_url_round_trip()).unwrap();
        assert_eq!(a.data_url().unwrap(), png_data_url_round_trip());

        for bad in ["data:text/plain,hello", "data:image/png;base64", "data:png;base64,aGk="] {
            let err = Artifact::from_base64(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidInput(_)), "{bad}: {err}");
        }
    }

    fn png_data_url_round_trip() -> String {
        format!("data:image/png;base64,{}", STANDARD.encode(PNG_1X1))
    }

    #[test]
    fn json_round_trip_writes_base64_and_skips_absent_fields() {
        let data: Vec<u8> = (0u8..=255).rev().collect();
        let a =
            Artifact::from_bytes(data.clone()).with_mime_type(MimeType::OctetStream).with_metadata("source", "test");
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "data": STANDARD.encode(&data),
                "mime_type": "application/octet-stream",
                "metadata": {"source": "test"},
            })
        );
        let back: Artifact = serde_json::from_value(json).unwrap();
        assert_eq!(back, a);
        assert_eq!(back.data.as_deref(), Some(&data[..]));

        let a = Artifact::from_url("https://x/y.png").with_mime_type("image/avif".parse().unwrap());
        let s = serde_json::to_string(&a).unwrap();
        assert_eq!(s, r#"{"url":"https://x/y.png","mime_type":"image/avif"}"#);
        assert_eq!(serde_json::from_str::<Artifact>(&s).unwrap(), a);

        let a = Artifact::from_path("/tmp/a.wav");
        let s = serde_json::to_string(&a).unwrap();
        assert_eq!(s, r#"{"path":"/tmp/a.wav"}"#);
        assert_eq!(serde_json::from_str::<Artifact>(&s).unwrap(), a);

        // Lenient on the way in: URL-safe without padding, and null data.
        let a: Artifact = serde_json::from_str(r#"{"data":"_-8","url":null}"#).unwrap();
        assert_eq!(a.data.as_deref(), Some(&[0xff, 0xef][..]));
        let a: Artifact = serde_json::from_str(r#"{"data":null}"#).unwrap();
        assert_eq!(a, Artifact::default());
        assert!(serde_json::from_str::<Artifact>(r#"{"data":"!!"}"#).is_err());
        assert!(serde_json::from_str::<Artifact>(r#"{"data":[1,2]}"#).is_err());
    }

    #[test]
    fn debug_shows_the_data_length_not_the_data() {
        let a = Artifact::from_bytes(vec![b'Z'; 5_000_000]).with_mime_type(MimeType::ImagePng);
        let s = format!("{a:?}");
        assert!(s.contains("<5000000 bytes>"), "{s}");
        assert!(!s.contains("ZZZZ"), "{s}");
        assert!(s.len() < 200, "{s}");
        assert!(s.contains("image/png"), "{s}");

        let url = format!("data:image/png;base64,{}", "Q".repeat(1_000_000));
        let s = format!("{:?}", Artifact::from_url(url));
        assert!(s.len() < 300, "{s}");
        assert!(s.contains("1000022 bytes"), "{s}");
    }

    #[test]
    fn image_dimensions_reads_the_bytes() {
        assert_eq!(Artifact::from_bytes(PNG_1X1).image_dimensions().unwrap(), (1, 1));
        assert!(Artifact::from_url("https://x").image_dimensions().is_err());
        assert!(Artifact::from_bytes(&b"nope"[..]).image_dimensions().is_err());
    }
}
