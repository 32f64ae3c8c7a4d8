//! The command line: every namespace operation of the library, with its parameters as flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "celeste", version, about = "One typed interface to every AI modality on every provider.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: Global,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Print machine-readable JSON instead of text (for a streamed call, the final output once the
    /// stream has ended).
    #[arg(long, global = true)]
    pub json: bool,
    /// After the call, print a summary of the GenAI span and metrics it produced.
    #[arg(long, global = true)]
    pub trace: bool,
    /// Export spans and metrics over OTLP/HTTP to this endpoint (e.g. http://127.0.0.1:4318).
    #[arg(long, global = true, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Text generation and embeddings.
    #[command(subcommand)]
    Text(TextCommand),
    /// Image generation, editing, upscaling and analysis.
    #[command(subcommand)]
    Images(ImagesCommand),
    /// Speech, transcription and audio analysis.
    #[command(subcommand)]
    Audio(AudioCommand),
    /// Video generation and analysis.
    #[command(subcommand)]
    Videos(VideosCommand),
    /// Document analysis.
    #[command(subcommand)]
    Documents(DocumentsCommand),
    /// Realtime audio sessions (Gemini Live, OpenAI Live).
    #[command(subcommand)]
    Live(LiveCommand),
    /// The model catalog.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// The local provider emulator.
    #[command(subcommand)]
    Emulator(EmulatorCommand),
}

#[derive(Subcommand, Debug)]
pub enum TextCommand {
    /// Generate text from a prompt (streams to the terminal).
    Generate(GenerateArgs),
    /// Embed text.
    Embed(EmbedArgs),
    /// Answer named, typed questions about a state (decision models such as TypeSafe's Jev).
    Decide(Box<crate::decide::DecideArgs>),
}

#[derive(Subcommand, Debug)]
pub enum LiveCommand {
    /// Open a session, ask one question (a WAV file or text), print the transcripts as they arrive
    /// and write the spoken answer (`-o`).
    Connect(crate::live::ConnectArgs),
}

#[derive(Subcommand, Debug)]
pub enum ImagesCommand {
    /// Generate images from a prompt (`-o` names the file).
    Generate(crate::images::GenerateArgs),
    /// Edit an image as the prompt says.
    Edit(crate::images::EditArgs),
    /// Upscale an image.
    Upscale(crate::images::UpscaleArgs),
    /// Segment an image: masks of what a prompt, points or boxes point at.
    Segment(Box<crate::images::SegmentArgs>),
    /// Ask a model about an image.
    Analyze(AnalyzeArgs),
}

#[derive(Subcommand, Debug)]
pub enum AudioCommand {
    /// Speak text.
    Speak(MediaGenerateArgs),
    /// Transcribe audio.
    Transcribe(MediaEditArgs),
    /// Ask a model about audio.
    Analyze(AnalyzeArgs),
}

#[derive(Subcommand, Debug)]
pub enum VideosCommand {
    /// Generate a video from a prompt (`-o` names the file; the job is polled to its end).
    Generate(crate::videos::GenerateArgs),
    /// Edit a video as the prompt says.
    Edit(crate::videos::EditArgs),
    /// Resume a video job by its id (after a deadline, or from another process).
    Job(crate::videos::JobArgs),
    /// Ask a model about a video.
    Analyze(AnalyzeArgs),
}

#[derive(Subcommand, Debug)]
pub enum DocumentsCommand {
    /// Ask a model about a document.
    Analyze(AnalyzeArgs),
}

#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// List models, optionally filtered.
    List {
        /// Only this provider.
        #[arg(long)]
        provider: Option<String>,
        /// Only this modality.
        #[arg(long)]
        modality: Option<String>,
        /// Only this operation.
        #[arg(long)]
        operation: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum EmulatorCommand {
    /// Serve the emulator until interrupted.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// A scenario file (JSON).
        #[arg(long)]
        scenarios: Option<PathBuf>,
    },
}

/// Where a call goes.
#[derive(Args, Debug, Clone)]
pub struct Target {
    /// The model id; the catalog resolves its provider.
    #[arg(long, short, default_value = "gpt-5-mini")]
    pub model: String,
    /// The provider (for ids the catalog does not know).
    #[arg(long)]
    pub provider: Option<String>,
    /// Send to this base URL (any compatible server).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Speak this protocol to the base URL: openresponses or chatcompletions.
    #[arg(long)]
    pub protocol: Option<String>,
    /// Use the bundled emulator even if a provider key is set.
    #[arg(long)]
    pub emulator: bool,
    /// Send the API key held in this environment variable, for any target (a provider, or a
    /// --protocol endpoint, which otherwise gets no key). Without it, CELESTE_API_KEY is used when
    /// set, then the provider's own variable. The key is never printed.
    #[arg(long, value_name = "NAME")]
    pub api_key_env: Option<String>,
    /// Call the model through Google Vertex AI in this project (Gemini, Claude, Mistral and DeepSeek
    /// models; needs --vertex-token-env).
    #[arg(long, value_name = "PROJECT")]
    pub vertex_project: Option<String>,
    /// The Vertex AI location (global, us, eu, or a region such as us-east5; default
    /// GOOGLE_CLOUD_LOCATION, then global).
    #[arg(long, value_name = "LOCATION")]
    pub vertex_location: Option<String>,
    /// The environment variable holding a Vertex AI OAuth access token (for example the output of
    /// `gcloud auth print-access-token`). Setting it sends the call to Vertex AI.
    #[arg(long, value_name = "NAME")]
    pub vertex_token_env: Option<String>,
}

/// Where a media, embedding or decision call goes, besides its model (whose default differs by
/// command). Text commands take [`Target`], which adds `--protocol` and the Vertex AI flags.
#[derive(Args, Debug, Clone)]
pub struct Endpoint {
    /// The provider (for ids the catalog does not know, e.g. Ollama models).
    #[arg(long)]
    pub provider: Option<String>,
    /// Send to this base URL (the model keeps its provider's API).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Use the bundled emulator even if a provider key is set.
    #[arg(long)]
    pub emulator: bool,
    /// Send the API key held in this environment variable (else CELESTE_API_KEY when set, then the
    /// provider's own variable). The key is never printed.
    #[arg(long, value_name = "NAME")]
    pub api_key_env: Option<String>,
}

impl Target {
    /// The target for `model` at `endpoint`, speaking `protocol` if one is named (no Vertex AI).
    pub fn at(model: &str, protocol: Option<String>, endpoint: &Endpoint) -> Target {
        Target {
            model: model.to_string(),
            provider: endpoint.provider.clone(),
            base_url: endpoint.base_url.clone(),
            protocol,
            emulator: endpoint.emulator,
            api_key_env: endpoint.api_key_env.clone(),
            vertex_project: None,
            vertex_location: None,
            vertex_token_env: None,
        }
    }
}

/// Text generation parameters.
#[derive(Args, Debug, Clone)]
pub struct TextParams {
    /// Sampling temperature.
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Output token limit.
    #[arg(long)]
    pub max_tokens: Option<u64>,
    /// Nucleus sampling.
    #[arg(long)]
    pub top_p: Option<f64>,
    /// Top-k sampling.
    #[arg(long)]
    pub top_k: Option<u64>,
    /// Sampling seed.
    #[arg(long)]
    pub seed: Option<i64>,
    /// A stop sequence (repeat for more).
    #[arg(long)]
    pub stop: Vec<String>,
    /// Frequency penalty.
    #[arg(long, allow_hyphen_values = true)]
    pub frequency_penalty: Option<f64>,
    /// Presence penalty.
    #[arg(long, allow_hyphen_values = true)]
    pub presence_penalty: Option<f64>,
    /// A reasoning token budget (-1: the model decides, 0: off).
    #[arg(long, allow_hyphen_values = true)]
    pub thinking_budget: Option<i64>,
    /// A named reasoning effort (minimal, low, medium, high, ...; `models list --json` shows each
    /// model's levels). `--reasoning-effort` is the same flag under OpenAI's name.
    #[arg(long, alias = "reasoning-effort")]
    pub thinking_level: Option<String>,
    /// Response verbosity (low, medium, high).
    #[arg(long)]
    pub verbosity: Option<String>,
    /// A system instruction.
    #[arg(long)]
    pub system: Option<String>,
    /// Wait for the whole reply instead of streaming it.
    #[arg(long)]
    pub no_stream: bool,
    /// Also print the model's reasoning, when the provider returns it: before the answer, dimmed on
    /// a terminal. Without this flag reasoning is not shown (it is in --json output either way).
    #[arg(long)]
    pub reasoning: bool,
    /// Print each stream chunk as one JSON line as it arrives, then the final output as the last
    /// line (`{"output": …}`).
    #[arg(long, conflicts_with = "no_stream")]
    pub json_stream: bool,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The prompt.
    pub prompt: String,
    #[command(flatten)]
    pub target: Target,
    // Boxed: the text parameters are most of the command's size, and clippy wants subcommand
    // variants of similar sizes.
    #[command(flatten)]
    pub params: Box<TextParams>,
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// The media file (or URL) to analyze.
    pub input: String,
    /// The question.
    #[arg(long, default_value = "Describe this.")]
    pub prompt: String,
    #[command(flatten)]
    pub target: Target,
    // Boxed: the text parameters are most of the command's size, and clippy wants subcommand
    // variants of similar sizes.
    #[command(flatten)]
    pub params: Box<TextParams>,
}

#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// The texts to embed (one vector each).
    #[arg(required = true)]
    pub texts: Vec<String>,
    /// The model id (OpenAI, Mistral and Cohere embedding models are not in the reference's catalog:
    /// name their --provider).
    #[arg(long, short, default_value = "gemini-embedding-2")]
    pub model: String,
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// Speak this protocol to --base-url (openresponses or chatcompletions: both mean the
    /// compatible `/v1/embeddings`).
    #[arg(long)]
    pub protocol: Option<String>,
    /// The vector size, for models that can shorten their vectors.
    #[arg(long)]
    pub dimensions: Option<u32>,
}

#[derive(Args, Debug)]
pub struct MediaGenerateArgs {
    /// The prompt (or text to speak).
    pub prompt: String,
    /// The model id.
    #[arg(long, short)]
    pub model: Option<String>,
    /// Where to write the result.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct MediaEditArgs {
    /// The input file.
    pub input: PathBuf,
    /// The instruction.
    #[arg(long)]
    pub prompt: Option<String>,
    /// The model id.
    #[arg(long, short)]
    pub model: Option<String>,
    /// Where to write the result.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}
