//! The live protocols as WebSocket endpoints: Gemini Live (`BidiGenerateContent`, Gemini API and
//! Vertex paths) and OpenAI Live (`/v1/live/sessions`).
//!
//! Each session is scripted: the opening is acknowledged, and every user turn (a `clientContent`
//! turn, an audio frame, a tool result) is answered by one model turn: the caller's transcript (for
//! audio), model audio in a few frames (PCM 24 kHz, a quiet tone), the model's transcript in two
//! fragments, usage, and the turn's end. When the session declares a function tool, the first turn
//! is a call to it instead, and the tool result gets the spoken answer.
//!
//! Faults come from the upgrade request's `x-emulator-live-fault` header:
//!
//! - `close-mid-turn`: a close frame with code 1011 after the first audio frame;
//! - `error-event`: an error mid-turn (OpenAI: an `error` event, and the turn goes on; Google: a
//!   close frame with 1011 and a reason, Google's way of failing);
//! - `stall`: silence for 30 s mid-turn;
//! - `drop`: the socket dropped without a close frame, mid-turn;
//! - `interrupt`: the model turn is interrupted (Google `interrupted`);
//! - `bad-ack`: an acknowledgement of the wrong kind; `error-ack`: OpenAI refuses the session;
//! - `no-closed`: OpenAI's `session.close` is answered by closing the socket, without `session.closed`.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::ws::{WsFault, WsFrame, WsSession};

/// Gemini API's live path.
pub(crate) const GOOGLE_PATH: &str = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
/// Vertex AI's live path.
pub(crate) const VERTEX_PATH: &str = "/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent";
/// OpenAI Live's path.
pub(crate) const OPENAI_PATH: &str = "/v1/live/sessions";

/// The caller's words, as the emulator "hears" them in audio.
const HEARD: &str = "What is the weather like?";
/// The model's answer, in two transcript fragments.
const SAID: [&str; 2] = ["It is sunny ", "and warm."];
/// Audio frames per model turn.
const FRAMES: usize = 3;

/// Which protocol a path speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LiveProtocol {
    Google,
    OpenAi,
}

/// The protocol served at `path`, if any.
pub(crate) fn protocol(path: &str) -> Option<LiveProtocol> {
    match path {
        GOOGLE_PATH | VERTEX_PATH => Some(LiveProtocol::Google),
        _ if path.ends_with(OPENAI_PATH) => Some(LiveProtocol::OpenAi),
        _ => None,
    }
}

/// A fault named by the upgrade request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    CloseMidTurn,
    ErrorEvent,
    Stall,
    Drop,
    Interrupt,
    BadAck,
    ErrorAck,
    NoClosed,
}

impl Fault {
    pub(crate) fn parse(s: &str) -> Option<Fault> {
        Some(match s.trim() {
            "close-mid-turn" => Fault::CloseMidTurn,
            "error-event" => Fault::ErrorEvent,
            "stall" => Fault::Stall,
            "drop" => Fault::Drop,
            "interrupt" => Fault::Interrupt,
            "bad-ack" => Fault::BadAck,
            "error-ack" => Fault::ErrorAck,
            "no-closed" => Fault::NoClosed,
            _ => return None,
        })
    }
}

/// 20 ms of a quiet 440 Hz tone, 16-bit little-endian PCM at 24 kHz, for frame `n`.
fn tone(n: usize) -> Vec<u8> {
    let samples = 480;
    let mut out = Vec::with_capacity(samples * 2);
    for i in 0..samples {
        let t = (n * samples + i) as f64 / 24_000.0;
        let v = ((t * 440.0 * std::f64::consts::TAU).sin() * 2_000.0) as i16;
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Run one live session.
pub(crate) async fn session(protocol: LiveProtocol, fault: Option<Fault>, mut ws: WsSession) {
    let Some(opening) = ws.recv_text().await else { return };
    let Ok(opening) = serde_json::from_str::<Value>(&opening) else {
        ws.close(1007, "the opening frame is not JSON").await;
        return;
    };
    let s = Script { protocol, fault, has_tool: has_function_tool(protocol, &opening), called: false };
    match (protocol, fault) {
        (_, Some(Fault::BadAck)) => {
            ws.send_text(json!({"type": "session.updated", "serverContent": {}}).to_string()).await;
            ws.close(1000, "").await;
            return;
        }
        (LiveProtocol::OpenAi, Some(Fault::ErrorAck)) => {
            let err = json!({"type": "error", "error": {"message": "The model `x` does not exist", "code": "model_not_found"}});
            ws.send_text(err.to_string()).await;
            ws.close(1000, "").await;
            return;
        }
        (LiveProtocol::Google, _) if opening.get("setup").is_none() => {
            ws.close(1007, "the first frame must be `setup`").await;
            return;
        }
        (LiveProtocol::OpenAi, _) if opening.get("type").and_then(Value::as_str) != Some("session.start") => {
            ws.send_text(
                json!({"type": "error", "error": {"message": "expected session.start", "code": "invalid_request"}})
                    .to_string(),
            )
            .await;
            ws.close(1000, "").await;
            return;
        }
        (LiveProtocol::Google, _) => {
            ws.send_text(json!({"setupComplete": {}}).to_string()).await;
        }
        (LiveProtocol::OpenAi, _) => {
            let format = opening
                .pointer("/session/audio/format")
                .cloned()
                .unwrap_or_else(|| json!({"type": "audio/pcm", "rate": 24000}));
            let started =
                json!({"type": "session.started", "session": {"id": "sess_emulator", "audio": {"format": format}}});
            ws.send_text(started.to_string()).await;
        }
    }
    run(s, ws).await;
}

fn has_function_tool(protocol: LiveProtocol, opening: &Value) -> bool {
    let tools = match protocol {
        LiveProtocol::Google => opening.pointer("/setup/tools"),
        LiveProtocol::OpenAi => opening.pointer("/session/delegation/responses/tools"),
    };
    tools.and_then(Value::as_array).is_some_and(|ts| {
        ts.iter().any(|t| {
            t.get("functionDeclarations").is_some() || t.get("type").and_then(Value::as_str) == Some("function")
        })
    })
}

struct Script {
    protocol: LiveProtocol,
    fault: Option<Fault>,
    has_tool: bool,
    called: bool,
}

/// What a client frame asks for.
enum Ask {
    /// A user turn; `heard` when it was audio.
    Turn { heard: bool },
    /// A tool result.
    ToolResult,
    /// OpenAI's `session.close`.
    Close,
    /// Nothing to answer.
    Nothing,
}

fn ask(protocol: LiveProtocol, frame: &Value) -> Ask {
    match protocol {
        LiveProtocol::Google => {
            if frame.pointer("/realtimeInput/audio").is_some() {
                Ask::Turn { heard: true }
            } else if frame.pointer("/clientContent/turnComplete").and_then(Value::as_bool) == Some(true) {
                Ask::Turn { heard: false }
            } else if frame.get("toolResponse").is_some() {
                Ask::ToolResult
            } else {
                Ask::Nothing
            }
        }
        LiveProtocol::OpenAi => match frame.get("type").and_then(Value::as_str) {
            Some("session.input_audio.append") => Ask::Turn { heard: true },
            Some("response.item.create") => Ask::ToolResult,
            Some("session.close") => Ask::Close,
            _ => Ask::Nothing,
        },
    }
}

async fn run(mut s: Script, mut ws: WsSession) {
    let mut seconds = 0.0f64;
    let mut turns = 0u64;
    loop {
        let frame = match ws.recv().await {
            Some(WsFrame::Text(t)) => t,
            Some(WsFrame::Binary(_)) => continue,
            // The client closed (Google's `end()`): answer the close.
            Some(WsFrame::Closed(_)) | None => return,
        };
        let Ok(frame) = serde_json::from_str::<Value>(&frame) else {
            ws.close(1007, "a frame is not JSON").await;
            return;
        };
        let heard = match ask(s.protocol, &frame) {
            Ask::Nothing => continue,
            Ask::Close if s.fault == Some(Fault::NoClosed) => {
                ws.close(1000, "").await;
                return;
            }
            Ask::Close => {
                let closed =
                    json!({"type": "session.closed", "reason": "close_requested", "usage": {"seconds": seconds + 1.5}});
                ws.send_text(closed.to_string()).await;
                ws.close(1000, "").await;
                return;
            }
            Ask::ToolResult => false,
            Ask::Turn { heard } => heard,
        };
        turns += 1;
        if s.has_tool && !s.called {
            s.called = true;
            if !send(&mut ws, &tool_call(s.protocol)).await {
                return;
            }
            continue;
        }
        seconds += 1.5;
        let Some(next) = turn(&s, ws, heard, turns, seconds).await else { return };
        ws = next;
    }
}

async fn send(ws: &mut WsSession, v: &Value) -> bool {
    ws.send_text(v.to_string()).await
}

fn tool_call(protocol: LiveProtocol) -> Value {
    match protocol {
        LiveProtocol::Google => {
            json!({"toolCall": {"functionCalls": [{"id": "call_1", "name": "get_weather", "args": {"city": "Paris"}}]}})
        }
        LiveProtocol::OpenAi => json!({"type": "response.event", "delegation_id": "del_1", "event": {
            "type": "response.output_item.done",
            "item": {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}
        }}),
    }
}

/// One model turn; the session back, or `None` when a fault ended it.
async fn turn(s: &Script, mut ws: WsSession, heard: bool, n: u64, seconds: f64) -> Option<WsSession> {
    let google = s.protocol == LiveProtocol::Google;
    if heard {
        let v = if google {
            json!({"serverContent": {"inputTranscription": {"text": HEARD}}})
        } else {
            json!({"type": "session.input_transcript.delta", "delta": HEARD})
        };
        send(&mut ws, &v).await.then_some(())?;
    }
    for i in 0..FRAMES {
        let data = STANDARD.encode(tone(i));
        let v = if google {
            json!({"serverContent": {"modelTurn": {"parts": [{"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": data}}]}}})
        } else {
            json!({"type": "session.output_audio.delta", "delta": data})
        };
        send(&mut ws, &v).await.then_some(())?;
        if i == 0 {
            ws = match s.fault {
                Some(Fault::CloseMidTurn) => {
                    ws.fault(&WsFault::Close { code: 1011, reason: "Internal error".into() }).await;
                    return None;
                }
                Some(Fault::ErrorEvent) if google => {
                    ws.fault(&WsFault::Close { code: 1011, reason: "RESOURCE_EXHAUSTED: quota exceeded".into() }).await;
                    return None;
                }
                Some(Fault::ErrorEvent) => {
                    let err =
                        json!({"type": "error", "error": {"message": "transient failure", "code": "server_error"}});
                    ws.fault(&WsFault::ErrorFrame(err.to_string())).await?
                }
                Some(Fault::Stall) => ws.fault(&WsFault::Stall(Duration::from_secs(30))).await?,
                Some(Fault::Drop) => {
                    ws.fault(&WsFault::Drop).await;
                    return None;
                }
                Some(Fault::Interrupt) if google => {
                    send(&mut ws, &json!({"serverContent": {"interrupted": true}})).await.then_some(())?;
                    ws
                }
                _ => ws,
            };
        }
    }
    for t in SAID {
        let v = if google {
            json!({"serverContent": {"outputTranscription": {"text": t}}})
        } else {
            json!({"type": "session.output_transcript.delta", "delta": t})
        };
        send(&mut ws, &v).await.then_some(())?;
    }
    let end = if google {
        let (input, output) = (10 * n, 20);
        json!({"serverContent": {"turnComplete": true}, "usageMetadata": {
            "promptTokenCount": input, "responseTokenCount": output, "totalTokenCount": input + output
        }})
    } else {
        json!({"type": "session.usage.updated", "usage": {"seconds": seconds}})
    };
    send(&mut ws, &end).await.then_some(())?;
    Some(ws)
}
