//! Request shapes and reply decoding of the audio wire APIs, table-driven per provider, and the
//! recorded transcriptions.

use bytes::Bytes;
use serde_json::{Value, json};

use super::*;
use crate::error::Origin;
use crate::types::enums::Provider;
use crate::wire::media::MediaRequest;
use crate::wire::testkit::media_params;

fn ctx(provider: Provider, model: &str, operation: Operation, format: Option<&str>) -> AudioContext {
    AudioContext {
        origin: Origin::Provider(provider),
        model: model.into(),
        operation,
        extra: AudioExtra { format: format.map(str::to_string), keep_audio: true },
    }
}

fn speak(model: &str, params: &Value) -> AudioRequest {
    let input = AudioInput { text: Some("Hello".into()), audio: Vec::new(), keep_audio: true };
    MediaRequest { params: media_params(params), ..AudioRequest::new(model.into(), Operation::Speak, input) }
}

fn transcribe(model: &str, params: &Value) -> AudioRequest {
    let wav = crate::types::audio::test_wav(8000, 800);
    let mut req = speak(model, params);
    req.operation = Operation::Transcribe;
    req.input.text = None;
    req.input.audio = vec![Artifact::from_bytes(wav)];
    req
}

/// The text fields of a form, and the file field's name, filename and type.
fn form(body: Body) -> (Vec<(String, String)>, (String, String, String)) {
    let Body::Form(fields) = body else { panic!("a form expected") };
    let mut texts = Vec::new();
    let mut file = None;
    for f in fields {
        match f {
            FormField::Text(n, v) => texts.push((n.to_string(), v)),
            FormField::File { name, filename, mime, .. } => file = Some((name.to_string(), filename, mime)),
        }
    }
    (texts, file.expect("a file field"))
}

#[tokio::test]
async fn speech_requests_per_provider() {
    /// (api, model, params, stream, path, body)
    type Case<'a> = (AudioApi, &'a str, Value, bool, &'a str, Value);
    let cases: Vec<Case> = vec![
        (
            AudioApi::OpenAi,
            "tts-1",
            json!({"voice": "nova", "speed": 1.5, "output_format": "audio/wav"}),
            false,
            "/v1/audio/speech",
            json!({"model": "tts-1", "input": "Hello", "voice": "nova", "speed": 1.5, "response_format": "wav"}),
        ),
        (
            AudioApi::OpenAi,
            "gpt-4o-mini-tts",
            json!({"prompt": "cheerful", "output_format": "audio/pcm"}),
            true,
            "/v1/audio/speech",
            json!({"model": "gpt-4o-mini-tts", "input": "Hello", "voice": "alloy", "response_format": "pcm",
                   "instructions": "cheerful"}),
        ),
        (
            AudioApi::ElevenLabs,
            "eleven_flash_v2_5",
            json!({"voice": "21m00Tcm4TlvDq8ikWAM", "speed": 1.1, "language": "fr", "output_format": "pcm_24000"}),
            false,
            "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM?output_format=pcm_24000",
            json!({"text": "Hello", "model_id": "eleven_flash_v2_5", "voice_settings": {"speed": 1.1},
                   "language_code": "fr"}),
        ),
        (
            AudioApi::ElevenLabs,
            "eleven_v3",
            json!({}),
            true,
            "/v1/text-to-speech/eLDc7xhWxG2FElT3kUTj/stream",
            json!({"text": "Hello", "model_id": "eleven_v3"}),
        ),
        #[cfg(feature = "google")]
        (
            AudioApi::Google,
            "gemini-2.5-flash-preview-tts",
            json!({"voice": "Kore", "language": "en", "output_format": "audio/pcmu"}),
            true,
            "/v1beta/interactions",
            json!({"model": "gemini-2.5-flash-preview-tts",
                   "input": [{"type": "user_input", "content": [{"type": "text", "text": "Hello"}]}],
                   "response_format": {"type": "audio", "mime_type": "audio/mulaw"},
                   "generation_config": {"speech_config": [{"voice": "Kore", "language": "en-US"}]},
                   "stream": true}),
        ),
    ];
    for (api, model, params, stream, path, body) in cases {
        let req = speak(model, &params);
        let c = ctx(Provider::OpenAi, model, Operation::Speak, None);
        assert_eq!(api.path(&req, stream).unwrap().as_deref(), Some(path), "{model}");
        let built = api.build(&req, &c, stream, path.into()).await.unwrap();
        let Body::Json(got) = built.body else { panic!("{model}: JSON expected") };
        assert_eq!(got, body, "{model}");
        assert!(built.dropped.is_empty(), "{model}: {:?}", built.dropped);
    }
}

#[tokio::test]
async fn transcription_forms_per_provider() {
    let params = || json!({"language": "en", "prompt": "names", "temperature": 0.2});
    /// (api, model, path, text fields, dropped)
    type Case<'a> = (AudioApi, &'a str, &'a str, Vec<(&'a str, &'a str)>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (
            AudioApi::OpenAi,
            "whisper-1",
            "/v1/audio/transcriptions",
            vec![
                ("model", "whisper-1"),
                ("language", "en"),
                ("prompt", "names"),
                ("temperature", "0.2"),
                ("response_format", "json"),
            ],
            vec![],
        ),
        (
            AudioApi::OpenAi,
            "gpt-transcribe",
            "/v1/audio/transcriptions",
            vec![
                ("model", "gpt-transcribe"),
                ("languages[]", "en"),
                ("prompt", "names"),
                ("temperature", "0.2"),
                ("response_format", "json"),
            ],
            vec![],
        ),
        (
            AudioApi::Groq,
            "whisper-large-v3",
            "/openai/v1/audio/transcriptions",
            vec![
                ("model", "whisper-large-v3"),
                ("language", "en"),
                ("prompt", "names"),
                ("temperature", "0.2"),
                ("response_format", "json"),
            ],
            vec![],
        ),
        (
            AudioApi::Mistral,
            "voxtral-mini-latest",
            "/v1/audio/transcriptions",
            vec![("model", "voxtral-mini-latest"), ("language", "en"), ("temperature", "0.2")],
            vec!["prompt"],
        ),
        (
            AudioApi::ElevenLabs,
            "scribe_v1",
            "/v1/speech-to-text",
            vec![("model_id", "scribe_v1"), ("language_code", "en"), ("temperature", "0.2")],
            vec!["prompt"],
        ),
    ];
    for (api, model, path, fields, dropped) in cases {
        let req = transcribe(model, &params());
        let c = ctx(Provider::OpenAi, model, Operation::Transcribe, None);
        assert_eq!(api.path(&req, false).unwrap().as_deref(), Some(path), "{model}");
        let built = api.build(&req, &c, false, path.into()).await.unwrap();
        assert_eq!(built.dropped, dropped, "{model}");
        let (texts, file) = form(built.body);
        let want: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(texts, want, "{model}");
        assert_eq!(file, ("file".into(), "audio.wav".into(), "audio/wav".into()), "{model}");
    }
}

#[test]
fn raw_speech_is_typed_by_header_then_format_then_bytes() {
    let c = ctx(Provider::OpenAi, "tts-1", Operation::Speak, Some("audio/pcm"));
    let out = AudioApi::OpenAi.parse_audio(Bytes::from_static(b"\x01\x02"), Some("audio/pcm"), &c).unwrap();
    assert_eq!(out.content.mime(), Some(MimeType::AudioPcm));
    assert_eq!(out.content.sample_rate, Some(24_000));
    // An unhelpful header: the requested format decides.
    let c = ctx(Provider::OpenAi, "tts-1", Operation::Speak, Some("audio/flac"));
    let out = AudioApi::OpenAi.parse_audio(Bytes::from_static(b"xx"), Some("application/octet-stream"), &c).unwrap();
    assert_eq!(out.content.mime(), Some(MimeType::AudioFlac));
    // ElevenLabs' codec names: the type and rate.
    let c = ctx(Provider::ElevenLabs, "eleven_v3", Operation::Speak, Some("wav_16000"));
    let wav = crate::types::audio::test_wav(16_000, 1600);
    let out = AudioApi::ElevenLabs.parse_audio(Bytes::from(wav), None, &c).unwrap();
    assert_eq!((out.content.mime(), out.content.duration), (Some(MimeType::AudioWav), Some(0.1)));
    assert_eq!(elevenlabs::format_type(Some("ulaw_8000")).0.unwrap().as_str(), "audio/pcmu");
    assert_eq!(elevenlabs::format_type(None), (Some(MimeType::AudioMpeg), Some(44_100)));
    // No bytes is no audio.
    let err = AudioApi::OpenAi.parse_audio(Bytes::new(), None, &c).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
}

#[test]
fn transcripts_decode_text_and_usage() {
    let c = ctx(Provider::OpenAi, "gpt-4o-transcribe", Operation::Transcribe, None);
    let body = Bytes::from_static(
        br#"{"text":"hi","usage":{"type":"tokens","input_tokens":14,"output_tokens":3,"total_tokens":17}}"#,
    );
    let out = AudioApi::OpenAi.parse_transcript(&body, &c).unwrap();
    assert_eq!((out.content.as_str(), out.usage.input_tokens, out.usage.total_tokens), ("hi", Some(14), Some(17)));
    let body = Bytes::from_static(br#"{"text":"hi","usage":{"type":"duration","seconds":3}}"#);
    assert_eq!(AudioApi::OpenAi.parse_transcript(&body, &c).unwrap().usage.seconds, Some(3.0));
    let body = Bytes::from_static(br#"{"text":"hi","duration":2.5,"x_groq":{"id":"req_1"}}"#);
    let out = AudioApi::Groq.parse_transcript(&body, &c).unwrap();
    assert_eq!((out.usage.seconds, out.metadata.response_id.as_deref()), (Some(2.5), Some("req_1")));
    // A plain-text reply is the transcript; JSON without text is an error.
    assert_eq!(AudioApi::Groq.parse_transcript(&Bytes::from_static(b"hello\n"), &c).unwrap().content, "hello");
    let err = AudioApi::OpenAi.parse_transcript(&Bytes::from_static(b"{}"), &c).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
}

#[test]
fn recorded_transcriptions_decode() {
    let Some(dir) = crate::testing::recorded_dir() else {
        eprintln!("recorded fixtures not found; skipping");
        return;
    };
    let read = |name: &str| Bytes::from(std::fs::read(dir.join("media").join(name)).unwrap());
    let c = ctx(Provider::ElevenLabs, "scribe_v1", Operation::Transcribe, None);
    let out = AudioApi::ElevenLabs.parse_transcript(&read("elevenlabs-transcription.json"), &c).unwrap();
    assert_eq!(out.content, "Hello from the Vercel AI SDK.");
    assert_eq!(out.usage.seconds, Some(2.479));
    assert_eq!(out.metadata.response_id.as_deref(), Some("dRgXxwt3SzzliHA3nDAQ"));

    let c = ctx(Provider::Mistral, "voxtral-mini-latest", Operation::Transcribe, None);
    let out = AudioApi::Mistral.parse_transcript(&read("mistral-transcription.json"), &c).unwrap();
    assert!(out.content.starts_with("Galileo was an American robotic space program"), "{}", out.content);
    assert!(out.content.ends_with("the first spacecraft to orbit Jupiter."), "{}", out.content);
    assert_eq!(out.usage.seconds, Some(36.0));
    assert_eq!(
        (out.usage.input_tokens, out.usage.output_tokens, out.usage.total_tokens),
        (Some(13), Some(151), Some(164))
    );
    assert_eq!(out.metadata.response_model.as_deref(), Some("voxtral-mini-latest"));

    // Groq's recording wraps a text/plain body.
    let wrapped: Value =
        serde_json::from_slice(&std::fs::read(dir.join("groq/groq-transcription-text.json")).unwrap()).unwrap();
    let body = Bytes::from(wrapped["body"].as_str().unwrap().to_string());
    let c = ctx(Provider::Groq, "whisper-large-v3", Operation::Transcribe, None);
    let out = AudioApi::Groq.parse_transcript(&body, &c).unwrap();
    assert_eq!(out.content, wrapped["body"].as_str().unwrap().trim_end_matches(['\r', '\n']));
}

#[cfg(feature = "google")]
mod google_tests {
    use super::*;
    use crate::wire::testkit::decode_named;

    fn b64(b: &[u8]) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    #[test]
    fn interactions_audio_unary_keeps_the_last_audio_and_the_text() {
        let wav = crate::types::audio::test_wav(24_000, 2400);
        let body = json!({"id": "i1", "model": "lyria-3.5", "status": "completed",
            "steps": [{"type": "model_output", "content": [
                {"type": "text", "text": "[Verse]"},
                {"type": "audio", "data": b64(b"old"), "mime_type": "audio/mp3"},
                {"type": "audio", "data": b64(&wav), "mime_type": "audio/wav"},
                {"type": "text", "text": "la la"}]}],
            "usage": {"total_input_tokens": 4, "total_output_tokens": 9, "total_tokens": 13}});
        let c = ctx(Provider::Google, "lyria-3.5", Operation::Generate, None);
        let out = AudioApi::Google.parse_audio(Bytes::from(body.to_string()), None, &c).unwrap();
        assert_eq!(out.content.artifact.data.as_deref(), Some(&wav[..]));
        assert_eq!((out.content.mime(), out.content.duration), (Some(MimeType::AudioWav), Some(0.1)));
        assert_eq!(out.content.text, ["[Verse]", "la la"]);
        assert_eq!((out.usage.total_tokens, out.metadata.response_id.as_deref()), (Some(13), Some("i1")));
        let none = json!({"steps": [{"type": "model_output", "content": [{"type": "text", "text": "no"}]}]});
        let err = AudioApi::Google.parse_audio(Bytes::from(none.to_string()), None, &c).unwrap_err();
        assert!(err.to_string().contains("the model said: no"), "{err}");
    }

    #[test]
    fn interactions_audio_deltas_stream_and_end_at_completed() {
        let c = ctx(Provider::Google, "gemini-2.5-flash-preview-tts", Operation::Speak, None);
        let ev = |v: Value| (None, v.to_string().into_bytes());
        let events = vec![
            ev(json!({"event_type": "interaction.created", "interaction": {"id": "i9", "model": "m"}})),
            ev(json!({"event_type": "step.start", "index": 0, "step": {"type": "model_output"}})),
            ev(json!({"event_type": "step.delta", "index": 0,
                      "delta": {"type": "audio", "data": b64(b"abc"), "mime_type": "audio/pcm;rate=24000"}})),
            ev(json!({"event_type": "step.delta", "index": 0, "delta": {"type": "audio", "data": b64(b"def")}})),
            ev(json!({"event_type": "interaction.completed",
                      "interaction": {"id": "i9", "status": "completed", "usage": {"total_tokens": 5}}})),
        ];
        let mut dec = AudioApi::Google.decoder(c.clone()).unwrap();
        let (chunks, out) = decode_named(dec.as_mut(), &events);
        assert!(dec.is_terminal());
        let bytes: Vec<u8> = chunks.iter().flat_map(|c| c.content.to_vec()).collect();
        assert_eq!(bytes, b"abcdef");
        let out = out.unwrap();
        assert_eq!(out.content.artifact.data.as_deref(), Some(&b"abcdef"[..]));
        assert_eq!((out.content.mime(), out.content.sample_rate), (Some(MimeType::AudioPcm), Some(24_000)));
        assert_eq!((out.usage.total_tokens, out.metadata.response_id.as_deref()), (Some(5), Some("i9")));

        // Cut before the end: truncated; an error event: the provider's error.
        let mut dec = AudioApi::Google.decoder(c.clone()).unwrap();
        let (_, out) = decode_named(dec.as_mut(), &events[..3]);
        assert!(matches!(out.unwrap_err(), Error::StreamTruncated { .. }));
        let mut dec = AudioApi::Google.decoder(c).unwrap();
        let err = vec![ev(json!({"event_type": "error", "error": {"code": "overloaded", "message": "busy"}}))];
        let (_, out) = decode_named(dec.as_mut(), &err);
        assert!(out.unwrap_err().to_string().contains("busy"));
    }

    #[test]
    fn locales() {
        assert_eq!(google::locale("en"), "en-US");
        assert_eq!(google::locale("cmn"), "cmn-CN");
        assert_eq!(google::locale("af"), "af");
    }
}

#[test]
fn raw_stream_decoder_reassembles_and_refuses_an_empty_body() {
    let c = ctx(Provider::OpenAi, "tts-1", Operation::Speak, Some("audio/wav"));
    let mut dec = AudioApi::OpenAi.decoder(c.clone()).unwrap();
    let mut out = std::collections::VecDeque::new();
    for part in [&b"RIFF"[..], b"", b"rest"] {
        dec.on_frame(Frame::Raw(Bytes::copy_from_slice(part)), &mut out).unwrap();
    }
    assert_eq!(out.len(), 2);
    let done = dec.finish().unwrap();
    assert_eq!(done.content.artifact.data.as_deref(), Some(&b"RIFFrest"[..]));
    assert_eq!(done.content.mime(), Some(MimeType::AudioWav));
    let mut empty = AudioApi::OpenAi.decoder(c).unwrap();
    assert!(matches!(empty.finish().unwrap_err(), Error::StreamTruncated { .. }));
    // Transcription APIs do not stream.
    let c = ctx(Provider::Groq, "whisper-large-v3", Operation::Transcribe, None);
    assert!(AudioApi::Groq.decoder(c).is_err());
}

#[test]
fn streamed_audio_is_kept_without_copies_and_joined_once() {
    let mut parts = AudioParts::default();
    assert!(parts.is_empty());
    assert!(parts.take().is_empty());
    // One chunk: the output is that very buffer.
    let one = Bytes::from(vec![7u8; 1000]);
    parts.push(&one);
    parts.push(&Bytes::new());
    let whole = parts.take();
    assert_eq!((whole.as_ptr(), whole.len()), (one.as_ptr(), 1000));
    assert!(parts.is_empty(), "taking releases the parts");
    // Several: joined in order into one buffer of exactly their size.
    for p in [&b"ab"[..], b"", b"cde", b"f"] {
        parts.push(&Bytes::copy_from_slice(p));
    }
    let whole = parts.take();
    assert_eq!(&whole[..], b"abcdef");
    assert!(parts.is_empty());
}

#[test]
fn streamed_audio_not_kept_holds_only_the_first_chunk_to_type_the_output() {
    let mut parts = AudioParts::new(false);
    assert!(parts.is_empty());
    let first = Bytes::from_static(b"RIFF....WAVE");
    for p in [first.clone(), Bytes::new(), Bytes::from_static(b"more"), Bytes::from_static(b"and more")] {
        parts.push(&p);
    }
    assert!(!parts.is_empty(), "audio came, though it was not kept");
    let typed_from = parts.take();
    assert_eq!((typed_from.as_ptr(), typed_from.len()), (first.as_ptr(), first.len()), "only the first chunk");
    let mut audio = crate::types::audio::Audio::new(crate::types::artifact::Artifact::from_bytes(typed_from));
    parts.strip(&mut audio);
    assert_eq!(audio.artifact.data, None);
    // Kept (the default), strip leaves the audio alone.
    let mut kept = AudioParts::default();
    kept.push(&first);
    let mut audio = crate::types::audio::Audio::new(crate::types::artifact::Artifact::from_bytes(kept.take()));
    kept.strip(&mut audio);
    assert_eq!(audio.artifact.data.as_deref(), Some(&first[..]));
}
