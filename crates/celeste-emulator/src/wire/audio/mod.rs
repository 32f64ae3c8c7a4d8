//! The audio wire APIs: OpenAI `/v1/audio/speech` and the OpenAI-shaped transcriptions (OpenAI,
//! Groq, Mistral), ElevenLabs text-to-speech (voice in the path, `output_format` in the query,
//! `/stream`) and Scribe `/v1/speech-to-text`, and Gemini TTS and Lyria over Interactions (a request
//! whose `response_format.type` is `audio`).
//!
//! Speech is real, decodable audio made here ([`sound`]): a 440 Hz tone as WAV or raw PCM, μ-law or
//! A-law bytes, or MPEG-1 Layer III frames of silence; its length follows the text. The raw-audio
//! APIs always answer in chunks (as the real ones do), so a stream fault (reset, truncate, stall)
//! cuts or holds the audio mid-way; Interactions sends base64 audio deltas as SSE when asked to
//! stream. A transcription takes one audio file (its type is sniffed: a non-audio file is a 400) and
//! answers the reply's text with the provider's usage shape.

pub(crate) mod gradium;
pub(crate) mod sound;

use serde_json::{Value, json};

use super::images::{Answer, AnswerBody, BadField, Call, Endpoint, ImageApi, Payload, b64};
use super::{ErrorInfo, Events, openai_error_value, push_json, to_vec};
use sound::Sound;

/// The audio APIs served here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AudioApi {
    /// OpenAI `/v1/audio/speech`.
    OpenAiSpeech,
    /// `/v1/audio/transcriptions` (OpenAI, Mistral) and `/openai/v1/audio/transcriptions` (Groq).
    Transcription,
    /// ElevenLabs `/v1/text-to-speech/{voice}` and `.../stream`.
    ElevenLabsSpeech,
    /// ElevenLabs Scribe `/v1/speech-to-text`.
    ElevenLabsTranscription,
    /// Gemini TTS and Lyria over Interactions.
    Google,
}

/// Maps a path to an audio API, with its endpoint (the voice and output format of ElevenLabs).
pub(crate) fn route(path: &str, query: Option<&str>) -> Option<(AudioApi, Endpoint)> {
    match path {
        "/v1/audio/speech" => return Some((AudioApi::OpenAiSpeech, Endpoint::Create)),
        "/v1/audio/transcriptions" | "/openai/v1/audio/transcriptions" => {
            return Some((AudioApi::Transcription, Endpoint::Create));
        }
        "/v1/speech-to-text" => return Some((AudioApi::ElevenLabsTranscription, Endpoint::Create)),
        _ => {}
    }
    let rest = path.strip_prefix("/v1/text-to-speech/")?;
    let (voice, stream) = match rest.strip_suffix("/stream") {
        Some(v) => (v, true),
        None => (rest, false),
    };
    if voice.is_empty() || voice.contains('/') {
        return None;
    }
    let format = super::images::query_param(query, "output_format");
    Some((AudioApi::ElevenLabsSpeech, Endpoint::Speech { voice: voice.to_string(), format, stream }))
}

impl AudioApi {
    /// Whether the request is a multipart upload.
    pub fn takes_form(self) -> bool {
        matches!(self, AudioApi::Transcription | AudioApi::ElevenLabsTranscription)
    }

    /// The JSON body of an HTTP error, in the provider's shape.
    pub fn error_body(self, err: &ErrorInfo) -> Vec<u8> {
        match self {
            AudioApi::OpenAiSpeech | AudioApi::Transcription => to_vec(&openai_error_value(err)),
            AudioApi::ElevenLabsSpeech | AudioApi::ElevenLabsTranscription => to_vec(&json!({
                "detail": {"status": err.code.clone().unwrap_or_else(|| "invalid_request".into()), "message": err.message}
            })),
            AudioApi::Google => super::Api::Interactions.error_body(err),
        }
    }

    /// The in-stream error: an Interactions `error` event; a raw audio body has none (the connection
    /// is cut instead, which the stream fault's truncation already does).
    pub fn stream_error(self, err: &ErrorInfo) -> Events {
        let mut ev = Events::default();
        if self == AudioApi::Google {
            let mut v = super::gemini::error_value(err);
            v["event_type"] = json!("error");
            ev.sse(None, |b| push_json(b, &v));
        }
        ev
    }
}

/// Answers one audio request.
pub(crate) fn answer(call: &Call<'_>, api: AudioApi) -> Answer {
    let result = match api {
        AudioApi::OpenAiSpeech => openai_speech(call),
        AudioApi::ElevenLabsSpeech => elevenlabs_speech(call),
        AudioApi::Transcription | AudioApi::ElevenLabsTranscription => transcription(call, api),
        AudioApi::Google => google(call),
    };
    result.unwrap_or_else(|bad| Answer::bad_request(ImageApi::Audio(api), bad))
}

/// How long speech of `text` lasts: a twentieth of a second a character, within 0.2 s and 5 s.
fn seconds_for(text: &str) -> f64 {
    (text.chars().count() as f64 * 0.05).clamp(0.2, 5.0)
}

/// The speech of a call: `secs` long, or the reply's `audio_bytes` long when set.
fn speech(call: &Call<'_>, sound: Sound, secs: f64) -> Vec<u8> {
    match call.reply.audio_bytes {
        Some(bytes) => sound.render_bytes(bytes),
        None => sound.render(secs),
    }
}

/// Raw audio bytes in chunks (the reply's `chunks` when set, else 4 KiB each).
fn chunked(bytes: &[u8], content_type: &'static str, chunks: Option<usize>) -> Answer {
    let size = match chunks {
        Some(n) if n > 0 => bytes.len().div_ceil(n).max(1),
        _ => 4096,
    };
    let mut ev = Events::with_capacity(bytes.len(), bytes.len() / size + 1);
    for piece in bytes.chunks(size) {
        ev.raw(piece);
    }
    Answer { status: 200, content_type, headers: Vec::new(), body: AnswerBody::Stream(ev.finish()) }
}

fn openai_speech(call: &Call<'_>) -> Result<Answer, BadField> {
    let p = call.payload;
    p.required_str("model")?;
    let input = p.required_str("input")?;
    p.required_str("voice")?;
    let format = p.choice("response_format", &["mp3", "opus", "aac", "flac", "wav", "pcm"])?.unwrap_or("mp3");
    if let Some(speed) = p.get("speed").and_then(Value::as_f64)
        && !(0.25..=4.0).contains(&speed)
    {
        return Err(BadField::new("speed", format!("Invalid 'speed': {speed} is not between 0.25 and 4.0.")));
    }
    let secs = seconds_for(input);
    let sound = match format {
        "mp3" => Sound::Mp3,
        "wav" => Sound::Wav(24_000),
        "pcm" => Sound::Pcm(24_000),
        other => {
            return Err(BadField::new(
                "response_format",
                format!("The emulator makes mp3, wav and pcm audio, not {other}."),
            ));
        }
    };
    Ok(chunked(&speech(call, sound, secs), sound.content_type(), call.reply.chunks))
}

/// ElevenLabs' output format (`codec_rate[_bitrate]`) as a sound the emulator makes.
fn elevenlabs_sound(format: &str) -> Result<Sound, BadField> {
    let mut parts = format.split('_');
    let codec = parts.next().unwrap_or_default();
    let rate: Option<u32> = parts.next().and_then(|r| r.parse().ok());
    let bad = || BadField::new("output_format", format!("Invalid output_format {format:?}."));
    Ok(match (codec, rate) {
        ("mp3", Some(_)) => Sound::Mp3,
        ("pcm", Some(r)) if (8000..=48_000).contains(&r) => Sound::Pcm(r),
        ("wav", Some(r)) if (8000..=48_000).contains(&r) => Sound::Wav(r),
        ("ulaw", Some(8000)) => Sound::Ulaw,
        ("alaw", Some(8000)) => Sound::Alaw,
        ("opus", Some(_)) => {
            return Err(BadField::new(
                "output_format",
                "The emulator makes mp3, pcm, wav, ulaw and alaw audio, not opus.",
            ));
        }
        _ => return Err(bad()),
    })
}

fn elevenlabs_speech(call: &Call<'_>) -> Result<Answer, BadField> {
    let Endpoint::Speech { format, .. } = call.endpoint else {
        return Err(BadField::new("voice_id", "A voice id is required in the path."));
    };
    let p = call.payload;
    let text = p.required_str("text")?;
    if let Some(speed) = p.get("voice_settings").and_then(|v| v.get("speed")).and_then(Value::as_f64)
        && !(0.7..=1.2).contains(&speed)
    {
        return Err(BadField::new("voice_settings", format!("speed {speed} is not between 0.7 and 1.2.")));
    }
    let sound = elevenlabs_sound(format.as_deref().unwrap_or("mp3_44100_128"))?;
    Ok(chunked(&speech(call, sound, seconds_for(text)), sound.content_type(), call.reply.chunks))
}

/// The one audio file of a transcription and its length in seconds (a WAV's own; else about a second).
fn uploaded(p: &Payload) -> Result<f64, BadField> {
    let Payload::Form(form) = p else {
        return Err(BadField::new("file", "A multipart/form-data body with a file is required."));
    };
    let files: Vec<_> = form.parts.iter().filter(|part| part.name == "file").collect();
    let file = match files.as_slice() {
        [one] => one,
        [] => return Err(BadField::new("file", "Missing required parameter: 'file'.")),
        _ => return Err(BadField::new("file", "Only one file can be transcribed per request.")),
    };
    if !sound::is_audio(&file.data) {
        return Err(BadField::new(
            "file",
            "Invalid file format. Supported formats: flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm",
        ));
    }
    Ok(sound::wav_seconds(&file.data).unwrap_or(1.0))
}

fn transcription(call: &Call<'_>, api: AudioApi) -> Result<Answer, BadField> {
    let p = call.payload;
    let seconds = uploaded(p)?;
    let text = call.reply.text.clone();
    if api == AudioApi::ElevenLabsTranscription {
        p.required_str("model_id")?;
        let words: Vec<&str> = text.split_whitespace().collect();
        let step = seconds / words.len().max(1) as f64;
        let words: Vec<Value> = words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                json!({"text": w, "start": i as f64 * step, "end": (i + 1) as f64 * step, "type": "word",
                                  "speaker_id": "speaker_0", "logprob": 0})
            })
            .collect();
        return Ok(Answer::json(
            200,
            &json!({"language_code": "eng", "language_probability": 0.99, "text": text, "words": words,
                    "transcription_id": crate::plan::fresh_hex(20)}),
        ));
    }
    let model = p.required_str("model")?;
    let tokens = (text.split_whitespace().count() as u64).max(1);
    let audio_tokens = (seconds * 10.0).ceil() as u64;
    let body = if model.starts_with("voxtral") {
        json!({"model": model, "text": text, "language": null, "segments": [],
               "usage": {"prompt_audio_seconds": seconds.ceil() as u64, "prompt_tokens": audio_tokens,
                         "completion_tokens": tokens, "total_tokens": audio_tokens + tokens, "request_count": 1}})
    } else if model.starts_with("whisper") {
        json!({"text": text, "usage": {"type": "duration", "seconds": seconds.ceil() as u64}})
    } else {
        json!({"text": text, "usage": {"type": "tokens", "input_tokens": audio_tokens, "output_tokens": tokens,
                                       "total_tokens": audio_tokens + tokens}})
    };
    Ok(Answer::json(200, &body))
}

/// Gemini TTS (`*-tts*`) or Lyria (`lyria-*`): the requested MIME type, PCM at 24 kHz for speech and
/// MP3 for music by default; a stream sends the audio as base64 deltas.
fn google(call: &Call<'_>) -> Result<Answer, BadField> {
    let p = call.payload;
    let model = p.required_str("model")?;
    let music = model.starts_with("lyria");
    let text: String = p
        .get("input")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|step| step.get("content").and_then(Value::as_array).into_iter().flatten())
        .filter_map(|c| c.get("text").and_then(Value::as_str))
        .collect();
    if text.trim().is_empty() {
        return Err(BadField::new("input", "The input has no text."));
    }
    let asked = p.get("response_format").and_then(|f| f.get("mime_type")).and_then(Value::as_str);
    let (sound, mime) = match asked {
        None if music => (Sound::Mp3, "audio/mp3".to_string()),
        None | Some("audio/pcm") => (Sound::Pcm(24_000), "audio/pcm;rate=24000".to_string()),
        Some("audio/wav") => (Sound::Wav(24_000), "audio/wav".to_string()),
        Some("audio/mp3" | "audio/mpeg") => (Sound::Mp3, "audio/mp3".to_string()),
        Some("audio/mulaw") => (Sound::Ulaw, "audio/mulaw".to_string()),
        Some("audio/alaw") => (Sound::Alaw, "audio/alaw".to_string()),
        Some(other) => {
            return Err(BadField::new("response_format", format!("The emulator does not make {other} audio.")));
        }
    };
    let secs = if music { 2.0 } else { seconds_for(&text) };
    let audio = sound.render(secs);
    let id = format!("v1_{}", crate::plan::fresh_hex(24));
    let usage = json!({"total_input_tokens": text.len().div_ceil(4).max(1), "total_output_tokens": 25,
                       "total_tokens": text.len().div_ceil(4).max(1) + 25});
    let lyrics = music.then(|| json!({"type": "text", "text": "[Verse]\nEmulated music"}));
    if p.get("stream").and_then(Value::as_bool) != Some(true) {
        let mut content = Vec::new();
        content.extend(lyrics);
        content.push(json!({"type": "audio", "data": b64(&audio), "mime_type": mime}));
        return Ok(Answer::json(
            200,
            &json!({"id": id, "object": "interaction", "model": model, "status": "completed",
                    "steps": [{"type": "model_output", "content": content}], "usage": usage}),
        ));
    }
    let mut ev = Events::default();
    let mut send = |v: Value| ev.sse(None, |b| push_json(b, &v));
    send(json!({"event_type": "interaction.created",
                "interaction": {"id": id, "status": "in_progress", "object": "interaction", "model": model}}));
    send(json!({"event_type": "step.start", "index": 0, "step": {"type": "model_output"}}));
    if let Some(l) = lyrics {
        send(json!({"event_type": "step.delta", "index": 0, "delta": l}));
    }
    let size = match call.reply.chunks {
        Some(n) if n > 0 => audio.len().div_ceil(n).max(1),
        _ => 4800,
    };
    for piece in audio.chunks(size) {
        send(json!({"event_type": "step.delta", "index": 0,
                    "delta": {"type": "audio", "data": b64(piece), "mime_type": mime}}));
    }
    send(json!({"event_type": "step.stop", "index": 0}));
    send(json!({"event_type": "interaction.completed",
                "interaction": {"id": id, "status": "completed", "object": "interaction", "model": model,
                                "usage": usage}}));
    Ok(Answer::sse(ev.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("/v1/audio/speech", None), Some((AudioApi::OpenAiSpeech, Endpoint::Create)));
        assert_eq!(route("/openai/v1/audio/transcriptions", None).unwrap().0, AudioApi::Transcription);
        let (api, ep) = route("/v1/text-to-speech/abc/stream", Some("output_format=pcm_16000")).unwrap();
        assert_eq!(api, AudioApi::ElevenLabsSpeech);
        assert_eq!(ep, Endpoint::Speech { voice: "abc".into(), format: Some("pcm_16000".into()), stream: true });
        assert!(route("/v1/text-to-speech/", None).is_none());
        assert!(route("/v1/text-to-speech/a/b/c", None).is_none());
    }

    #[test]
    fn elevenlabs_formats() {
        assert_eq!(elevenlabs_sound("pcm_24000").unwrap(), Sound::Pcm(24_000));
        assert_eq!(elevenlabs_sound("mp3_44100_128").unwrap(), Sound::Mp3);
        assert!(elevenlabs_sound("opus_48000_64").is_err());
        assert!(elevenlabs_sound("nope").is_err());
    }
}
