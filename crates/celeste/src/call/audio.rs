//! The audio steps of the one call pipeline (see [`crate::call`]): resolve the model, check the
//! inputs and every parameter against the catalog (voices by id or name, with close matches when
//! unknown; output formats by their short names too), build the wire request, authenticate, and send
//! it unary or as a stream of audio bytes, with the call's span started in one place.

use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::{Map, Value};

use super::{CallOptions, client_or_shared, media_body, name_default_model, open_stream, telemetry_name};
use crate::catalog::{Constraint, Model, Voice};
use crate::client::Client;
use crate::error::{Error, Origin, Result, ValidationError};
use crate::stream::Stream;
use crate::telemetry::{CallInfo, CallSpan};
use crate::transport::http::HttpRequest;
use crate::types::audio::Audio;
use crate::types::enums::{Modality, Operation};
use crate::types::mime::MimeType;
use crate::types::output::Output;
use crate::wire::audio::{AudioApi, AudioContext, AudioExtra, AudioRequest};

/// An audio call resolved, checked and built: ready to send.
pub(crate) struct PreparedAudio {
    client: Client,
    ctx: AudioContext,
    api: AudioApi,
    request: HttpRequest,
    timeout: Option<Duration>,
    telemetry: CallInfo,
    /// What a WebSocket API sends after its setup message (Gradium: the text, then the end of input).
    #[cfg_attr(not(feature = "gradium"), allow(dead_code, reason = "only Gradium speaks over a socket"))]
    messages: Vec<String>,
}

/// Resolve, check, build and authenticate an audio call.
pub(crate) async fn prepare_audio(opts: CallOptions, mut req: AudioRequest, stream: bool) -> Result<PreparedAudio> {
    if let Some(msg) = opts.invalid {
        return Err(Error::InvalidInput(msg));
    }
    // The caller's mistakes whatever the model: nothing to say, or not one audio file to transcribe.
    check_inputs(&req)?;
    let client = client_or_shared(opts.client)?;
    let (modality, op) = (Modality::Audio, req.operation);
    name_default_model(&mut req.model, modality, op, opts.target.provider)?;
    let resolved = client.resolve_media(&req.model, &opts.target, modality, op)?;
    let origin = resolved.origin;
    let unsupported = |what: String| Error::unsupported(Some(origin), Some(modality), Some(op), what);
    let api = crate::wire::audio::api_for(resolved.provider)
        .ok_or_else(|| unsupported(format!("audio on {}", resolved.provider)))?;
    match &resolved.model {
        Some(model) => check_audio(model, &mut req, stream, api, origin)?,
        None if stream && !api.raw_speech() && api != AudioApi::Google => {
            return Err(unsupported(format!("streaming with model {}", req.model)));
        }
        None => {}
    }
    let path = api.path(&req, stream)?.ok_or_else(|| unsupported(format!("audio {op} with model {}", req.model)))?;
    let ctx = AudioContext {
        origin,
        model: req.model.clone(),
        operation: op,
        extra: AudioExtra {
            format: req.params.str("output_format").map(str::to_string),
            keep_audio: req.input.keep_audio,
        },
    };
    let mut headers = HeaderMap::new();
    resolved.auth.apply(&mut headers).await?;
    let url = match api {
        #[cfg(feature = "gradium")]
        AudioApi::Gradium => crate::wire::audio::gradium::url(&resolved.base),
        _ => crate::providers::join_url(&resolved.base, &path),
    };
    #[cfg(feature = "gradium")]
    let messages = match api {
        AudioApi::Gradium => crate::wire::audio::gradium::text_messages(&req).to_vec(),
        _ => Vec::new(),
    };
    #[cfg(not(feature = "gradium"))]
    let messages = Vec::new();
    let built = api.build(&req, &ctx, stream, url).await?;
    if !built.dropped.is_empty() {
        tracing::warn!(origin = %ctx.origin, model = %ctx.model, parameters = ?built.dropped, "parameters this audio API cannot carry were dropped");
    }
    let body = media_body(built.body, &opts.extra_body, "audio")?;
    for (k, v) in built.headers.into_iter().chain(opts.extra_headers.iter().cloned()) {
        headers.insert(k, v);
    }
    let total = opts.timeout.or(client.transport().timeouts.total);
    let request = HttpRequest { method: Method::POST, url: built.url, headers, body, total };
    let telemetry = CallInfo {
        modality,
        operation: op,
        provider_name: telemetry_name(origin),
        model: req.model.clone(),
        url: request.url.clone(),
        stream,
        output_type: Some(if op == Operation::Transcribe { "text" } else { "speech" }),
        content: None,
        params: Default::default(),
    };
    Ok(PreparedAudio { client, ctx, api, request, timeout: opts.timeout, telemetry, messages })
}

impl PreparedAudio {
    fn deadline(&self) -> Option<tokio::time::Instant> {
        match self.timeout {
            Some(t) => tokio::time::Instant::now().checked_add(t),
            None => self.client.transport().deadline(),
        }
    }

    /// Send, read the whole reply and decode it with `parse` (given the reply's `Content-Type`); one
    /// span covers it all.
    async fn unary<C: serde::Serialize>(
        self,
        parse: impl FnOnce(AudioApi, Bytes, Option<&str>, &AudioContext) -> Result<Output<C>>,
    ) -> Result<Output<C>> {
        let mut span = CallSpan::start(self.client.telemetry(), &self.telemetry);
        let result = async {
            let t = self.client.transport();
            let deadline = self.deadline();
            let resp = t.send(self.ctx.origin, &self.request, deadline, &span).await?;
            let content_type = resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
            let body = t.read_body(self.ctx.origin, resp, deadline).await?;
            parse(self.api, body, content_type.as_deref(), &self.ctx)
        }
        .await;
        match &result {
            Ok(out) => span.end_ok(out),
            Err(e) => span.end_err(e),
        }
        result
    }

    /// Speech or music, whole.
    pub(crate) async fn audio(self) -> Result<Output<Audio>> {
        if self.api == AudioApi::Gradium {
            // A socket has no unary form: the stream, drained (its span ends with it).
            let mut stream = self.stream().await?;
            while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
                chunk?;
            }
            return stream.into_output();
        }
        self.unary(|api, body, ct, ctx| api.parse_audio(body, ct, ctx)).await
    }

    /// A transcript.
    pub(crate) async fn transcript(self) -> Result<Output<String>> {
        self.unary(|api, body, _, ctx| api.parse_transcript(&body, ctx)).await
    }

    /// Open the stream of audio bytes: returned once the response headers have arrived; the span ends
    /// with the stream, however it ends.
    pub(crate) async fn stream(self) -> Result<Stream<Bytes, Audio>> {
        let span = CallSpan::start(self.client.telemetry(), &self.telemetry);
        #[cfg(feature = "gradium")]
        if self.api == AudioApi::Gradium {
            return self.socket(span).await;
        }
        let decoder = self.api.decoder(self.ctx.clone());
        let framing = self.api.framing(self.client.max_event_size());
        let target = (self.ctx.origin, &self.request);
        open_stream(&self.client, span, target, self.deadline(), framing, decoder).await
    }
}

#[cfg(feature = "gradium")]
impl PreparedAudio {
    /// Open the socket, send the setup and wait for `ready`, send the text; then the server's messages
    /// are the stream's lines. A failure before the stream exists ends the span here.
    async fn socket(self, mut span: CallSpan) -> Result<Stream<Bytes, Audio>> {
        use crate::stream::StreamParts;
        use crate::transport::http::RequestBody;
        use crate::transport::ws::{WsMessage, WsOptions, connect};
        use crate::wire::audio::gradium;
        let t = self.client.transport();
        let origin = self.ctx.origin;
        let options =
            WsOptions::default().with_connect_timeout(t.timeouts.connect).with_idle_timeout(Some(t.timeouts.idle));
        let opened = async {
            let RequestBody::Json(setup) = &self.request.body else {
                return Err(Error::invalid_input("the Gradium setup message is not JSON"));
            };
            let mut conn = connect(&self.request.url, &self.request.headers, origin, &options).await?;
            conn.send_text(String::from_utf8_lossy(setup).into_owned()).await?;
            let request_id = loop {
                match conn.recv().await? {
                    Some(WsMessage::Text(text)) => {
                        if let Some(id) = gradium::ready(&self.ctx, text.as_bytes())? {
                            break id;
                        }
                    }
                    Some(_) => {}
                    None => {
                        return Err(Error::StreamTruncated { origin, reason: "the socket closed before ready".into() });
                    }
                }
            };
            for m in &self.messages {
                conn.send_text(m.clone()).await?;
            }
            Ok((conn, request_id))
        };
        let deadline = self.deadline();
        let opened = match deadline {
            Some(d) => tokio::time::timeout_at(d, opened).await.unwrap_or_else(|_| {
                Err(Error::Timeout {
                    origin,
                    phase: crate::error::TimeoutPhase::Total,
                    after: self.timeout.or(t.timeouts.total).unwrap_or_default(),
                })
            }),
            None => opened.await,
        };
        let (conn, request_id) = match opened {
            Ok(x) => x,
            Err(e) => {
                span.end_err(&e);
                return Err(e);
            }
        };
        let failure = gradium::TransportFailure::default();
        let decoder = gradium::GradiumDecoder::new(self.ctx.clone(), failure.clone(), request_id);
        Ok(Stream::from_body(
            lines(conn, failure),
            StreamParts {
                origin,
                framing: self.api.framing(self.client.max_event_size()),
                decoder: Box::new(decoder),
                idle: t.timeouts.idle,
                deadline,
                connect_limit: t.timeouts.connect,
                observer: Some(Box::new(span)),
            },
        ))
    }
}

/// The socket's text messages as lines; a transport failure is put in `failure` and announced by
/// its line. Dropping the body drops the socket, which sends a close frame.
#[cfg(feature = "gradium")]
fn lines(
    conn: crate::transport::ws::WsConnection,
    failure: crate::wire::audio::gradium::TransportFailure,
) -> crate::stream::Body {
    use crate::transport::ws::WsMessage;
    Box::pin(futures::stream::unfold(Some(conn), move |conn| {
        let failure = failure.clone();
        async move {
            let mut conn = conn?;
            loop {
                match conn.recv().await {
                    Ok(Some(WsMessage::Text(t))) => {
                        let mut line = t.into_bytes();
                        line.push(b'\n');
                        return Some((Ok(Bytes::from(line)), Some(conn)));
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => return None,
                    Err(e) => {
                        if let Ok(mut slot) = failure.lock() {
                            *slot = Some(e);
                        }
                        return Some((Ok(Bytes::from_static(crate::wire::audio::gradium::FAILURE_LINE)), None));
                    }
                }
            }
        }
    }))
}

/// What every audio call needs whatever the model: text to speak (or a prompt), or exactly one
/// readable audio input to transcribe.
fn check_inputs(req: &AudioRequest) -> Result<()> {
    let op = req.operation;
    if op == Operation::Transcribe {
        match req.input.audio.len() {
            1 => {}
            0 => return Err(Error::invalid_input("audio transcribe: no audio given")),
            n => {
                return Err(Error::invalid_input(format!(
                    "audio transcribe takes exactly one audio input, got {n}: transcribe them one call each"
                )));
            }
        }
        let a = &req.input.audio[0];
        if !a.has_content() {
            return Err(Error::invalid_input("the audio input is empty: give it bytes, a path or a URL"));
        }
        if a.data.is_none() && a.path.is_none() {
            return Err(Error::invalid_input(
                "the audio input is a URL: transcription uploads the file, so give it bytes or a path",
            ));
        }
        if let Some(path) = a.path.as_deref()
            && a.data.is_none()
            && !path.is_file()
        {
            return Err(Error::invalid_input(format!("the audio input: no readable file at `{}`", path.display())));
        }
        return Ok(());
    }
    if req.input.text.as_deref().is_none_or(|t| t.trim().is_empty()) {
        let what = if op == Operation::Speak { "the text to speak" } else { "the prompt" };
        return Err(Error::invalid_input(format!("audio {op}: {what} is empty")));
    }
    Ok(())
}

/// The audio input's MIME type: declared, else sniffed from its bytes (the file's first bytes), else
/// from the file's extension.
fn input_mime(a: &crate::types::artifact::Artifact) -> Option<MimeType> {
    if let Some(m) = &a.mime_type {
        return Some(m.clone());
    }
    let head = match (&a.data, a.path.as_deref()) {
        (Some(d), _) => Some(d.slice(..d.len().min(8192))),
        (None, Some(p)) => {
            use std::io::Read as _;
            let mut buf = vec![0; 8192];
            std::fs::File::open(p).and_then(|mut f| f.read(&mut buf)).ok().map(|n| Bytes::from(buf[..n].to_vec()))
        }
        _ => None,
    };
    head.as_deref().and_then(MimeType::sniff).or_else(|| a.mime())
}

/// Check an audio call against the catalog's model: the operation, streaming, the input's type, and
/// each parameter against its constraint; the normalised values are sent.
fn check_audio(model: &Model, req: &mut AudioRequest, stream: bool, api: AudioApi, origin: Origin) -> Result<()> {
    let op = req.operation;
    let unsupported = |what: String| Error::unsupported(Some(origin), Some(Modality::Audio), Some(op), what);
    if !model.supports(Modality::Audio, op) {
        return Err(unsupported(format!("model {} does not support audio {op}", model.id)));
    }
    // A raw speech body is streamed by nature, whatever the catalog says of the model.
    if stream && !model.streaming && !(api.raw_speech() && op == Operation::Speak) {
        return Err(unsupported(format!("streaming with model {}", model.id)));
    }
    let mut params: Map<String, Value> = req.params.values().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    if let Some(a) = req.input.audio.first() {
        let mime = input_mime(a);
        if let Some(m) = &mime
            && !m.as_str().starts_with("audio/")
        {
            return Err(Error::invalid_input(format!("the audio input is `{m}`, not audio")));
        }
        let mime = mime.ok_or_else(|| {
            Error::invalid_input("the audio input's type is unknown: set it with `with_mime_type` (audio/wav, ...)")
        })?;
        params.insert("audio".into(), serde_json::json!({ "mime_type": mime.as_str() }));
    }
    if !req.params.reference_images.is_empty() {
        params.insert("reference_images".into(), super::reference_params(&req.params.reference_images));
    }
    if let Some(Value::String(voice)) = params.get("voice") {
        let offered = crate::catalog::model_voices(model);
        if !offered.is_empty() {
            let id = find_voice(&offered, voice).ok_or_else(|| unknown_voice(model, voice, &offered))?.id.clone();
            params.insert("voice".into(), Value::String(id));
        }
    }
    if let (Some(Value::String(f)), Some(Constraint::Choice { options })) =
        (params.get("output_format"), model.constraints.get("output_format"))
        && let Some(full) = format_by_short_name(f, options)
    {
        params.insert("output_format".into(), Value::String(full));
    }
    let mut checked = model.validate(&params)?;
    checked.remove("audio");
    checked.remove("reference_images");
    req.params.replace_values(checked.into_iter().collect());
    Ok(())
}

/// A voice by id or name: exact, then ignoring ASCII case, then by its short name (the part of a
/// name before ` - `: ElevenLabs' `Alicia` for `Alicia - Polished Global Anchor`) when one voice has it.
fn find_voice<'v>(offered: &[&'v Voice], name_or_id: &str) -> Option<&'v Voice> {
    let exact = offered.iter().find(|v| v.id == name_or_id || v.name == name_or_id);
    let found = exact.or_else(|| {
        offered.iter().find(|v| v.id.eq_ignore_ascii_case(name_or_id) || v.name.eq_ignore_ascii_case(name_or_id))
    });
    if let Some(v) = found {
        return Some(v);
    }
    let short = |v: &Voice| v.name.split(" - ").next().unwrap_or_default().trim().eq_ignore_ascii_case(name_or_id);
    match offered.iter().filter(|v| short(v)).collect::<Vec<_>>().as_slice() {
        [one] => Some(**one),
        _ => None,
    }
}

/// The error for a voice the model does not offer: the close matches by name or id (edit distance,
/// or one containing the other), else the first voices offered.
fn unknown_voice(model: &Model, voice: &str, offered: &[&Voice]) -> Error {
    let wanted = voice.to_ascii_lowercase();
    let score = |v: &Voice| {
        [&v.name, &v.id]
            .into_iter()
            .map(|s| {
                let s = s.to_ascii_lowercase();
                if !wanted.is_empty() && (s.contains(&wanted) || wanted.contains(&s)) {
                    0
                } else {
                    levenshtein(&s, &wanted)
                }
            })
            .min()
            .unwrap_or(usize::MAX)
    };
    let limit = (wanted.chars().count() / 3).max(2);
    let mut close: Vec<(usize, &Voice)> = offered.iter().map(|v| (score(v), *v)).filter(|(s, _)| *s <= limit).collect();
    close.sort_by_key(|(s, _)| *s);
    let show = |v: &Voice| if v.name == v.id { v.id.clone() } else { format!("{} ({})", v.name, v.id) };
    let allowed = if close.is_empty() {
        let first: Vec<String> = offered.iter().take(12).map(|v| show(v)).collect();
        let more = if offered.len() > 12 { format!(", … ({} voices)", offered.len()) } else { String::new() };
        format!("a voice this model offers by name or id: {}{more}", first.join(", "))
    } else {
        let names: Vec<String> = close.iter().take(5).map(|(_, v)| show(v)).collect();
        format!("a voice this model offers by name or id; close matches: {}", names.join(", "))
    };
    ValidationError { model: Some(model.id.clone()), parameter: "voice".into(), value: voice.to_string(), allowed }
        .into()
}

/// Edit distance between two short strings (voice names).
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(cur).min(row[j]) };
            prev = cur;
        }
    }
    row[b.len()]
}

/// The catalog's MIME-typed output format for a short name (`mp3` for `audio/mpeg`, `wav`, `ogg`,
/// `opus`, `pcm`, ...) when the model's formats are MIME types; `None` when nothing maps.
fn format_by_short_name(f: &str, options: &[Value]) -> Option<String> {
    if f.contains('/') {
        return None;
    }
    let mime = match f.to_ascii_lowercase().as_str() {
        "mp3" | "mpeg" => "audio/mpeg",
        "opus" | "ogg" => "audio/ogg",
        "pcmu" | "mulaw" | "ulaw" => "audio/pcmu",
        "pcma" | "alaw" => "audio/pcma",
        other => {
            return options
                .iter()
                .filter_map(Value::as_str)
                .find(|o| o.strip_prefix("audio/") == Some(other))
                .map(str::to_string);
        }
    };
    options.iter().filter_map(Value::as_str).any(|o| o == mime).then(|| mime.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(op: Operation, text: Option<&str>, audio: Vec<crate::types::artifact::Artifact>) -> AudioRequest {
        AudioRequest::new(
            "m".into(),
            op,
            crate::wire::audio::AudioInput { text: text.map(str::to_string), audio, keep_audio: true },
        )
    }

    #[test]
    fn inputs_are_checked_before_anything_else() {
        use crate::types::artifact::Artifact;
        let err = |r: AudioRequest| check_inputs(&r).unwrap_err().to_string();
        assert!(err(req(Operation::Speak, Some("  "), vec![])).contains("the text to speak is empty"));
        assert!(err(req(Operation::Generate, None, vec![])).contains("the prompt is empty"));
        assert!(err(req(Operation::Transcribe, None, vec![])).contains("no audio given"));
        let two = vec![Artifact::from_bytes(&b"a"[..]), Artifact::from_bytes(&b"b"[..])];
        assert!(err(req(Operation::Transcribe, None, two)).contains("exactly one audio input, got 2"));
        let url = vec![Artifact::from_url("https://x/a.wav")];
        assert!(err(req(Operation::Transcribe, None, url)).contains("give it bytes or a path"));
        let missing = vec![Artifact::from_path("/no/such/file.wav")];
        assert!(err(req(Operation::Transcribe, None, missing)).contains("no readable file"));
        assert!(check_inputs(&req(Operation::Speak, Some("hi"), vec![])).is_ok());
    }

    #[test]
    fn voices_by_short_name() {
        let alicia = Voice::new(crate::Provider::ElevenLabs, "a1", "Alicia - Polished Global Anchor");
        let alex = Voice::new(crate::Provider::ElevenLabs, "a2", "Alex - Calm");
        let offered = [&alicia, &alex];
        assert_eq!(find_voice(&offered, "alicia").map(|v| v.id.as_str()), Some("a1"));
        assert_eq!(find_voice(&offered, "A2").map(|v| v.id.as_str()), Some("a2"));
        assert!(find_voice(&offered, "Al").is_none());
    }

    #[test]
    fn edit_distance() {
        assert_eq!(levenshtein("alloy", "aloy"), 1);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kore", "kore"), 0);
    }

    #[test]
    fn short_format_names() {
        let opts: Vec<Value> = ["audio/mpeg", "audio/wav", "audio/pcm", "audio/pcmu"].map(Value::from).to_vec();
        assert_eq!(format_by_short_name("mp3", &opts).as_deref(), Some("audio/mpeg"));
        assert_eq!(format_by_short_name("wav", &opts).as_deref(), Some("audio/wav"));
        assert_eq!(format_by_short_name("ulaw", &opts).as_deref(), Some("audio/pcmu"));
        assert_eq!(format_by_short_name("flac", &opts), None);
        assert_eq!(format_by_short_name("audio/wav", &opts), None);
    }
}
