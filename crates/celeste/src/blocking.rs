//! The blocking API: the same calls for code without an async runtime.
//!
//! Calls run on a small runtime the library owns (one worker thread, started on first use). Blocking
//! streams drive the very same [`crate::Stream`] as the async API, one `next()` at a time.
//!
//! Inside an async runtime these functions still work, without panicking: the call runs on a helper
//! thread while the calling thread blocks. That stalls the calling worker for the duration of the call,
//! so prefer the async API there.
//!
//! ```no_run
//! let out = celeste::blocking::text::generate("Explain quantum computing", "gpt-5-mini")
//!     .max_tokens(200)
//!     .send()?;
//! println!("{}", out.content);
//!
//! let mut stream = celeste::blocking::text::stream("Explain quantum computing", "gpt-5-mini").send()?;
//! for chunk in &mut stream {
//!     print!("{}", chunk?.content);
//! }
//! println!("\n{:?}", stream.output()?.usage);
//! # Ok::<(), celeste::Error>(())
//! ```

use std::fmt;
use std::future::Future;
use std::sync::OnceLock;

use futures::StreamExt;
use tokio::runtime::Runtime;

use crate::error::{Error, Result};
use crate::types::output::{Chunk, Output};

/// The library's runtime for blocking calls.
fn runtime() -> Result<&'static Runtime> {
    static RT: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("celeste-blocking")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| Error::invalid_input(format!("could not start the blocking runtime: {e}")))
}

/// Run `fut` to completion, blocking the current thread.
pub(crate) fn block_on<F>(fut: F) -> Result<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let rt = runtime()?;
    if tokio::runtime::Handle::try_current().is_err() {
        return Ok(rt.block_on(fut));
    }
    // `block_on` inside a runtime panics; a helper thread outside any runtime context does not.
    std::thread::scope(|s| match s.spawn(|| rt.block_on(fut)).join() {
        Ok(v) => Ok(v),
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// A blocking stream: an iterator over the chunks of the same [`crate::Stream`] the async API returns.
pub struct Stream<D, C = D> {
    inner: crate::Stream<D, C>,
}

impl<D: Send, C: Send> Stream<D, C> {
    pub(crate) fn new(inner: crate::Stream<D, C>) -> Self {
        Stream { inner }
    }

    /// The aggregated output, once the iterator has been exhausted.
    pub fn output(&self) -> Result<&Output<C>> {
        self.inner.output()
    }

    /// Take the aggregated output.
    pub fn into_output(self) -> Result<Output<C>> {
        self.inner.into_output()
    }

    /// The async stream underneath.
    pub fn into_async(self) -> crate::Stream<D, C> {
        self.inner
    }
}

impl<D: Send, C: Send> Iterator for Stream<D, C> {
    type Item = Result<Chunk<D>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.inner.is_finished() && self.inner.chunk_count() > 0 && self.inner.output().is_err() {
            return None;
        }
        match block_on(self.inner.next()) {
            Ok(item) => item,
            Err(e) => Some(Err(e)),
        }
    }
}

impl<D, C> fmt::Debug for Stream<D, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("blocking::Stream").field(&self.inner).finish()
    }
}

/// Blocking `analyze` operations of the domain facades.
macro_rules! blocking_analyze {
    ($($domain:ident),*) => {$(
        #[doc = concat!("Blocking `celeste::", stringify!($domain), "` operations.")]
        pub mod $domain {
            use crate::text::Generate;
            use crate::types::artifact::Artifact;
            use super::text::BlockingUnary;

            #[doc = concat!("Blocking twin of [`crate::", stringify!($domain), "::analyze`]; `.stream()` streams.")]
            pub fn analyze(input: Artifact, prompt: impl Into<String>, model: impl Into<String>) -> Generate<BlockingUnary> {
                crate::$domain::analyze(input, prompt, model).with_mode()
            }
        }
    )*};
}

blocking_analyze!(documents);

/// Blocking `celeste::videos` operations: the same [`VideoCall`](crate::videos::VideoCall) builder,
/// sent with `.send()` (which blocks until the job has settled).
pub mod videos {
    use super::block_on;
    use super::text::BlockingUnary;
    use crate::error::Result;
    use crate::text::{Generate, Unary};
    use crate::types::artifact::Artifact;
    use crate::types::output::Output;
    use crate::types::video::Video;
    use crate::videos::VideoCall;

    /// Blocking twin of [`crate::videos::generate`].
    pub fn generate(prompt: impl Into<String>, model: impl Into<String>) -> VideoCall<BlockingUnary> {
        crate::videos::generate(prompt, model).with_mode()
    }

    /// Blocking twin of [`crate::videos::edit`].
    pub fn edit(video: Artifact, prompt: impl Into<String>, model: impl Into<String>) -> VideoCall<BlockingUnary> {
        crate::videos::edit(video, prompt, model).with_mode()
    }

    /// Blocking twin of [`crate::videos::job`]: resume a submitted job by its id.
    pub fn job(id: impl Into<String>, model: impl Into<String>) -> VideoCall<BlockingUnary> {
        crate::videos::job(id, model).with_mode()
    }

    /// Blocking twin of [`crate::videos::analyze`]; `.stream()` streams.
    pub fn analyze(video: Artifact, prompt: impl Into<String>, model: impl Into<String>) -> Generate<BlockingUnary> {
        crate::videos::analyze(video, prompt, model).with_mode()
    }

    /// Blocking twin of [`crate::Client::download`].
    pub fn download<M: crate::videos::Downloadable + Send + Sync>(client: &crate::Client, media: &M) -> Result<M> {
        block_on(client.download(media))?
    }

    impl VideoCall<BlockingUnary> {
        /// Send the call and wait for the job's videos.
        pub fn send(self) -> Result<Output<Vec<Video>>> {
            let call: VideoCall<Unary> = self.with_mode();
            block_on(call.send())?
        }
    }
}

/// Blocking `celeste::audio` operations: the same [`AudioCall`](crate::audio::AudioCall) and
/// [`TranscribeCall`](crate::audio::TranscribeCall) builders, sent with `.send()`.
pub mod audio {
    use super::text::{BlockingStreaming, BlockingUnary};
    use super::{Stream, block_on};
    use crate::audio::{AudioCall, TranscribeCall};
    use crate::error::Result;
    use crate::text::{Generate, Streaming, Unary};
    use crate::types::artifact::Artifact;
    use crate::types::audio::Audio;
    use crate::types::output::Output;

    /// Blocking twin of [`crate::audio::speak`].
    pub fn speak(text: impl Into<String>, model: impl Into<String>) -> AudioCall<BlockingUnary> {
        crate::audio::speak(text, model).with_mode()
    }

    /// Blocking twin of [`crate::audio::generate`].
    pub fn generate(prompt: impl Into<String>, model: impl Into<String>) -> AudioCall<BlockingUnary> {
        crate::audio::generate(prompt, model).with_mode()
    }

    /// Blocking twin of [`crate::audio::transcribe`].
    pub fn transcribe(audio: Artifact, model: impl Into<String>) -> TranscribeCall<BlockingUnary> {
        crate::audio::transcribe(audio, model).with_mode()
    }

    /// Blocking twin of [`crate::audio::analyze`]; `.stream()` streams.
    pub fn analyze(audio: Artifact, prompt: impl Into<String>, model: impl Into<String>) -> Generate<BlockingUnary> {
        crate::audio::analyze(audio, prompt, model).with_mode()
    }

    impl AudioCall<BlockingUnary> {
        /// Stream the audio bytes instead.
        pub fn stream(self) -> AudioCall<BlockingStreaming> {
            self.with_mode()
        }

        /// Send the call and wait for the whole audio.
        pub fn send(self) -> Result<Output<Audio>> {
            let call: AudioCall<Unary> = self.with_mode();
            block_on(call.send())?
        }
    }

    impl AudioCall<BlockingStreaming> {
        /// Whether the stream keeps the audio it hands out for its output (see
        /// [`AudioCall::keep_audio`](crate::audio::AudioCall::keep_audio)).
        pub fn keep_audio(self, keep: bool) -> Self {
            let call: AudioCall<Streaming> = self.with_mode();
            call.keep_audio(keep).with_mode()
        }

        /// Open the stream (blocks until the response headers arrive).
        pub fn send(self) -> Result<Stream<bytes::Bytes, Audio>> {
            let call: AudioCall<Streaming> = self.with_mode();
            Ok(Stream::new(block_on(call.send())??))
        }
    }

    impl TranscribeCall<BlockingUnary> {
        /// Send the call and wait for the transcript.
        pub fn send(self) -> Result<Output<String>> {
            let call: TranscribeCall<Unary> = self.with_mode();
            block_on(call.send())?
        }
    }
}

/// Live sessions, blocking: see [`crate::live::blocking`].
pub use crate::live::blocking as live;

/// Blocking `celeste::images` operations: the same [`ImageCall`](crate::images::ImageCall) builder,
/// sent with `.send()`.
pub mod images {
    use super::text::{BlockingStreaming, BlockingUnary};
    use super::{Stream, block_on};
    use crate::error::Result;
    use crate::images::ImageCall;
    use crate::text::{Generate, Streaming, Unary};
    use crate::types::artifact::Artifact;
    use crate::types::media::Image;
    use crate::types::output::Output;

    /// Blocking twin of [`crate::images::generate`].
    pub fn generate(prompt: impl Into<String>, model: impl Into<String>) -> ImageCall<BlockingUnary> {
        crate::images::generate(prompt, model).with_mode()
    }

    /// Blocking twin of [`crate::images::edit`].
    pub fn edit(image: Artifact, prompt: impl Into<String>, model: impl Into<String>) -> ImageCall<BlockingUnary> {
        crate::images::edit(image, prompt, model).with_mode()
    }

    /// Blocking twin of [`crate::images::upscale`].
    pub fn upscale(image: Artifact, model: impl Into<String>) -> ImageCall<BlockingUnary> {
        crate::images::upscale(image, model).with_mode()
    }

    /// Blocking twin of [`crate::images::decide`]: answer questions about an image; `.send()` it.
    pub fn decide<N: Into<String>>(
        image: Artifact,
        questions: impl IntoIterator<Item = (N, crate::types::decision::Question)>,
        model: impl Into<String>,
    ) -> crate::Decide<BlockingUnary> {
        crate::images::decide(image, questions, model).with_mode()
    }

    /// Blocking twin of [`crate::images::analyze`]; `.stream()` streams.
    pub fn analyze(image: Artifact, prompt: impl Into<String>, model: impl Into<String>) -> Generate<BlockingUnary> {
        crate::images::analyze(image, prompt, model).with_mode()
    }

    /// Blocking twin of [`crate::images::segment`]; `.send()` it.
    pub fn segment(image: Artifact, model: impl Into<String>) -> crate::SegmentCall<BlockingUnary> {
        crate::images::segment(image, model).with_mode()
    }

    impl crate::SegmentCall<BlockingUnary> {
        /// Send the call and wait for the masks (the job polled to its end).
        pub fn send(self) -> Result<Output<Vec<crate::types::SegmentationMask>>> {
            let call: crate::SegmentCall<Unary> = self.with_mode();
            block_on(call.send())?
        }
    }

    impl ImageCall<BlockingUnary> {
        /// Stream partial images instead.
        pub fn stream(self) -> ImageCall<BlockingStreaming> {
            self.with_mode()
        }

        /// Send the call and wait for the finished images.
        pub fn send(self) -> Result<Output<Vec<Image>>> {
            let call: ImageCall<Unary> = self.with_mode();
            block_on(call.send())?
        }
    }

    impl ImageCall<BlockingStreaming> {
        /// Open the stream (blocks until the response headers arrive).
        pub fn send(self) -> Result<Stream<Image, Vec<Image>>> {
            let call: ImageCall<Streaming> = self.with_mode();
            Ok(Stream::new(block_on(call.send())??))
        }
    }
}

/// Blocking text operations.
pub mod text {
    use super::{Stream, block_on};
    use crate::error::Result;
    use crate::text::{Generate, Streaming, Unary};
    use crate::types::output::Output;
    use serde::Serialize;

    /// Marker: a blocking call returning an [`Output`].
    #[derive(Debug, Clone, Copy)]
    pub struct BlockingUnary;

    /// Marker: a blocking call returning a blocking [`Stream`].
    #[derive(Debug, Clone, Copy)]
    pub struct BlockingStreaming;

    /// Generate text, blocking (see [`crate::text::generate`]).
    pub fn generate(prompt: impl Into<String>, model: impl Into<String>) -> Generate<BlockingUnary> {
        crate::text::generate(prompt, model).with_mode()
    }

    /// Embed one text, blocking (see [`crate::text::embed`]).
    pub fn embed(text: impl Into<String>, model: impl Into<String>) -> crate::embeddings::EmbedCall<BlockingUnary> {
        crate::text::embed(text, model).with_mode()
    }

    /// Embed several texts, blocking (see [`crate::text::embed_many`]).
    pub fn embed_many<I: IntoIterator<Item = S>, S: Into<String>>(
        texts: I,
        model: impl Into<String>,
    ) -> crate::embeddings::EmbedCall<BlockingUnary> {
        crate::text::embed_many(texts, model).with_mode()
    }

    impl crate::embeddings::EmbedCall<BlockingUnary> {
        /// Send the call and wait for the vectors.
        pub fn send(self) -> Result<Output<crate::wire::embeddings::Embeddings>> {
            let call: crate::embeddings::EmbedCall<Unary> = self.with_mode();
            block_on(call.send())?
        }
    }

    /// Stream text, blocking (see [`crate::text::stream`]).
    pub fn stream(prompt: impl Into<String>, model: impl Into<String>) -> Generate<BlockingStreaming> {
        crate::text::generate(prompt, model).with_mode()
    }

    /// Answer questions about a state, blocking (see [`crate::text::decide`]); `.send()` it.
    pub fn decide<N: Into<String>>(
        state: impl Into<crate::types::decision::DecisionValue>,
        questions: impl IntoIterator<Item = (N, crate::types::decision::Question)>,
        model: impl Into<String>,
    ) -> crate::Decide<BlockingUnary> {
        crate::text::decide(state, questions, model).with_mode()
    }

    impl crate::Decide<BlockingUnary> {
        /// Send the call and wait for the answers.
        pub fn send(self) -> Result<Output<crate::types::decision::Answers>> {
            let call: crate::Decide<Unary> = self.with_mode();
            block_on(call.send())?
        }
    }

    impl<C: Serialize + Send + 'static> Generate<BlockingUnary, C> {
        /// Stream the reply instead.
        pub fn stream(self) -> Generate<BlockingStreaming, C> {
            self.with_mode()
        }

        /// Send the call and wait for the whole reply.
        pub fn send(self) -> Result<Output<C>> {
            let call: Generate<Unary, C> = self.with_mode();
            block_on(call.send())?
        }
    }

    impl<C: Serialize + Send + 'static> Generate<BlockingStreaming, C> {
        /// Open the stream (blocks until the response headers arrive).
        pub fn send(self) -> Result<Stream<String, C>> {
            let call: Generate<Streaming, C> = self.with_mode();
            Ok(Stream::new(block_on(call.send())??))
        }
    }
}
