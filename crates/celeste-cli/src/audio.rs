//! `celeste audio speak | transcribe | generate` and `celeste models voices`: speech streamed to a
//! file as its bytes arrive (a byte count on stderr, hidden when stderr is not a terminal), a
//! transcript on stdout, music to a file, and a model's voices; against the real provider when its
//! key is set, otherwise against the bundled emulator.

use std::path::{Path, PathBuf};

use clap::Args;
use futures::StreamExt;
use indicatif::ProgressBar;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use celeste::types::{Artifact, Audio};
use celeste::{AudioCall, Client, Error, Output};

use crate::args::{Endpoint, Global, Target};
use crate::trace::Telemetry;

#[derive(Args, Debug)]
pub struct SpeakArgs {
    /// The text to speak.
    pub text: String,
    /// The model id; the catalog resolves its provider.
    #[arg(long, short, default_value = "tts-1")]
    pub model: String,
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// The voice, by id or name (`celeste models voices -m MODEL` lists them).
    #[arg(long)]
    pub voice: Option<String>,
    /// Speaking speed.
    #[arg(long)]
    pub speed: Option<f64>,
    /// The audio format (`mp3`, `wav`, `pcm`, or the model's own names such as `mp3_44100_128`).
    #[arg(long)]
    pub format: Option<String>,
    /// The language (ISO 639-1, `en`).
    #[arg(long)]
    pub language: Option<String>,
    /// How to say it (OpenAI `gpt-4o-mini-tts`).
    #[arg(long)]
    pub instructions: Option<String>,
    /// Where to write the audio. Default: `speech.<format>` in the current directory.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Wait for the whole audio instead of streaming it to the file.
    #[arg(long)]
    pub no_stream: bool,
}

#[derive(Args, Debug)]
pub struct TranscribeArgs {
    /// The audio file.
    pub input: PathBuf,
    /// The model id.
    #[arg(long, short, default_value = "whisper-1")]
    pub model: String,
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// The spoken language (ISO 639-1, `en`).
    #[arg(long)]
    pub language: Option<String>,
    /// Text that guides the transcription (names, spellings).
    #[arg(long)]
    pub prompt: Option<String>,
    /// Sampling temperature, 0–1.
    #[arg(long)]
    pub temperature: Option<f64>,
}

#[derive(Args, Debug)]
pub struct MusicArgs {
    /// What the music should be.
    pub prompt: String,
    /// The model id.
    #[arg(long, short, default_value = "lyria-3-clip-preview")]
    pub model: String,
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// An image that guides the music (repeat for more).
    #[arg(long = "reference", value_name = "FILE")]
    pub references: Vec<PathBuf>,
    /// Where to write the audio. Default: `music.<format>` in the current directory.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Which audio operation.
pub enum Ask {
    Speak(SpeakArgs),
    Transcribe(TranscribeArgs),
    Generate(MusicArgs),
}

impl Ask {
    fn target(&self) -> Target {
        let (model, endpoint) = match self {
            Ask::Speak(a) => (&a.model, &a.endpoint),
            Ask::Transcribe(a) => (&a.model, &a.endpoint),
            Ask::Generate(a) => (&a.model, &a.endpoint),
        };
        Target::at(model, None, endpoint)
    }
}

/// Run one audio command.
pub async fn run(global: &Global, ask: Ask) -> Result<(), Error> {
    let telemetry = Telemetry::new(global.trace, global.otlp_endpoint.as_deref()).map_err(Error::InvalidInput)?;
    let mut builder = Client::builder();
    if let Some(t) = &telemetry {
        builder = builder.telemetry(t.config());
    }
    let client = builder.build()?;
    let route = crate::text::route(&ask.target()).await?;
    if let Some(note) = &route.note {
        eprintln!("celeste: {note}");
    }
    let result = match ask {
        Ask::Speak(a) => {
            let mut call = client.audio().speak(a.text.clone(), a.model.clone());
            call = crate::text::with_route!(call, route);
            speak(global, call, &a).await
        }
        Ask::Generate(a) => {
            let mut call = client.audio().generate(a.prompt.clone(), a.model.clone());
            call = crate::text::with_route!(call, route);
            for r in &a.references {
                call = call.reference_image(Artifact::from_path(r));
            }
            let bar = progress_bar("waiting for the music");
            let out = call.await;
            bar.finish_and_clear();
            let out = out?;
            let path = a.output.clone().unwrap_or_else(|| PathBuf::from(format!("music.{}", ext(&out.content))));
            out.content.save(&path).await?;
            let bytes = out.content.artifact.data.as_ref().map_or(0, |d| d.len());
            report(global, &out, &path, bytes)
        }
        Ask::Transcribe(a) => {
            let mut call = client.audio().transcribe(Artifact::from_path(&a.input), a.model.clone());
            call = crate::text::with_route!(call, route);
            if let Some(l) = &a.language {
                call = call.language(l.clone());
            }
            if let Some(p) = &a.prompt {
                call = call.prompt(p.clone());
            }
            if let Some(t) = a.temperature {
                call = call.temperature(t);
            }
            let out = call.await?;
            if global.json {
                crate::out_json(&out)
            } else {
                crate::out(&format!("{}\n", out.content))?;
                if let Some(s) = out.usage.seconds {
                    eprintln!("celeste: {s:.1} s of audio · model {}", out.metadata.model);
                }
                Ok(())
            }
        }
    };
    drop(client);
    if let Some(t) = telemetry {
        let summary = tokio::task::spawn_blocking(move || t.finish()).await.ok().flatten();
        if let Some(s) = summary {
            crate::out(&s)?;
        }
    }
    if let Some(e) = route.emulator {
        e.shutdown().await;
    }
    result
}

/// Speak: stream the bytes into a temporary file beside the target as they arrive, then rename it
/// (so a failed stream never leaves a partial file under the name asked for).
async fn speak(global: &Global, mut call: AudioCall, a: &SpeakArgs) -> Result<(), Error> {
    if let Some(v) = &a.voice {
        call = call.voice(v.clone());
    }
    if let Some(s) = a.speed {
        call = call.speed(s);
    }
    if let Some(f) = &a.format {
        call = call.output_format(f.clone());
    }
    if let Some(l) = &a.language {
        call = call.language(l.clone());
    }
    if let Some(i) = &a.instructions {
        call = call.instructions(i.clone());
    }
    let bar = progress_bar("waiting for the first audio");
    if a.no_stream {
        let out = call.await;
        bar.finish_and_clear();
        let out = out?;
        let path = a.output.clone().unwrap_or_else(|| PathBuf::from(format!("speech.{}", ext(&out.content))));
        out.content.save(&path).await?;
        let bytes = out.content.artifact.data.as_ref().map_or(0, |d| d.len());
        return report(global, &out, &path, bytes);
    }
    let dir = a.output.as_deref().and_then(Path::parent).filter(|p| !p.as_os_str().is_empty());
    let tmp = dir.unwrap_or(Path::new(".")).join(format!(".celeste-speech.{}.tmp", std::process::id()));
    let written = stream_to(call, &tmp, &bar).await;
    bar.finish_and_clear();
    let (out, bytes) = match written {
        Ok(written) => written,
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
    };
    let path = a.output.clone().unwrap_or_else(|| PathBuf::from(format!("speech.{}", ext(&out.content))));
    if let Err(e) = tokio::fs::rename(&tmp, &path).await {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(Error::InvalidInput(format!("could not write `{}`: {e}", path.display())));
    }
    report(global, &out, &path, bytes)
}

/// Write the stream's audio to `tmp` as it comes; the output (which, the file being the audio, does
/// not keep it) and the number of bytes written.
async fn stream_to(call: AudioCall, tmp: &Path, bar: &ProgressBar) -> Result<(Output<Audio>, usize), Error> {
    let io = |e: std::io::Error| Error::InvalidInput(format!("could not write `{}`: {e}", tmp.display()));
    let mut file = tokio::fs::File::create(tmp).await.map_err(io)?;
    let mut stream = call.stream().keep_audio(false).await?;
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        file.write_all(&chunk.content).await.map_err(io)?;
        total += chunk.content.len();
        bar.set_message(format!("{} KiB of audio", total / 1024));
    }
    file.flush().await.map_err(io)?;
    Ok((stream.into_output()?, total))
}

/// The file extension of the audio's type.
fn ext(audio: &Audio) -> &'static str {
    match audio.mime().as_ref().map(|m| m.as_str()) {
        Some("audio/mpeg") => "mp3",
        Some("audio/wav") => "wav",
        Some("audio/ogg") => "ogg",
        Some("audio/aac") => "aac",
        Some("audio/flac") => "flac",
        Some("audio/mp4") => "m4a",
        Some("audio/pcm") => "pcm",
        _ => "bin",
    }
}

/// The images commands' spinner on stderr (drawn only on a terminal), saying `message`.
fn progress_bar(message: &'static str) -> ProgressBar {
    let bar = crate::images::progress_bar();
    bar.set_message(message);
    bar
}

fn report(global: &Global, out: &Output<Audio>, path: &Path, bytes: usize) -> Result<(), Error> {
    let a = &out.content;
    if global.json {
        let v = json!({
            "path": path.display().to_string(),
            "mime_type": a.mime().map(|m| m.as_str().to_string()),
            "bytes": bytes,
            "duration": a.duration,
            "sample_rate": a.sample_rate,
            "text": a.text,
            "usage": out.usage,
            "model": out.metadata.model,
        });
        return crate::out_json(&v);
    }
    let mime = a.mime().map_or_else(|| "audio".to_string(), |m| m.as_str().to_string());
    let secs = a.duration.map(|d| format!(", {d:.2} s")).unwrap_or_default();
    crate::out(&format!("wrote {} ({bytes} bytes of {mime}{secs})\n", path.display()))?;
    for line in &a.text {
        crate::out(&format!("{line}\n"))?;
    }
    Ok(())
}

/// `celeste models voices -m MODEL`: the voices a model offers (`--json`: as the catalog has them).
pub fn voices(json: bool, model: &str, provider: Option<&str>) -> Result<(), Error> {
    let provider: Option<celeste::Provider> = provider.map(str::parse).transpose()?;
    let m = celeste::catalog::get_model(model, provider)
        .ok_or_else(|| Error::ModelNotFound { model: model.to_string(), provider })?;
    let voices = celeste::catalog::model_voices(&m);
    if voices.is_empty() {
        return Err(Error::InvalidInput(format!("{model} has no voices to choose from")));
    }
    if json {
        return crate::out_json(&voices);
    }
    let mut table = String::new();
    for v in &voices {
        let langs: Vec<&str> = v.languages.iter().map(String::as_str).collect();
        table.push_str(&format!("{:<24} {:<40} {}\n", v.id, v.name, langs.join(",")));
    }
    crate::out(&table)?;
    eprintln!("{} voices", voices.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_follow_the_audio_type() {
        let typed = |m: celeste::types::MimeType| Audio::new(Artifact::from_bytes(&b"x"[..]).with_mime_type(m));
        assert_eq!(ext(&typed(celeste::types::MimeType::AudioMpeg)), "mp3");
        assert_eq!(ext(&typed(celeste::types::MimeType::AudioPcm)), "pcm");
        assert_eq!(ext(&Audio::new(Artifact::from_bytes(&b"x"[..]))), "bin");
    }
}
