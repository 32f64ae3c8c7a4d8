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
    /// The header that carries it.
    pub header: &'static str,
    /// The text before the key in the header value.
    pub prefix: &'static str,
}

/// Which wire API serves a modality, and at which path below the base URL. A `{model}` in the path is
/// replaced by the model id (Gemini generateContent puts the model in the URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Route {
    /// The wire API.
    pub wire: WireApi,
    /// The request path, appended to the base URL (`{model}` is replaced by the model id).
    pub path: &'static str,
}

impl Route {
    /// The URL of this route below `base` for `model`.
    pub fn url(&self, base: &str, model: &str) -> String {
        join_url(base, &self.path.replace("{model}", model))
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

const fn key(env_var: &'static str, header: &'static str, prefix: &'static str) -> Option<CredentialSpec> {
    Some(CredentialSpec { env_var, header, prefix })
}

const fn bearer(env_var: &'static str) -> Option<CredentialSpec> {
    key(env_var, "authorization", "Bearer ")
}

const fn route(wire: WireApi, path: &'static str) -> Option<Route> {
    Some(Route { wire, path })
}

const RESPONSES: Option<Route> = route(WireApi::OpenResponses, "/v1/responses");
const CHAT: Option<Route> = route(WireApi::ChatCompletions, "/v1/chat/completions");

macro_rules! profiles {
    ($($p:ident: $cred:expr, $base:literal, $text:expr, $otel:literal;)*) => {
        const PROFILES: &[ProviderProfile] = &[
            $(ProviderProfile { provider: Provider::$p, credential: $cred, base_url: $base, text: $text, telemetry_name: $otel },)*
        ];
    };
}

profiles! {
    OpenAi: bearer("OPENAI_API_KEY"), "https://api.openai.com", RESPONSES, "openai";
    Anthropic: key("ANTHROPIC_API_KEY", "x-api-key", ""), "https://api.anthropic.com", route(WireApi::AnthropicMessages, "/v1/messages"), "anthropic";
    Google: key("GOOGLE_API_KEY", "x-goog-api-key", ""), "https://generativelanguage.googleapis.com", route(WireApi::GeminiInteractions, "/v1beta/interactions"), "gcp.gemini";
    Mistral: bearer("MISTRAL_API_KEY"), "https://api.mistral.ai", CHAT, "mistral_ai";
    Moonshot: bearer("MOONSHOT_API_KEY"), "https://api.moonshot.ai", CHAT, "moonshot_ai";
    Cohere: key("COHERE_API_KEY", "authorization", "bearer "), "https://api.cohere.com", route(WireApi::CohereChat, "/v2/chat"), "cohere";
    XAi: bearer("XAI_API_KEY"), "https://api.x.ai", RESPONSES, "x_ai";
    DeepSeek: bearer("DEEPSEEK_API_KEY"), "https://api.deepseek.com", route(WireApi::ChatCompletions, "/chat/completions"), "deepseek";
    HuggingFace: bearer("HF_TOKEN"), "https://router.huggingface.co", CHAT, "huggingface";
    BytePlus: bearer("BYTEPLUS_API_KEY"), "https://ark.ap-southeast.bytepluses.com", None, "byteplus";
    ElevenLabs: key("ELEVENLABS_API_KEY", "xi-api-key", ""), "https://api.elevenlabs.io", None, "elevenlabs";
    Bfl: key("BFL_API_KEY", "x-key", ""), "https://api.bfl.ai", None, "bfl";
    Groq: bearer("GROQ_API_KEY"), "https://api.groq.com", route(WireApi::ChatCompletions, "/openai/v1/chat/completions"), "groq";
    Gradium: key("GRADIUM_API_KEY", "x-api-key", ""), "wss://eu.api.gradium.ai", None, "gradium";
    OpenRouter: bearer("OPENROUTER_API_KEY"), "https://openrouter.ai/api", RESPONSES, "openrouter";
    TopazLabs: key("TOPAZ_API_KEY", "x-api-key", ""), "https://api.topazlabs.com", None, "topazlabs";
    Fal: key("FAL_KEY", "authorization", "Key "), "https://queue.fal.run", None, "fal";
    Ollama: None, "http://localhost:11434", RESPONSES, "ollama";
    Meta: bearer("MODEL_API_KEY"), "https://api.meta.ai", RESPONSES, "meta";
    TypeSafe: bearer("TYPESAFE_API_KEY"), "https://api.typesafe.ai", None, "typesafe";
}

/// The profile of an implemented provider. `None` for the providers the reference lists but does not
/// implement (Replicate, Stability AI, Luma, Perplexity).
pub fn profile(provider: Provider) -> Option<&'static ProviderProfile> {
    PROFILES.iter().find(|p| p.provider == provider)
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

/// The image API `provider` serves, if any.
pub fn image_api(provider: Provider) -> Option<crate::wire::images::ImageApi> {
    use crate::wire::images::ImageApi;
    match provider {
        Provider::OpenAi => Some(ImageApi::OpenAi),
        Provider::Bfl => Some(ImageApi::Bfl),
        Provider::TopazLabs => Some(ImageApi::Topaz),
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
/// servers are written down) does not get a second `/v1`.
pub fn join_url(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/v1")
        && let Some(rest) = path.strip_prefix("/v1/")
    {
        return format!("{base}/{rest}");
    }
    format!("{base}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_implemented_provider_has_a_profile() {
        let missing: Vec<Provider> = Provider::ALL.iter().copied().filter(|p| profile(*p).is_none()).collect();
        assert_eq!(missing, [Provider::Replicate, Provider::StabilityAi, Provider::Luma, Provider::Perplexity]);
    }

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
    }
}
