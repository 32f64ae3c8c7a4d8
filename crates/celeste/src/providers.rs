//! Providers are data: each is a profile (credential scheme, base URL, which wire API serves each
//! modality and operation, and its telemetry name), not a copy of wire code. Seven providers that speak
//! Chat Completions are seven rows here.

use crate::types::enums::{Modality, Protocol, Provider};
pub use crate::wire::WireApi;

/// How a provider wants its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CredentialSpec {
    /// The environment variable holding the key.
    pub env_var: &'static str,
    /// A second variable read when the first is not set (Meta's `META_API_KEY`).
    pub fallback_env_var: Option<&'static str>,
    /// The header that carries it.
    pub header: &'static str,
    /// The text before the key in the header value.
    pub prefix: &'static str,
}

/// Which wire API serves a modality, and at which path below the base URL. A `{model}` in the path is
/// replaced by the model id, percent-escaped as one path segment (Gemini generateContent puts the
/// model in the URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Route {
    /// The wire API.
    pub wire: WireApi,
    /// The request path, appended to the base URL (`{model}` is replaced by the model id).
    pub path: &'static str,
}

impl Route {
    /// The URL of this route below `base` for `model`. A model id that cannot be a path segment
    /// (empty, `.`, `..`, control characters) is refused when the path holds it; calls refuse such
    /// ids before this, so an `Err` here names the reason only.
    pub fn url(&self, base: &str, model: &str) -> Result<String, String> {
        let path = if self.path.contains("{model}") {
            let segment = crate::transport::urls::path_segment(model)
                .map_err(|why| format!("the model id {model:?} cannot be used in a URL: {why}"))?;
            self.path.replace("{model}", &segment)
        } else {
            self.path.to_string()
        };
        Ok(join_url(base, &path))
    }
}

/// Everything that distinguishes one provider from another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderProfile {
    /// The provider.
    pub provider: Provider,
    /// Its credential scheme; `None` for providers that take no key (Ollama).
    pub credential: Option<CredentialSpec>,
    /// The default base URL (overridable per call with `base_url`).
    pub base_url: &'static str,
    /// The text route (`text.generate` and every `analyze`), when the provider serves text.
    pub text: Option<Route>,
    /// The OpenTelemetry `gen_ai.provider.name` value.
    pub telemetry_name: &'static str,
}

#[cfg_attr(
    not(feature = "all-providers"),
    allow(dead_code, reason = "used by the rows of providers compiled into the build")
)]
const fn key(env_var: &'static str, header: &'static str, prefix: &'static str) -> Option<CredentialSpec> {
    Some(CredentialSpec { env_var, fallback_env_var: None, header, prefix })
}

#[cfg_attr(
    not(feature = "all-providers"),
    allow(dead_code, reason = "used by the rows of providers compiled into the build")
)]
const fn bearer(env_var: &'static str) -> Option<CredentialSpec> {
    key(env_var, "authorization", "Bearer ")
}

/// A bearer key read from `env_var`, else from `fallback`.
#[cfg_attr(not(feature = "meta"), allow(dead_code, reason = "Meta's row uses it"))]
const fn bearer_or(env_var: &'static str, fallback: &'static str) -> Option<CredentialSpec> {
    Some(CredentialSpec { env_var, fallback_env_var: Some(fallback), header: "authorization", prefix: "Bearer " })
}

#[cfg_attr(
    not(feature = "all-providers"),
    allow(dead_code, reason = "used by the rows of providers compiled into the build")
)]
const fn route(wire: WireApi, path: &'static str) -> Option<Route> {
    Some(Route { wire, path })
}

#[cfg_attr(
    not(feature = "all-providers"),
    allow(dead_code, reason = "used by the rows of providers compiled into the build")
)]
const RESPONSES: Option<Route> = route(WireApi::OpenResponses, "/v1/responses");
#[cfg_attr(
    not(any(feature = "mistral", feature = "moonshot", feature = "huggingface")),
    allow(dead_code, reason = "the route of Chat Completions providers compiled out of this build")
)]
const CHAT: Option<Route> = route(WireApi::ChatCompletions, "/v1/chat/completions");

/// One row per provider, compiled in only with the provider's cargo feature: a provider left out of a
/// build has no profile, so nothing can route to it (and its wire code, where it has its own, is
/// left out too).
macro_rules! profiles {
    ($($p:ident [$feature:literal]: $cred:expr, $base:literal, $text:expr, $otel:literal;)*) => {
        const PROFILES: &[ProviderProfile] = &[
            $(#[cfg(feature = $feature)] ProviderProfile { provider: Provider::$p, credential: $cred, base_url: $base, text: $text, telemetry_name: $otel },)*
        ];
    };
}

profiles! {
    OpenAi ["openai"]: bearer("OPENAI_API_KEY"), "https://api.openai.com", RESPONSES, "openai";
    Anthropic ["anthropic"]: key("ANTHROPIC_API_KEY", "x-api-key", ""), "https://api.anthropic.com", route(WireApi::AnthropicMessages, "/v1/messages"), "anthropic";
    Google ["google"]: key("GOOGLE_API_KEY", "x-goog-api-key", ""), "https://generativelanguage.googleapis.com", route(WireApi::GeminiInteractions, "/v1beta/interactions"), "gcp.gemini";
    Mistral ["mistral"]: bearer("MISTRAL_API_KEY"), "https://api.mistral.ai", CHAT, "mistral_ai";
    Moonshot ["moonshot"]: bearer("MOONSHOT_API_KEY"), "https://api.moonshot.ai", CHAT, "moonshot_ai";
    Cohere ["cohere"]: key("COHERE_API_KEY", "authorization", "bearer "), "https://api.cohere.com", route(WireApi::CohereChat, "/v2/chat"), "cohere";
    XAi ["xai"]: bearer("XAI_API_KEY"), "https://api.x.ai", RESPONSES, "x_ai";
    DeepSeek ["deepseek"]: bearer("DEEPSEEK_API_KEY"), "https://api.deepseek.com", route(WireApi::ChatCompletions, "/chat/completions"), "deepseek";
    HuggingFace ["huggingface"]: bearer("HF_TOKEN"), "https://router.huggingface.co", CHAT, "huggingface";
    BytePlus ["byteplus"]: bearer("BYTEPLUS_API_KEY"), "https://ark.ap-southeast.bytepluses.com", None, "byteplus";
    ElevenLabs ["elevenlabs"]: key("ELEVENLABS_API_KEY", "xi-api-key", ""), "https://api.elevenlabs.io", None, "elevenlabs";
    Bfl ["bfl"]: key("BFL_API_KEY", "x-key", ""), "https://api.bfl.ai", None, "bfl";
    Groq ["groq"]: bearer("GROQ_API_KEY"), "https://api.groq.com", route(WireApi::ChatCompletions, "/openai/v1/chat/completions"), "groq";
    Gradium ["gradium"]: key("GRADIUM_API_KEY", "x-api-key", ""), "wss://eu.api.gradium.ai", None, "gradium";
    OpenRouter ["openrouter"]: bearer("OPENROUTER_API_KEY"), "https://openrouter.ai/api", RESPONSES, "openrouter";
    TopazLabs ["topazlabs"]: key("TOPAZ_API_KEY", "x-api-key", ""), "https://api.topazlabs.com", None, "topazlabs";
    Fal ["fal"]: key("FAL_KEY", "authorization", "Key "), "https://queue.fal.run", None, "fal";
    Ollama ["ollama"]: None, "http://localhost:11434", RESPONSES, "ollama";
    Meta ["meta"]: bearer_or("MODEL_API_KEY", "META_API_KEY"), "https://api.meta.ai", RESPONSES, "meta";
    TypeSafe ["typesafe"]: bearer("TYPESAFE_API_KEY"), "https://api.typesafe.ai", None, "typesafe";
}

/// The profile of an implemented provider. `None` for the providers the reference lists but does not
/// implement (Replicate, Stability AI, Luma, Perplexity).
pub fn profile(provider: Provider) -> Option<&'static ProviderProfile> {
    PROFILES.iter().find(|p| p.provider == provider)
}

/// Whether this library implements `provider` at all (in some build): every provider the reference
/// implements. Replicate, Stability AI, Luma and Perplexity are listed by the reference, not served.
pub fn implemented(provider: Provider) -> bool {
    !matches!(provider, Provider::Replicate | Provider::StabilityAi | Provider::Luma | Provider::Perplexity)
}

/// Whether a provider's cargo feature is enabled in this build.
pub fn compiled_in(provider: Provider) -> bool {
    match provider {
        Provider::OpenAi => cfg!(feature = "openai"),
        Provider::Anthropic => cfg!(feature = "anthropic"),
        Provider::Google => cfg!(feature = "google"),
        Provider::Mistral => cfg!(feature = "mistral"),
        Provider::Moonshot => cfg!(feature = "moonshot"),
        Provider::Cohere => cfg!(feature = "cohere"),
        Provider::XAi => cfg!(feature = "xai"),
        Provider::DeepSeek => cfg!(feature = "deepseek"),
        Provider::HuggingFace => cfg!(feature = "huggingface"),
        Provider::BytePlus => cfg!(feature = "byteplus"),
        Provider::ElevenLabs => cfg!(feature = "elevenlabs"),
        Provider::Bfl => cfg!(feature = "bfl"),
        Provider::Groq => cfg!(feature = "groq"),
        Provider::Gradium => cfg!(feature = "gradium"),
        Provider::OpenRouter => cfg!(feature = "openrouter"),
        Provider::TopazLabs => cfg!(feature = "topazlabs"),
        Provider::Fal => cfg!(feature = "fal"),
        Provider::Ollama => cfg!(feature = "ollama"),
        Provider::Meta => cfg!(feature = "meta"),
        Provider::TypeSafe => cfg!(feature = "typesafe"),
        Provider::Replicate | Provider::StabilityAi | Provider::Luma | Provider::Perplexity => false,
    }
}

/// The video API `provider` serves for `model`, if any (Google: Veo ids on Veo, the others on
/// Interactions; Vertex AI is chosen by authentication, in the call).
pub fn video_api(provider: Provider, model: &str) -> Option<crate::wire::videos::VideoApi> {
    let _ = model;
    match provider {
        #[cfg(feature = "google")]
        Provider::Google if model.starts_with("veo") => Some(crate::wire::videos::VideoApi::Veo),
        #[cfg(feature = "google")]
        Provider::Google => Some(crate::wire::videos::VideoApi::Omni),
        #[cfg(feature = "xai")]
        Provider::XAi => Some(crate::wire::videos::VideoApi::XAi),
        #[cfg(feature = "byteplus")]
        Provider::BytePlus => Some(crate::wire::videos::VideoApi::BytePlus),
        _ => None,
    }
}

/// The image API `provider` serves, if any.
pub fn image_api(provider: Provider) -> Option<crate::wire::images::ImageApi> {
    match provider {
        #[cfg(feature = "openai")]
        Provider::OpenAi => Some(crate::wire::images::ImageApi::OpenAi),
        #[cfg(feature = "byteplus")]
        Provider::BytePlus => Some(crate::wire::images::ImageApi::BytePlus),
        #[cfg(feature = "xai")]
        Provider::XAi => Some(crate::wire::images::ImageApi::XAi),
        #[cfg(feature = "google")]
        Provider::Google => Some(crate::wire::images::ImageApi::Google),
        #[cfg(feature = "ollama")]
        Provider::Ollama => Some(crate::wire::images::ImageApi::Ollama),
        #[cfg(feature = "bfl")]
        Provider::Bfl => Some(crate::wire::images::ImageApi::Bfl),
        #[cfg(feature = "topazlabs")]
        Provider::TopazLabs => Some(crate::wire::images::ImageApi::Topaz),
        _ => None,
    }
}

/// The embeddings API `provider` serves, if any (OpenAI's and Mistral's speak the same one).
pub fn embeddings_api(provider: Provider) -> Option<crate::wire::embeddings::EmbeddingsApi> {
    use crate::wire::embeddings::EmbeddingsApi;
    match provider {
        Provider::OpenAi | Provider::Mistral => Some(EmbeddingsApi::OpenAi),
        Provider::Google => Some(EmbeddingsApi::Google),
        Provider::Cohere => Some(EmbeddingsApi::Cohere),
        _ => None,
    }
}

/// The segmentation API `provider` serves, if any.
pub(crate) fn segmentation_api(provider: Provider) -> Option<crate::wire::segmentation::SegmentationApi> {
    match provider {
        #[cfg(feature = "fal")]
        Provider::Fal => Some(crate::wire::segmentation::SegmentationApi::FalQueue),
        _ => None,
    }
}

/// The decision API `provider` serves, if any.
pub(crate) fn decision_api(provider: Provider) -> Option<crate::wire::decision::DecisionApi> {
    match provider {
        #[cfg(feature = "typesafe")]
        Provider::TypeSafe => Some(crate::wire::decision::DecisionApi::TypeSafe),
        _ => None,
    }
}

/// The default base URL of a protocol endpoint (a local OpenAI-compatible server).
pub const PROTOCOL_DEFAULT_BASE_URL: &str = "http://localhost:8000";

/// The route a protocol uses.
pub fn protocol_route(protocol: Protocol) -> Route {
    match protocol {
        Protocol::OpenResponses => Route { wire: WireApi::OpenResponses, path: "/v1/responses" },
        Protocol::ChatCompletions => Route { wire: WireApi::ChatCompletions, path: "/v1/chat/completions" },
    }
}

/// The route serving `modality` for `provider`, if any.
pub fn route_for(provider: Provider, modality: Modality) -> Option<Route> {
    let p = profile(provider)?;
    match modality {
        Modality::Text => p.text,
        _ => None,
    }
}

/// Join a base URL and a route path. A base that already ends in `/v1` (the usual way OpenAI-compatible
/// servers are written down) does not get a second `/v1`. A query on the base (`?api-version=…`)
/// stays after the joined path, and a fragment on it is dropped.
pub fn join_url(base: &str, path: &str) -> String {
    let without_fragment = base.split_once('#').map_or(base, |(b, _)| b);
    let base_path = without_fragment.split_once('?').map_or(without_fragment, |(b, _)| b).trim_end_matches('/');
    let path = match path.strip_prefix("/v1") {
        Some(rest) if rest.starts_with('/') && base_path.ends_with("/v1") => rest,
        _ => path,
    };
    crate::transport::urls::append_path(without_fragment, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
    #[test]
    fn every_implemented_provider_has_a_profile() {
        let missing: Vec<Provider> = Provider::ALL.iter().copied().filter(|p| profile(*p).is_none()).collect();
        assert_eq!(missing, [Provider::Replicate, Provider::StabilityAi, Provider::Luma, Provider::Perplexity]);
    }

    #[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
    #[test]
    fn telemetry_names_follow_the_semantic_conventions() {
        assert_eq!(profile(Provider::Google).unwrap().telemetry_name, "gcp.gemini");
        assert_eq!(profile(Provider::Mistral).unwrap().telemetry_name, "mistral_ai");
        assert_eq!(profile(Provider::XAi).unwrap().telemetry_name, "x_ai");
        assert_eq!(profile(Provider::Moonshot).unwrap().telemetry_name, "moonshot_ai");
    }

    #[test]
    fn join_url_avoids_double_v1() {
        assert_eq!(join_url("http://h:1", "/v1/responses"), "http://h:1/v1/responses");
        assert_eq!(join_url("http://h:1/", "/v1/responses"), "http://h:1/v1/responses");
        assert_eq!(join_url("http://h:1/v1", "/v1/chat/completions"), "http://h:1/v1/chat/completions");
        assert_eq!(join_url("https://openrouter.ai/api", "/v1/responses"), "https://openrouter.ai/api/v1/responses");
        assert_eq!(join_url("http://h:1/v1/?api-version=2", "/v1/responses"), "http://h:1/v1/responses?api-version=2");
        assert_eq!(join_url("http://h:1/openai?a=1#f", "/v1/responses"), "http://h:1/openai/v1/responses?a=1");
    }

    #[test]
    fn model_ids_are_one_escaped_segment() {
        let r = Route { wire: WireApi::GeminiGenerateContent, path: "/v1beta/models/{model}:generateContent" };
        assert_eq!(
            r.url("http://h", "../../x?y#z").unwrap(),
            "http://h/v1beta/models/..%2F..%2Fx%3Fy%23z:generateContent"
        );
        assert!(r.url("http://h", "..").is_err());
        let r = Route { wire: WireApi::OpenResponses, path: "/v1/responses" };
        assert_eq!(r.url("http://h", "any/thing").unwrap(), "http://h/v1/responses");
    }
}
