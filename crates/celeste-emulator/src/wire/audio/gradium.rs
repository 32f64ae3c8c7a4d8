//! Gradium text-to-speech as a WebSocket endpoint (`/api/speech/tts`): a `setup` message (voice,
//! model, output format) answered by `ready`, then `text` messages until the client's
//! `end_of_stream`, answered by base64 `audio` frames of real audio ([`super::sound`]) and the
//! server's own `end_of_stream`, then a normal close. A bad setup is an `error` message and a close
//! with 1008, as Gradium does.
//!
//! Faults come from the upgrade request's `x-emulator-ws-fault` header, applied after the first audio
//! frame: `close` (a close frame with 1011), `error` (an `error` message, then the close), `stall`
//! (silence for 30 s), `drop` (the socket dropped without a close frame), `early-end` (a normal
//! close without `end_of_stream`).

use std::time::Duration;

use serde_json::{Value, json};

use super::sound::Sound;
use crate::wire::images::b64;
use crate::ws::{WsFault, WsFrame, WsSession};

/// The socket's path.
pub(crate) const PATH: &str = "/api/speech/tts";

/// The header that names a fault.
pub(crate) const FAULT_HEADER: &str = "x-emulator-ws-fault";

/// Audio frames per answer.
const FRAMES: usize = 4;

/// A fault named by the upgrade request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Close,
    Error,
    Stall,
    Drop,
    EarlyEnd,
}

impl Fault {
    pub(crate) fn parse(s: &str) -> Option<Fault> {
        Some(match s.trim() {
            "close" => Fault::Close,
            "error" => Fault::Error,
            "stall" => Fault::Stall,
            "drop" => Fault::Drop,
            "early-end" => Fault::EarlyEnd,
            _ => return None,
        })
    }
}

/// The sound of an output format, or why it cannot be made.
fn sound(format: &str) -> Result<Sound, String> {
    Ok(match format {
        "wav" => Sound::Wav(48_000),
        "pcm" => Sound::Pcm(48_000),
        "pcm_8000" => Sound::Pcm(8000),
        "pcm_16000" => Sound::Pcm(16_000),
        "pcm_24000" => Sound::Pcm(24_000),
        "ulaw_8000" => Sound::Ulaw,
        "alaw_8000" => Sound::Alaw,
        "opus" => return Err("the emulator does not make opus audio".into()),
        other => return Err(format!("invalid output_format {other:?}")),
    })
}

async fn refuse(mut ws: WsSession, message: &str) {
    ws.send_text(json!({"type": "error", "message": message, "code": 1008}).to_string()).await;
    ws.close(1008, message).await;
}

/// Run one session.
pub(crate) async fn session(fault: Option<Fault>, mut ws: WsSession) {
    let Some(first) = ws.recv_text().await else { return };
    let setup: Value = serde_json::from_str(&first).unwrap_or(Value::Null);
    if setup.get("type").and_then(Value::as_str) != Some("setup") {
        return refuse(ws, "the first message must be a setup message").await;
    }
    let field = |k: &str| setup.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    if field("voice_id").is_none() || field("model_name").is_none() {
        return refuse(ws, "setup needs voice_id and model_name").await;
    }
    let sound = match sound(field("output_format").unwrap_or("wav")) {
        Ok(s) => s,
        Err(why) => return refuse(ws, &why).await,
    };
    let request_id = crate::plan::fresh_hex(16);
    if !ws.send_text(json!({"type": "ready", "request_id": request_id}).to_string()).await {
        return;
    }
    let mut text = String::new();
    loop {
        match ws.recv().await {
            Some(WsFrame::Text(t)) => {
                let m: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
                match m.get("type").and_then(Value::as_str) {
                    Some("text") => text.push_str(m.get("text").and_then(Value::as_str).unwrap_or_default()),
                    Some("end_of_stream") => break,
                    _ => return refuse(ws, "expected a text or end_of_stream message").await,
                }
            }
            Some(WsFrame::Binary(_)) => {}
            Some(WsFrame::Closed(_)) | None => return,
        }
    }
    let secs = (text.chars().count() as f64 * 0.05).clamp(0.2, 5.0);
    let audio = sound.render(secs);
    let size = audio.len().div_ceil(FRAMES).max(1);
    for (i, piece) in audio.chunks(size).enumerate() {
        if !ws.send_text(json!({"type": "audio", "audio": b64(piece)}).to_string()).await {
            return;
        }
        if i == 0
            && let Some(f) = fault
        {
            let as_ws = match f {
                Fault::Close => WsFault::Close { code: 1011, reason: "internal error (emulated)".into() },
                Fault::Error => {
                    let e = json!({"type": "error", "message": "synthesis failed (emulated)", "code": 1011});
                    WsFault::ErrorFrame(e.to_string())
                }
                Fault::Stall => WsFault::Stall(Duration::from_secs(30)),
                Fault::Drop => WsFault::Drop,
                Fault::EarlyEnd => return ws.close(1000, "done").await,
            };
            let Some(next) = ws.fault(&as_ws).await else { return };
            ws = next;
            if f == Fault::Error {
                return ws.close(1011, "synthesis failed").await;
            }
        }
    }
    if ws.send_text(json!({"type": "end_of_stream"}).to_string()).await {
        ws.close(1000, "done").await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_faults() {
        assert_eq!(sound("pcm_16000").unwrap(), Sound::Pcm(16_000));
        assert!(sound("opus").is_err());
        assert!(sound("mp9").is_err());
        assert_eq!(Fault::parse("stall"), Some(Fault::Stall));
        assert_eq!(Fault::parse("nope"), None);
    }
}
