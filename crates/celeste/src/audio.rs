//! `celeste::audio`: speak, transcribe, generate music (and analyze, embed).
//!
//! ```no_run
//! # async fn demo() -> celeste::Result<()> {
//! use futures::StreamExt as _;
//!
//! let out = celeste::audio::speak("Hello there", "tts-1").voice("alloy").output_format("mp3").await?;
//! out.content.save("hello.mp3").await?;
//!
//! // The same speech as it is synthesised: chunks of audio bytes a player can take as they come.
//! let mut stream = celeste::audio::speak("Hello there", "eleven_flash_v2_5").stream().await?;
//! while let Some(chunk) = stream.next().await {
//!     let bytes = chunk?.content;
//!     # let _ = bytes;
//! }
//!
//! let heard = celeste::audio::transcribe(celeste::Artifact::from_path("meeting.wav"), "whisper-1").await?;
//! println!("{} ({:?} s)", heard.content, heard.usage.seconds);
//! # Ok(())
//! # }
//! ```
//!
//! Every setter is checked against the model's catalog constraints before anything is sent: a voice
//! by id or name (an unknown one fails listing the close matches), the output format (by the
//! catalog's names, or the short `mp3`, `wav`, `pcm` where the catalog lists MIME types), speed,
//! language. A parameter the provider's API cannot carry is dropped with one warning.

use std::fmt;
use std::future::IntoFuture;
use std::marker::PhantomData;

use bytes::Bytes;
use futures::future::BoxFuture;
use serde_json::Value;

use crate::call::CallOptions;
use crate::call::audio::prepare_audio;
use crate::client::Client;
use crate::error::Result;
use crate::stream::Stream;
use crate::text::{Generate, Streaming, Unary};
use crate::types::artifact::Artifact;
use crate::types::audio::Audio;
use crate::types::enums::Operation;
use crate::types::message::Part;
use crate::types::output::Output;
use crate::wire::audio::{AudioInput, AudioRequest};

/// A stream of audio bytes as they are synthesised; its output is the whole audio.
pub type AudioStream = Stream<Bytes, Audio>;

/// A speech or music call being configured. `.await` it to send it.
///
/// `M` says how it is sent: [`Unary`] (the whole audio) or [`Streaming`] (audio bytes as they are
/// made; speech only).
#[must_use = "a call does nothing until it is awaited or sent"]
pub struct AudioCall<M = Unary> {
    opts: CallOptions,
    req: AudioRequest,
    mode: PhantomData<M>,
}

/// A transcription being configured. `.await` it to send it: the output is the transcript, with the
/// audio's duration in [`Usage::seconds`](crate::Usage::seconds) when the provider reports it.
#[must_use = "a call does nothing until it is awaited or sent"]
pub struct TranscribeCall<M = Unary> {
    opts: CallOptions,
    req: AudioRequest,
    mode: PhantomData<M>,
}

macro_rules! common {
    ($call:ident) => {
        impl<M> Clone for $call<M> {
            fn clone(&self) -> Self {
                $call { opts: self.opts.clone(), req: self.req.clone(), mode: PhantomData }
            }
        }

        impl<M> fmt::Debug for $call<M> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($call))
                    .field("opts", &self.opts)
                    .field("request", &self.req)
                    .field("mode", &std::any::type_name::<M>())
                    .finish()
            }
        }

        impl<M> $call<M> {
            crate::call::call_setters!(opts; client, provider, base_url, api_key, auth, extra_body, header, timeout);

            pub(crate) fn with_mode<N>(self) -> $call<N> {
                $call { opts: self.opts, req: self.req, mode: PhantomData }
            }

            fn set(mut self, name: &str, value: impl Into<Value>) -> Self {
                self.req.params.set(name, value);
                self
            }

            /// The language, as an ISO 639-1 code (`en`, `fr`, ...; the model's catalog entry lists
            /// those it takes). Google TTS gets it as a locale (`en-US`).
            pub fn language(self, language: impl Into<String>) -> Self {
                self.set("language", language.into())
            }

            /// Any other parameter the model's catalog entry names, checked against its constraint
            /// like the others.
            pub fn option(self, name: &str, value: impl Into<Value>) -> Self {
                self.set(name, value)
            }
        }
    };
}
common!(AudioCall);
common!(TranscribeCall);

fn request(operation: Operation, model: String, text: Option<String>, audio: Vec<Artifact>) -> AudioRequest {
    AudioRequest::new(model, operation, AudioInput { text, audio, keep_audio: true })
}

/// Speak text (text-to-speech).
pub fn speak(text: impl Into<String>, model: impl Into<String>) -> AudioCall {
    AudioCall {
        opts: CallOptions::default(),
        req: request(Operation::Speak, model.into(), Some(text.into()), Vec::new()),
        mode: PhantomData,
    }
}

/// Generate audio (music: Google Lyria) from a prompt.
pub fn generate(prompt: impl Into<String>, model: impl Into<String>) -> AudioCall {
    AudioCall {
        opts: CallOptions::default(),
        req: request(Operation::Generate, model.into(), Some(prompt.into()), Vec::new()),
        mode: PhantomData,
    }
}

/// Transcribe audio to text (speech-to-text). Exactly one audio input, given as bytes or a file.
///
/// The APIs take one file per call, so the signature takes one: transcribe several with one call each.
pub fn transcribe(audio: Artifact, model: impl Into<String>) -> TranscribeCall {
    TranscribeCall {
        opts: CallOptions::default(),
        req: request(Operation::Transcribe, model.into(), None, vec![audio]),
        mode: PhantomData,
    }
}

/// Ask a model about audio (a text call; `.stream()` streams it).
pub fn analyze(audio: Artifact, prompt: impl Into<String>, model: impl Into<String>) -> Generate<Unary> {
    crate::text::generate(prompt, model).part(Part::audio(audio)).operation(Operation::Analyze)
}

/// Embed audio.
pub fn embed(audio: Vec<Artifact>, model: impl Into<String>) -> crate::embeddings::EmbedCall {
    crate::embeddings::embed_media(audio, crate::wire::embeddings::EmbedInput::Audio, model)
}

impl<M> AudioCall<M> {
    /// The voice, by the catalog's id or name (`alloy`, `Kore`, `Rachel`, ...); see
    /// [`catalog::voices`](crate::catalog::voices).
    pub fn voice(self, voice: impl Into<String>) -> Self {
        self.set("voice", voice.into())
    }

    /// Speaking speed (OpenAI 0.25–4, ElevenLabs 0.7–1.2).
    pub fn speed(self, speed: f64) -> Self {
        self.set("speed", speed)
    }

    /// The audio format: the catalog's names (`audio/mpeg`, `mp3_44100_128`, `wav`, ...), or `mp3`,
    /// `wav`, `pcm`, `ogg` where the catalog lists MIME types.
    pub fn output_format(self, format: impl Into<String>) -> Self {
        self.set("output_format", format.into())
    }

    /// How to say it (OpenAI `gpt-4o-mini-tts` instructions).
    pub fn instructions(self, instructions: impl Into<String>) -> Self {
        self.set("prompt", instructions.into())
    }

    /// An image that guides the music (Lyria; call again for more).
    pub fn reference_image(mut self, image: Artifact) -> Self {
        self.req.params.reference_images.push(image);
        self
    }
}

impl<M> TranscribeCall<M> {
    /// Text that guides the transcription (spellings, the previous segment).
    pub fn prompt(self, prompt: impl Into<String>) -> Self {
        self.set("prompt", prompt.into())
    }

    /// Sampling temperature, 0–1.
    pub fn temperature(self, temperature: f64) -> Self {
        self.set("temperature", temperature)
    }
}

impl AudioCall<Unary> {
    /// Stream the audio as it is synthesised (OpenAI, ElevenLabs and Google TTS).
    pub fn stream(self) -> AudioCall<Streaming> {
        self.with_mode()
    }

    /// Send the call and wait for the whole audio.
    pub async fn send(self) -> Result<Output<Audio>> {
        prepare_audio(self.opts, self.req, false).await?.audio().await
    }
}

impl AudioCall<Streaming> {
    /// Whether the stream keeps the audio it hands out, to give it whole as its output (the default:
    /// `true`). A caller that writes the chunks somewhere itself, as they come, can say `false`: the
    /// stream then holds no audio, however long, and its output describes the audio (MIME type,
    /// sample rate, usage, what the provider reported) without its bytes.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use futures::StreamExt;
    /// use std::io::Write;
    ///
    /// let mut stream = celeste::audio::speak("A long chapter...", "tts-1").stream().keep_audio(false).await?;
    /// let mut file = std::fs::File::create("chapter.mp3")?;
    /// while let Some(chunk) = stream.next().await {
    ///     file.write_all(&chunk?.content)?;
    /// }
    /// let out = stream.into_output()?;
    /// assert!(out.content.artifact.data.is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn keep_audio(mut self, keep: bool) -> Self {
        self.req.input.keep_audio = keep;
        self
    }

    /// Open the stream: it is returned once the response headers have arrived.
    pub async fn send(self) -> Result<AudioStream> {
        prepare_audio(self.opts, self.req, true).await?.stream().await
    }
}

impl TranscribeCall<Unary> {
    /// Send the call and wait for the transcript.
    pub async fn send(self) -> Result<Output<String>> {
        prepare_audio(self.opts, self.req, false).await?.transcript().await
    }
}

impl IntoFuture for AudioCall<Unary> {
    type Output = Result<Output<Audio>>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl IntoFuture for AudioCall<Streaming> {
    type Output = Result<AudioStream>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl IntoFuture for TranscribeCall<Unary> {
    type Output = Result<Output<String>>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl Client {
    /// Audio operations with this client.
    pub fn audio(&self) -> AudioOps<'_> {
        AudioOps { client: self }
    }
}

/// Audio operations bound to a [`Client`].
#[derive(Debug, Clone, Copy)]
pub struct AudioOps<'a> {
    client: &'a Client,
}

impl AudioOps<'_> {
    /// Speak text (see [`speak`]).
    pub fn speak(&self, text: impl Into<String>, model: impl Into<String>) -> AudioCall {
        speak(text, model).client(self.client.clone())
    }

    /// Generate music (see [`generate`]).
    pub fn generate(&self, prompt: impl Into<String>, model: impl Into<String>) -> AudioCall {
        generate(prompt, model).client(self.client.clone())
    }

    /// Transcribe audio (see [`transcribe`]).
    pub fn transcribe(&self, audio: Artifact, model: impl Into<String>) -> TranscribeCall {
        transcribe(audio, model).client(self.client.clone())
    }
}
