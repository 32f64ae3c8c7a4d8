//! The Quick Start promise: the provider follows from the model id alone. One client points every
//! provider at the project's emulator (`ClientBuilder::base_url`), and the same two calls
//! (`generate`, then `stream`) go to each provider's own wire API, path and authentication, and come
//! back decoded. OpenRouter and Ollama have no catalog models, so they are named explicitly, as in the
//! reference.

use celeste::{Client, Credentials, FinishKind, Provider, TelemetryConfig};
use celeste_emulator::{Config, DEFAULT_TEXT, Emulator};
use futures::StreamExt;

struct Case {
    model: &'static str,
    /// Named only where the catalog has no model for the provider.
    named: Option<Provider>,
    provider: Provider,
    path: &'static str,
    /// The authentication header and the value it must carry.
    auth: (&'static str, &'static str),
}

const CASES: &[Case] = &[
    Case {
        model: "gpt-5-mini",
        named: None,
        provider: Provider::OpenAi,
        path: "/v1/responses",
        auth: ("authorization", "Bearer key-openai"),
    },
    Case {
        model: "grok-4.3",
        named: None,
        provider: Provider::XAi,
        path: "/v1/responses",
        auth: ("authorization", "Bearer key-xai"),
    },
    Case {
        model: "some/router-model",
        named: Some(Provider::OpenRouter),
        provider: Provider::OpenRouter,
        path: "/v1/responses",
        auth: ("authorization", "Bearer key-openrouter"),
    },
    Case {
        model: "llama3.2",
        named: Some(Provider::Ollama),
        provider: Provider::Ollama,
        path: "/v1/responses",
        auth: ("authorization", ""),
    },
    Case {
        model: "llama-3.3-70b-versatile",
        named: None,
        provider: Provider::Groq,
        path: "/openai/v1/chat/completions",
        auth: ("authorization", "Bearer key-groq"),
    },
    Case {
        model: "deepseek-v4-flash",
        named: None,
        provider: Provider::DeepSeek,
        path: "/chat/completions",
        auth: ("authorization", "Bearer key-deepseek"),
    },
    Case {
        model: "mistral-large-latest",
        named: None,
        provider: Provider::Mistral,
        path: "/v1/chat/completions",
        auth: ("authorization", "Bearer key-mistral"),
    },
    Case {
        model: "kimi-k2.6",
        named: None,
        provider: Provider::Moonshot,
        path: "/v1/chat/completions",
        auth: ("authorization", "Bearer key-moonshot"),
    },
    Case {
        model: "Qwen/Qwen3-4B-Instruct-2507",
        named: None,
        provider: Provider::HuggingFace,
        path: "/v1/chat/completions",
        auth: ("authorization", "Bearer key-huggingface"),
    },
    Case {
        model: "claude-sonnet-4-5",
        named: None,
        provider: Provider::Anthropic,
        path: "/v1/messages",
        auth: ("x-api-key", "key-anthropic"),
    },
    Case {
        model: "gemini-2.5-flash",
        named: None,
        provider: Provider::Google,
        path: "/v1beta/interactions",
        auth: ("x-goog-api-key", "key-google"),
    },
    Case {
        model: "command-a-03-2025",
        named: None,
        provider: Provider::Cohere,
        path: "/v2/chat",
        auth: ("authorization", "bearer key-cohere"),
    },
];

fn client(base: &str) -> Client {
    let mut creds = Credentials::empty();
    let mut builder = Client::builder();
    for case in CASES {
        if case.provider != Provider::Ollama {
            creds = creds.with_key(case.provider, format!("key-{}", case.provider));
        }
        builder = builder.base_url(case.provider, base);
    }
    builder.credentials(creds).telemetry(TelemetryConfig::new().disabled()).build().unwrap()
}

#[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
#[tokio::test]
async fn the_model_id_alone_picks_the_provider_wire_api_and_auth() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let client = client(&emu.url());
    for case in CASES {
        let call = |c: &Client| {
            let call = c.text().generate("Explain quantum computing", case.model).max_tokens(300);
            match case.named {
                Some(p) => call.provider(p),
                None => call,
            }
        };
        let out = call(&client).await.unwrap_or_else(|e| panic!("{}: {e}", case.model));
        assert_eq!(out.content, DEFAULT_TEXT, "{}", case.model);
        assert_eq!(out.metadata.origin.and_then(|o| o.provider()), Some(case.provider), "{}", case.model);
        assert_eq!(out.finish_reason.as_ref().map(|f| f.kind), Some(FinishKind::Stop), "{}", case.model);
        assert!(out.usage.output_tokens.is_some(), "{}: usage decoded", case.model);

        let mut stream = call(&client).stream().await.unwrap_or_else(|e| panic!("{}: {e}", case.model));
        let mut text = String::new();
        let mut pieces = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap_or_else(|e| panic!("{}: {e}", case.model));
            pieces += usize::from(!chunk.content.is_empty());
            text.push_str(&chunk.content);
        }
        assert_eq!(text, DEFAULT_TEXT, "{}", case.model);
        assert!(pieces > 1, "{}: streamed in pieces", case.model);
        let requests = emu.requests();
        // Chat Completions servers report stream usage when asked (`stream_options`); Mistral, which
        // refuses that field, reports it unasked, which the emulator (speaking OpenAI's rules) does not.
        let asked = requests[1].json().unwrap()["stream_options"]["include_usage"] == true;
        if asked || !case.path.ends_with("/chat/completions") {
            assert!(stream.output().unwrap().usage.output_tokens.is_some(), "{}", case.model);
        }

        assert_eq!(requests.len(), 2, "{}", case.model);
        for req in &requests {
            assert_eq!(req.path.split('?').next().unwrap(), case.path, "{}", case.model);
            let (name, value) = case.auth;
            assert_eq!(req.header(name).unwrap_or(""), value, "{}: {name}", case.model);
        }
        emu.clear_requests();
    }
}

/// A call's own `base_url` wins over the client's per-provider one.
#[tokio::test]
async fn a_calls_base_url_wins_over_the_clients() {
    let emu = Emulator::start(Config::default()).await.unwrap();
    let client = Client::builder()
        .credentials(Credentials::empty().with_key(Provider::OpenAi, "k"))
        .base_url(Provider::OpenAi, "http://127.0.0.1:9") // discard port: nothing listens
        .telemetry(TelemetryConfig::new().disabled())
        .build()
        .unwrap();
    let out = client.text().generate("hi", "gpt-5-mini").provider(Provider::OpenAi).base_url(emu.url()).await.unwrap();
    assert_eq!(out.content, DEFAULT_TEXT);
}
