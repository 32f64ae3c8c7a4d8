//! Every OpenTelemetry name this library emits, in one place.
//!
//! By default the names of the GenAI semantic conventions v1.41.x are used. When
//! `OTEL_SEMCONV_STABILITY_OPT_IN` contains `gen_ai_latest_experimental`, the renamed attributes and
//! metrics of the semantic-conventions-genai main branch are emitted instead ([`Semconv::Latest`]).
//! Data the conventions have no name for goes under `celeste.*`.

/// Which version of the GenAI conventions to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Semconv {
    /// Semantic conventions v1.41.x (the last released GenAI model).
    #[default]
    V1_41,
    /// The semantic-conventions-genai main branch (`gen_ai_latest_experimental`).
    Latest,
}

impl Semconv {
    /// The choice the environment makes (`OTEL_SEMCONV_STABILITY_OPT_IN`).
    pub fn from_env() -> Self {
        match std::env::var("OTEL_SEMCONV_STABILITY_OPT_IN") {
            Ok(v) if v.split(',').any(|s| s.trim() == "gen_ai_latest_experimental") => Semconv::Latest,
            _ => Semconv::V1_41,
        }
    }

    /// The cache-write attribute (`cache_creation` in v1.41, `cache_write` on main).
    pub fn cache_write_attr(self) -> &'static str {
        match self {
            Semconv::V1_41 => USAGE_CACHE_CREATION,
            Semconv::Latest => USAGE_CACHE_WRITE,
        }
    }

    /// The operation-duration metric (inference calls got their own name on main).
    pub fn duration_metric(self) -> &'static str {
        match self {
            Semconv::V1_41 => METRIC_OPERATION_DURATION,
            Semconv::Latest => METRIC_INFERENCE_DURATION,
        }
    }

    /// The time-to-first-chunk metric.
    pub fn ttfc_metric(self) -> &'static str {
        match self {
            Semconv::V1_41 => METRIC_TIME_TO_FIRST_CHUNK,
            Semconv::Latest => METRIC_INFERENCE_TIME_TO_FIRST_CHUNK,
        }
    }

    /// The time-per-output-chunk metric.
    pub fn tpoc_metric(self) -> &'static str {
        match self {
            Semconv::V1_41 => METRIC_TIME_PER_OUTPUT_CHUNK,
            Semconv::Latest => METRIC_INFERENCE_TIME_PER_OUTPUT_CHUNK,
        }
    }
}

// Span attributes (v1.41.x).
/// `gen_ai.operation.name`.
pub const OPERATION_NAME: &str = "gen_ai.operation.name";
/// `gen_ai.provider.name`.
pub const PROVIDER_NAME: &str = "gen_ai.provider.name";
/// `gen_ai.request.model`.
pub const REQUEST_MODEL: &str = "gen_ai.request.model";
/// `gen_ai.request.stream`.
pub const REQUEST_STREAM: &str = "gen_ai.request.stream";
/// `gen_ai.request.temperature`.
pub const REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
/// `gen_ai.request.max_tokens`.
pub const REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
/// `gen_ai.request.top_p`.
pub const REQUEST_TOP_P: &str = "gen_ai.request.top_p";
/// `gen_ai.request.top_k`.
pub const REQUEST_TOP_K: &str = "gen_ai.request.top_k";
/// `gen_ai.request.seed`.
pub const REQUEST_SEED: &str = "gen_ai.request.seed";
/// `gen_ai.request.stop_sequences`.
pub const REQUEST_STOP_SEQUENCES: &str = "gen_ai.request.stop_sequences";
/// `gen_ai.request.frequency_penalty`.
pub const REQUEST_FREQUENCY_PENALTY: &str = "gen_ai.request.frequency_penalty";
/// `gen_ai.request.presence_penalty`.
pub const REQUEST_PRESENCE_PENALTY: &str = "gen_ai.request.presence_penalty";
/// `gen_ai.embeddings.dimension.count`.
pub const EMBEDDINGS_DIMENSION_COUNT: &str = "gen_ai.embeddings.dimension.count";
/// `gen_ai.output.type`.
pub const OUTPUT_TYPE: &str = "gen_ai.output.type";
/// `gen_ai.response.id`.
pub const RESPONSE_ID: &str = "gen_ai.response.id";
/// `gen_ai.response.model`.
pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
/// `gen_ai.response.finish_reasons`.
pub const RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// `gen_ai.response.time_to_first_chunk`.
pub const RESPONSE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";
/// `gen_ai.usage.input_tokens`.
pub const USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// `gen_ai.usage.output_tokens`.
pub const USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// `gen_ai.usage.cache_read.input_tokens`.
pub const USAGE_CACHE_READ: &str = "gen_ai.usage.cache_read.input_tokens";
/// `gen_ai.usage.cache_creation.input_tokens` (v1.41).
pub const USAGE_CACHE_CREATION: &str = "gen_ai.usage.cache_creation.input_tokens";
/// `gen_ai.usage.cache_write.input_tokens` (main).
pub const USAGE_CACHE_WRITE: &str = "gen_ai.usage.cache_write.input_tokens";
/// `gen_ai.usage.reasoning.output_tokens`.
pub const USAGE_REASONING: &str = "gen_ai.usage.reasoning.output_tokens";
/// `gen_ai.input.messages` (opt-in content).
pub const INPUT_MESSAGES: &str = "gen_ai.input.messages";
/// `gen_ai.output.messages` (opt-in content).
pub const OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
/// `gen_ai.system_instructions` (opt-in content).
pub const SYSTEM_INSTRUCTIONS: &str = "gen_ai.system_instructions";
/// `gen_ai.tool.definitions` (opt-in content).
pub const TOOL_DEFINITIONS: &str = "gen_ai.tool.definitions";
/// `gen_ai.token.type` (metric attribute).
pub const TOKEN_TYPE: &str = "gen_ai.token.type";
/// `gen_ai.token.modality` (metric attribute on main).
pub const TOKEN_MODALITY: &str = "gen_ai.token.modality";
/// `error.type`.
pub const ERROR_TYPE: &str = "error.type";
/// `server.address`.
pub const SERVER_ADDRESS: &str = "server.address";
/// `server.port`.
pub const SERVER_PORT: &str = "server.port";

// HTTP client span attributes.
/// `http.request.method`.
pub const HTTP_REQUEST_METHOD: &str = "http.request.method";
/// `http.response.status_code`.
pub const HTTP_RESPONSE_STATUS_CODE: &str = "http.response.status_code";
/// `http.request.resend_count`.
pub const HTTP_REQUEST_RESEND_COUNT: &str = "http.request.resend_count";
/// `url.full`.
pub const URL_FULL: &str = "url.full";

// Off-spec data.
/// `celeste.usage.` prefix for usage the conventions do not name (images, billed units, megapixels, seconds).
pub const CELESTE_USAGE_PREFIX: &str = "celeste.usage.";
/// `celeste.modality`.
pub const CELESTE_MODALITY: &str = "celeste.modality";
/// `celeste.operation`.
pub const CELESTE_OPERATION: &str = "celeste.operation";

// Events.
/// The event carrying content when content goes to events.
pub const EVENT_OPERATION_DETAILS: &str = "gen_ai.client.inference.operation.details";

// Metrics (v1.41.x).
/// `gen_ai.client.operation.duration`.
pub const METRIC_OPERATION_DURATION: &str = "gen_ai.client.operation.duration";
/// `gen_ai.client.token.usage`.
pub const METRIC_TOKEN_USAGE: &str = "gen_ai.client.token.usage";
/// `gen_ai.client.operation.time_to_first_chunk`.
pub const METRIC_TIME_TO_FIRST_CHUNK: &str = "gen_ai.client.operation.time_to_first_chunk";
/// `gen_ai.client.operation.time_per_output_chunk`.
pub const METRIC_TIME_PER_OUTPUT_CHUNK: &str = "gen_ai.client.operation.time_per_output_chunk";

// Metrics (main).
/// `gen_ai.client.inference.duration`.
pub const METRIC_INFERENCE_DURATION: &str = "gen_ai.client.inference.duration";
/// `gen_ai.client.inference.time_to_first_chunk`.
pub const METRIC_INFERENCE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.client.inference.time_to_first_chunk";
/// `gen_ai.client.inference.time_per_output_chunk`.
pub const METRIC_INFERENCE_TIME_PER_OUTPUT_CHUNK: &str = "gen_ai.client.inference.time_per_output_chunk";
/// `gen_ai.client.inference.usage.input_tokens` (counter).
pub const METRIC_INFERENCE_INPUT_TOKENS: &str = "gen_ai.client.inference.usage.input_tokens";
/// `gen_ai.client.inference.usage.output_tokens` (counter).
pub const METRIC_INFERENCE_OUTPUT_TOKENS: &str = "gen_ai.client.inference.usage.output_tokens";

/// Bucket boundaries for durations, from the conventions.
pub const DURATION_BUCKETS: &[f64] =
    &[0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

/// Bucket boundaries for token counts, from the conventions.
pub const TOKEN_BUCKETS: &[f64] = &[
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
    67108864.0,
];

/// Every `gen_ai.*` name this library can emit, for the registry test.
#[cfg(test)]
pub const ALL_GEN_AI_NAMES: &[&str] = &[
    EMBEDDINGS_DIMENSION_COUNT,
    OPERATION_NAME,
    PROVIDER_NAME,
    REQUEST_MODEL,
    REQUEST_STREAM,
    REQUEST_TEMPERATURE,
    REQUEST_MAX_TOKENS,
    REQUEST_TOP_P,
    REQUEST_TOP_K,
    REQUEST_SEED,
    REQUEST_STOP_SEQUENCES,
    REQUEST_FREQUENCY_PENALTY,
    REQUEST_PRESENCE_PENALTY,
    OUTPUT_TYPE,
    RESPONSE_ID,
    RESPONSE_MODEL,
    RESPONSE_FINISH_REASONS,
    RESPONSE_TIME_TO_FIRST_CHUNK,
    USAGE_INPUT_TOKENS,
    USAGE_OUTPUT_TOKENS,
    USAGE_CACHE_READ,
    USAGE_CACHE_CREATION,
    USAGE_REASONING,
    INPUT_MESSAGES,
    OUTPUT_MESSAGES,
    SYSTEM_INSTRUCTIONS,
    TOOL_DEFINITIONS,
    TOKEN_TYPE,
];
