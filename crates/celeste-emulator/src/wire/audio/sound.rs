//! Real audio, made in code: a 440 Hz tone as 16-bit mono WAV or raw little-endian PCM, μ-law or A-law
//! bytes of silence, and MPEG-1 Layer III frames of silence (every frame's side information zero:
//! no coded samples, which any decoder plays as silence). Also the sniffing a transcription upload
//! needs: is it audio, and how long is a WAV.

use std::f64::consts::TAU;

/// A sound the emulator can make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sound {
    /// MP3 at 44.1 kHz, 128 kbit/s, mono.
    Mp3,
    /// WAV (RIFF, 16-bit PCM, mono) at this rate.
    Wav(u32),
    /// Raw 16-bit little-endian mono PCM at this rate.
    Pcm(u32),
    /// 8 kHz μ-law.
    Ulaw,
    /// 8 kHz A-law.
    Alaw,
}

/// Samples of a MPEG-1 Layer III frame.
const MP3_FRAME_SAMPLES: f64 = 1152.0;
/// A 128 kbit/s, 44.1 kHz, unpadded frame: `144 * 128000 / 44100` bytes.
const MP3_FRAME_BYTES: usize = 417;
/// Frame sync, MPEG-1, Layer III, no CRC; 128 kbit/s, 44.1 kHz, no padding; mono, original.
const MP3_HEADER: [u8; 4] = [0xFF, 0xFB, 0x90, 0xC4];

impl Sound {
    /// The `Content-Type` the providers send for it.
    pub fn content_type(self) -> &'static str {
        match self {
            Sound::Mp3 => "audio/mpeg",
            Sound::Wav(_) => "audio/wav",
            Sound::Pcm(_) => "audio/pcm",
            Sound::Ulaw => "audio/basic",
            Sound::Alaw => "audio/x-alaw-basic",
        }
    }

    /// `secs` seconds of it.
    pub fn render(self, secs: f64) -> Vec<u8> {
        match self {
            Sound::Mp3 => {
                let frames = (secs * 44_100.0 / MP3_FRAME_SAMPLES).ceil().max(1.0) as usize;
                let mut out = Vec::with_capacity(frames * MP3_FRAME_BYTES);
                for _ in 0..frames {
                    out.extend_from_slice(&MP3_HEADER);
                    out.resize(out.len() + MP3_FRAME_BYTES - MP3_HEADER.len(), 0);
                }
                out
            }
            Sound::Wav(rate) => {
                let pcm = tone(rate, secs);
                let mut out = Vec::with_capacity(44 + pcm.len());
                let data = pcm.len() as u32;
                out.extend_from_slice(b"RIFF");
                out.extend_from_slice(&(36 + data).to_le_bytes());
                out.extend_from_slice(b"WAVEfmt ");
                out.extend_from_slice(&16u32.to_le_bytes());
                out.extend_from_slice(&1u16.to_le_bytes()); // PCM
                out.extend_from_slice(&1u16.to_le_bytes()); // mono
                out.extend_from_slice(&rate.to_le_bytes());
                out.extend_from_slice(&(rate * 2).to_le_bytes());
                out.extend_from_slice(&2u16.to_le_bytes());
                out.extend_from_slice(&16u16.to_le_bytes());
                out.extend_from_slice(b"data");
                out.extend_from_slice(&data.to_le_bytes());
                out.extend_from_slice(&pcm);
                out
            }
            Sound::Pcm(rate) => tone(rate, secs),
            // Silence is 0xFF in μ-law and 0xD5 in A-law.
            Sound::Ulaw => vec![0xFF; (secs * 8000.0) as usize],
            Sound::Alaw => vec![0xD5; (secs * 8000.0) as usize],
        }
    }

    /// About `bytes` bytes of it (see `Reply::audio_bytes`): exactly that many for the raw formats
    /// (rounded down to whole 16-bit samples for PCM), the 44-byte header included for WAV, and as
    /// many whole MP3 frames as fit (at least one).
    pub fn render_bytes(self, bytes: usize) -> Vec<u8> {
        let per_second = |rate: u32| f64::from(rate) * 2.0;
        match self {
            Sound::Mp3 => {
                let frames = (bytes / MP3_FRAME_BYTES).max(1);
                self.render(frames as f64 * MP3_FRAME_SAMPLES / 44_100.0 - 1e-9)
            }
            Sound::Wav(rate) => self.render((bytes.saturating_sub(44) / 2 * 2) as f64 / per_second(rate)),
            Sound::Pcm(rate) => {
                let samples = bytes / 2;
                let mut pcm = tone(rate, samples as f64 / f64::from(rate));
                // Rounding of `secs * rate` may leave a sample out.
                pcm.resize(samples * 2, 0);
                pcm
            }
            Sound::Ulaw | Sound::Alaw => self.render(bytes as f64 / 8000.0 + 1e-9).into_iter().take(bytes).collect(),
        }
    }
}

/// A 440 Hz tone at a third of full scale, 16-bit little-endian mono.
fn tone(rate: u32, secs: f64) -> Vec<u8> {
    let n = (secs * f64::from(rate)) as usize;
    let mut out = Vec::with_capacity(n * 2);
    for i in 0..n {
        let s = (TAU * 440.0 * i as f64 / f64::from(rate)).sin() * f64::from(i16::MAX) / 3.0;
        out.extend_from_slice(&(s as i16).to_le_bytes());
    }
    out
}

/// Whether `b` starts like an audio file of the formats the transcription APIs take: WAV, MP3 (ID3 or
/// a frame sync), Ogg, FLAC, MP4/M4A, WebM.
pub(crate) fn is_audio(b: &[u8]) -> bool {
    let wav = b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WAVE";
    let mp3 = b.starts_with(b"ID3") || (b.len() >= 2 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0);
    let mp4 = b.len() >= 8 && &b[4..8] == b"ftyp";
    wav || mp3 || mp4 || b.starts_with(b"OggS") || b.starts_with(b"fLaC") || b.starts_with(&[0x1A, 0x45, 0xDF, 0xA3])
}

/// The length of a WAV in seconds, from its `fmt ` and `data` chunks.
pub(crate) fn wav_seconds(b: &[u8]) -> Option<f64> {
    if b.len() < 12 || &b[..4] != b"RIFF" || &b[8..12] != b"WAVE" {
        return None;
    }
    let u32_at = |i: usize| b.get(i..i + 4).map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]));
    let (mut at, mut byte_rate) = (12usize, None);
    while at + 8 <= b.len() {
        let len = u32_at(at + 4)? as usize;
        match &b[at..at + 4] {
            b"fmt " => byte_rate = u32_at(at + 16),
            b"data" => return byte_rate.filter(|r| *r > 0).map(|r| len.min(b.len() - at - 8) as f64 / f64::from(r)),
            _ => {}
        }
        at = at.checked_add(8 + len + len % 2)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_is_well_formed_and_its_length_reads_back() {
        let wav = Sound::Wav(16_000).render(0.5);
        assert_eq!(wav.len(), 44 + 16_000);
        assert!(is_audio(&wav));
        assert_eq!(wav_seconds(&wav), Some(0.5));
        // The tone is not silence.
        assert!(wav[44..].iter().any(|b| *b != 0));
    }

    #[test]
    fn mp3_frames_have_the_sync_and_the_frame_length() {
        let mp3 = Sound::Mp3.render(0.1);
        assert_eq!(mp3.len() % MP3_FRAME_BYTES, 0);
        assert_eq!(mp3.len() / MP3_FRAME_BYTES, 4);
        assert!(mp3.chunks(MP3_FRAME_BYTES).all(|f| f[..4] == MP3_HEADER));
        assert!(is_audio(&mp3));
    }

    #[test]
    fn audio_of_a_given_size() {
        assert_eq!(Sound::Pcm(24_000).render_bytes(1_000_000).len(), 1_000_000);
        assert_eq!(Sound::Pcm(24_000).render_bytes(1_001).len(), 1_000);
        assert_eq!(Sound::Ulaw.render_bytes(12_345).len(), 12_345);
        assert_eq!(Sound::Alaw.render_bytes(7).len(), 7);
        let wav = Sound::Wav(16_000).render_bytes(44 + 32_000);
        assert_eq!(wav.len(), 44 + 32_000);
        assert_eq!(wav_seconds(&wav), Some(1.0));
        let mp3 = Sound::Mp3.render_bytes(10 * MP3_FRAME_BYTES + 100);
        assert_eq!(mp3.len(), 10 * MP3_FRAME_BYTES);
        assert!(mp3.chunks(MP3_FRAME_BYTES).all(|f| f[..4] == MP3_HEADER));
        assert_eq!(Sound::Mp3.render_bytes(0).len(), MP3_FRAME_BYTES);
    }

    #[test]
    fn non_audio_is_refused() {
        assert!(!is_audio(b"%PDF-1.7"));
        assert!(!is_audio(b"hello"));
        assert!(!is_audio(&[]));
        assert_eq!(wav_seconds(b"RIFF\0\0\0\0WAVE"), None);
    }
}
