//! What audio calls give back: speech or music as an [`Audio`] artifact with its MIME type and, where
//! the bytes or the provider say, its duration and sample rate. Nothing here knows about builders,
//! clients or wire formats.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::types::artifact::Artifact;
use crate::types::mime::MimeType;

/// Spoken or generated audio.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Audio {
    /// The audio: its bytes (typed by the requested format or the reply), or a URL the provider
    /// serves it at.
    pub artifact: Artifact,
    /// Length in seconds, when known (read from a WAV header, or as the provider reports it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Samples per second, when known (a WAV header, a `rate=` MIME parameter, the requested format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    /// Text the provider sent with the audio, in order (Lyria's lyrics and song structure).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text: Vec<String>,
}

impl Audio {
    /// Audio from an artifact; duration and sample rate are read from a WAV header when the bytes
    /// have one.
    pub fn new(artifact: Artifact) -> Self {
        let wav = artifact.data.as_deref().and_then(wav_info);
        Audio { artifact, duration: wav.map(|w| w.duration), sample_rate: wav.map(|w| w.sample_rate), text: Vec::new() }
    }

    /// The MIME type of the audio, when known.
    pub fn mime(&self) -> Option<MimeType> {
        self.artifact.mime()
    }

    /// Write the audio's bytes to `path` (see [`Artifact::save`]).
    pub async fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.artifact.save(path).await
    }
}

/// What a WAV header says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct WavInfo {
    pub sample_rate: u32,
    pub duration: f64,
}

/// Reads a RIFF/WAVE header: the `fmt ` chunk's rate and block size, and the `data` chunk's length
/// (bounded by the bytes present, so a streamed header that announces more still gives a length).
pub(crate) fn wav_info(bytes: &[u8]) -> Option<WavInfo> {
    wav_info_sized(bytes, bytes.len())
}

/// [`wav_info`] of a WAV of `total` bytes of which only the first, `bytes`, are at hand (a stream that
/// did not keep its audio keeps its first chunk, which holds the header).
pub(crate) fn wav_info_sized(bytes: &[u8], total: usize) -> Option<WavInfo> {
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return None;
    }
    let u32_at = |i: usize| bytes.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let u16_at = |i: usize| bytes.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let (mut at, mut rate, mut block) = (12usize, None, None);
    while at.checked_add(8)? <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32_at(at + 4)? as usize;
        let body = at + 8;
        if id == b"fmt " {
            rate = u32_at(body + 4);
            block = u16_at(body + 12);
        } else if id == b"data" {
            let (rate, block) = (rate?, block?);
            if rate == 0 || block == 0 {
                return None;
            }
            let present = len.min(total.max(bytes.len()) - body);
            let frames = present / usize::from(block);
            return Some(WavInfo { sample_rate: rate, duration: frames as f64 / f64::from(rate) });
        }
        at = body.checked_add(len)?.checked_add(len % 2)?;
    }
    None
}

/// A `rate=` parameter of a MIME type (`audio/pcm;rate=24000`, `audio/L16;codec=pcm;rate=24000`).
pub(crate) fn mime_rate(mime: &str) -> Option<u32> {
    mime.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("rate").then(|| v.trim().parse().ok()).flatten()
    })
}

/// A mono 16-bit WAV of `frames` silent frames at `rate` (test data).
#[cfg(test)]
pub(crate) fn test_wav(rate: u32, frames: u32) -> Vec<u8> {
    let data = frames * 2;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    b.resize(b.len() + data as usize, 0);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(rate: u32, frames: u32) -> Vec<u8> {
        test_wav(rate, frames)
    }

    #[test]
    fn wav_headers_give_rate_and_duration() {
        let a = Audio::new(Artifact::from_bytes(wav(8000, 4000)));
        assert_eq!(a.sample_rate, Some(8000));
        assert_eq!(a.duration, Some(0.5));
        assert_eq!(a.mime(), Some(MimeType::AudioWav));
        // Not a WAV, or cut inside the header: nothing is made up.
        assert_eq!(Audio::new(Artifact::from_bytes(&b"ID3\x04"[..])).duration, None);
        assert!(wav_info(&wav(8000, 10)[..30]).is_none());
        assert!(wav_info(&[]).is_none());
    }

    #[test]
    fn rates_from_mime_parameters() {
        assert_eq!(mime_rate("audio/pcm;rate=24000"), Some(24000));
        assert_eq!(mime_rate("audio/L16; codec=pcm; rate=16000"), Some(16000));
        assert_eq!(mime_rate("audio/wav"), None);
    }
}
