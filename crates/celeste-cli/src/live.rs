//! `celeste live connect`: one live session. Sends a WAV file's samples (`--input`) or a text turn
//! (`--text`, for providers that take text), prints the transcripts as they arrive, ends the session
//! after the model's answer, and writes the model's audio (raw PCM) to `-o`. Against the real
//! provider when its key is set, otherwise against the bundled emulator.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use futures::StreamExt;
use serde_json::json;

use celeste::live::LiveInput;
use celeste::types::Artifact;
use celeste::{Error, Role};

use crate::args::{Endpoint, Global};

#[derive(Args, Debug)]
pub struct ConnectArgs {
    /// The live model id (`gemini-3.8-live`, `gpt-live-1`).
    #[arg(long, short, default_value = "gemini-3.8-live")]
    pub model: String,
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// A WAV file (16-bit PCM) whose samples are sent as the question.
    #[arg(long, value_name = "FILE", conflicts_with = "text")]
    pub input: Option<PathBuf>,
    /// A text turn (providers that take text mid-session: Google).
    #[arg(long)]
    pub text: Option<String>,
    /// Where to write the answer's audio (raw 16-bit PCM; its rate is printed).
    #[arg(long, short, default_value = "answer.pcm")]
    pub output: PathBuf,
    /// The voice, by id or name.
    #[arg(long)]
    pub voice: Option<String>,
    /// A system instruction.
    #[arg(long)]
    pub instructions: Option<String>,
}

/// A WAV file's samples, mono 16-bit PCM, and their rate.
struct Wav {
    samples: Vec<u8>,
    rate: u32,
}

/// Read a RIFF/WAVE file of 16-bit PCM; several channels are mixed down to one.
fn read_wav(path: &Path) -> Result<Wav, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))?;
    let bad = |why: &str| Error::InvalidInput(format!("{}: {why}", path.display()));
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad("not a WAV file (no RIFF/WAVE header)"));
    }
    let (mut fmt, mut data) = (None, None);
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]) as usize;
        let body = bytes.get(at + 8..(at + 8).saturating_add(len).min(bytes.len())).unwrap_or_default();
        match id {
            b"fmt " => fmt = Some(body),
            b"data" => data = Some(body),
            _ => {}
        }
        at = at.saturating_add(8).saturating_add(len).saturating_add(len % 2);
    }
    let fmt = fmt.filter(|f| f.len() >= 16).ok_or_else(|| bad("no format chunk"))?;
    let data = data.ok_or_else(|| bad("no data chunk"))?;
    let format = u16::from_le_bytes([fmt[0], fmt[1]]);
    let channels = u16::from_le_bytes([fmt[2], fmt[3]]).max(1) as usize;
    let rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
    let bits = u16::from_le_bytes([fmt[14], fmt[15]]);
    if !(format == 1 || format == 0xFFFE) || bits != 16 {
        return Err(bad("only 16-bit PCM WAV files are supported"));
    }
    let frame = 2 * channels;
    let mut samples = Vec::with_capacity(data.len() / channels);
    for f in data.chunks_exact(frame) {
        let sum: i32 = f.chunks_exact(2).map(|s| i32::from(i16::from_le_bytes([s[0], s[1]]))).sum();
        let mixed = (sum / channels as i32) as i16;
        samples.extend_from_slice(&mixed.to_le_bytes());
    }
    Ok(Wav { samples, rate })
}

/// Run `celeste live connect`.
pub async fn run(global: &Global, a: ConnectArgs) -> Result<(), Error> {
    if a.input.is_none() && a.text.is_none() {
        return Err(Error::InvalidInput("give the question: --input FILE.wav or --text \"...\"".into()));
    }
    let wav = a.input.as_deref().map(read_wav).transpose()?;
    let crate::text::Session { telemetry, client, route } =
        crate::text::Session::start(global, &a.model, &a.endpoint).await?;
    let mut call = celeste::live::connect(a.model.clone()).client(client.clone());
    call = crate::text::with_route!(call, route);
    if let Some(v) = &a.voice {
        call = call.voice(v.clone());
    }
    if let Some(i) = &a.instructions {
        call = call.instructions(i.clone());
    }
    let openai = celeste::catalog::provider_of(&a.model) == Some(celeste::Provider::OpenAi);
    // OpenAI Live negotiates one format for both directions: the WAV's rate, when it is one it takes.
    if let (Some(w), true) = (&wav, openai) {
        call = call.audio_format(format!("audio/pcm;rate={}", w.rate));
    }
    let mut session = call.await?;
    match (&wav, &a.text) {
        (Some(w), _) => {
            let audio = Artifact::from_bytes(w.samples.clone())
                .with_mime_type("audio/pcm".parse()?)
                .with_metadata("sample_rate", w.rate);
            session.send(LiveInput::Audio(audio))?;
        }
        (None, Some(t)) => session.send(t.as_str())?,
        (None, None) => {}
    }
    let mut last_role = None;
    while let Some(chunk) = session.next().await {
        let chunk = chunk?;
        if let Some(t) = &chunk.transcript {
            if last_role != Some(t.role) {
                let label = if t.role == Role::User { "\n> " } else { "\n" };
                crate::out(label)?;
                last_role = Some(t.role);
            }
            crate::out(&t.text())?;
        }
        // The answer is over at the turn's end (Google) or its usage report (OpenAI).
        if (chunk.finish_reason.is_some() || chunk.usage.is_some()) && !session.sender().is_ended() {
            session.end()?;
        }
    }
    crate::out("\n")?;
    let out = session.into_output()?;
    let audio = out.content.data.clone().unwrap_or_default();
    std::fs::write(&a.output, &audio).map_err(|e| Error::InvalidInput(format!("{}: {e}", a.output.display())))?;
    if global.json {
        let v = json!({
            "output": a.output.display().to_string(),
            "bytes": audio.len(),
            "mime_type": out.audio_format.mime,
            "sample_rate": out.audio_format.rate,
            "usage": out.usage,
            "finish_reason": out.finish_reason.as_ref().map(|f| f.raw.clone()),
            "messages": out.messages,
        });
        crate::out_json(&v)?;
    } else {
        let _ = writeln!(
            std::io::stderr(),
            "wrote {} ({} bytes of {} at {} Hz)",
            a.output.display(),
            audio.len(),
            out.audio_format.mime,
            out.audio_format.rate
        );
    }
    let _ = session_usage_line(&out.usage);
    if let Some(e) = route.emulator {
        e.shutdown().await;
    }
    drop(client);
    if let Some(t) = telemetry
        && let Some(summary) = t.finish()
    {
        let _ = write!(std::io::stderr(), "{summary}");
    }
    Ok(())
}

/// The usage line on stderr.
fn session_usage_line(u: &celeste::Usage) -> std::io::Result<()> {
    let mut parts = Vec::new();
    if let Some(n) = u.input_tokens {
        parts.push(format!("{n} input tokens"));
    }
    if let Some(n) = u.output_tokens {
        parts.push(format!("{n} output tokens"));
    }
    if let Some(s) = u.billed_units {
        parts.push(format!("{s} billed seconds"));
    }
    if parts.is_empty() {
        return Ok(());
    }
    writeln!(std::io::stderr(), "usage: {}", parts.join(", "))
}
