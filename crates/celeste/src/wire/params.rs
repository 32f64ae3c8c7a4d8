//! The parameter tables held to the request builders: for every text parameter and every wire API
//! (and every Chat Completions server), a parameter is either on the wire or reported as dropped,
//! never both and never neither.

use serde_json::Value;

use super::{WireApi, WireContext};
use crate::error::Origin;
use crate::types::enums::{Operation, Protocol, Provider};
use crate::types::message::Message;
use crate::types::text::{TextParam, TextParams, TextRequest};

/// Who speaks each wire API in the table (every Chat Completions server: their quirks differ).
const SPEAKERS: &[(WireApi, Origin)] = &[
    (WireApi::OpenResponses, Origin::Provider(Provider::OpenAi)),
    (WireApi::OpenResponses, Origin::Provider(Provider::XAi)),
    (WireApi::OpenResponses, Origin::Protocol(Protocol::OpenResponses)),
    (WireApi::ChatCompletions, Origin::Protocol(Protocol::ChatCompletions)),
    (WireApi::ChatCompletions, Origin::Provider(Provider::Mistral)),
    (WireApi::ChatCompletions, Origin::Provider(Provider::Groq)),
    (WireApi::ChatCompletions, Origin::Provider(Provider::DeepSeek)),
    (WireApi::ChatCompletions, Origin::Provider(Provider::Moonshot)),
    (WireApi::ChatCompletions, Origin::Provider(Provider::HuggingFace)),
    (WireApi::AnthropicMessages, Origin::Provider(Provider::Anthropic)),
    (WireApi::GeminiGenerateContent, Origin::Provider(Provider::Google)),
    (WireApi::GeminiInteractions, Origin::Provider(Provider::Google)),
    (WireApi::CohereChat, Origin::Provider(Provider::Cohere)),
];

/// One parameter set to a value whose text can be found in a body, and that text.
fn sample(param: TextParam) -> (TextParams, &'static str) {
    let mut p = TextParams::default();
    let mark = match param {
        TextParam::Temperature => {
            p.temperature = Some(0.37);
            "0.37"
        }
        TextParam::MaxTokens => {
            p.max_tokens = Some(777);
            "777"
        }
        TextParam::TopP => {
            p.top_p = Some(0.83);
            "0.83"
        }
        TextParam::TopK => {
            p.top_k = Some(41);
            "41"
        }
        TextParam::Seed => {
            p.seed = Some(90210);
            "90210"
        }
        TextParam::Stop => {
            p.stop = vec!["STOPHERE".into()];
            "STOPHERE"
        }
        TextParam::FrequencyPenalty => {
            p.frequency_penalty = Some(0.61);
            "0.61"
        }
        TextParam::PresencePenalty => {
            p.presence_penalty = Some(-0.29);
            "-0.29"
        }
        TextParam::ThinkingBudget => {
            p.thinking_budget = Some(4321);
            "4321"
        }
        TextParam::ThinkingLevel => {
            p.thinking_level = Some("medium".into());
            "\"medium\""
        }
        TextParam::Verbosity => {
            p.verbosity = Some("low".into());
            "\"low\""
        }
    };
    (p, mark)
}

fn request(params: TextParams) -> TextRequest {
    TextRequest { model: "m".into(), items: vec![Message::user("hi").into()], params, ..TextRequest::default() }
}

#[test]
fn every_parameter_reaches_the_wire_or_is_reported() {
    let mut checked = 0;
    // A build with some providers holds some wire APIs: each of those is held to its table.
    for (wire, origin) in SPEAKERS.iter().filter(|(w, _)| w.is_implemented()) {
        let ctx = WireContext { origin: *origin, model: "m".into(), operation: Operation::Generate };
        for stream in [false, true] {
            let base = wire.build(&request(TextParams::default()), &ctx, stream, "u".into()).unwrap();
            assert!(base.dropped.is_empty());
            for param in TextParam::ALL {
                let (params, mark) = sample(*param);
                let built = wire.build(&request(params), &ctx, stream, "u".into()).unwrap();
                let text = serde_json::to_string(&built.body).unwrap();
                let label = format!("{wire:?} for {origin} ({param}, stream {stream})");
                if wire.carried().contains(param) {
                    assert!(built.dropped.is_empty(), "{label}: carried yet reported as dropped");
                    assert_ne!(built.body, base.body, "{label}: carried but the body did not change");
                    assert!(text.contains(mark), "{label}: {mark} not in {text}");
                } else {
                    assert_eq!(built.dropped, [*param], "{label}: not carried, so it must be reported");
                    assert_eq!(built.body, base.body, "{label}: not carried but it changed the body");
                }
                checked += 1;
            }
        }
    }
    let held = SPEAKERS.iter().filter(|(w, _)| w.is_implemented()).count();
    assert_eq!(checked, held * 2 * TextParam::ALL.len());
}

/// The 1.0.0 reasoning split, per wire API: a named level and a token budget go where each API takes
/// them.
#[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
#[test]
fn thinking_level_and_budget_land_where_each_api_takes_them() {
    let body = |wire: WireApi, origin: Origin, p: TextParams| -> Value {
        let ctx = WireContext { origin, model: "m".into(), operation: Operation::Generate };
        wire.build(&request(p), &ctx, false, "u".into()).unwrap().body
    };
    let level = || TextParams { thinking_level: Some("high".into()), ..TextParams::default() };
    let budget = || TextParams { thinking_budget: Some(2048), ..TextParams::default() };
    let openai = Origin::Provider(Provider::OpenAi);
    assert_eq!(
        body(WireApi::OpenResponses, openai, level())["reasoning"],
        serde_json::json!({"effort": "high", "summary": "auto"})
    );
    let chat = Origin::Protocol(Protocol::ChatCompletions);
    assert_eq!(body(WireApi::ChatCompletions, chat, level())["reasoning_effort"], "high");
    let deepseek = Origin::Provider(Provider::DeepSeek);
    let b = body(WireApi::ChatCompletions, deepseek, level());
    assert_eq!((b["thinking"]["type"].as_str(), b["reasoning_effort"].as_str()), (Some("enabled"), Some("high")));
    let google = Origin::Provider(Provider::Google);
    assert_eq!(
        body(WireApi::GeminiGenerateContent, google, budget())["generationConfig"]["thinkingConfig"]["thinkingBudget"],
        2048
    );
    assert_eq!(
        body(WireApi::GeminiGenerateContent, google, level())["generationConfig"]["thinkingConfig"]["thinkingLevel"],
        "high"
    );
    assert_eq!(body(WireApi::GeminiInteractions, google, level())["generation_config"]["thinking_level"], "high");
    let anthropic = Origin::Provider(Provider::Anthropic);
    assert_eq!(body(WireApi::AnthropicMessages, anthropic, budget())["thinking"]["budget_tokens"], 2048);
    assert_eq!(body(WireApi::AnthropicMessages, anthropic, level())["output_config"]["effort"], "high");
    let cohere = Origin::Provider(Provider::Cohere);
    assert_eq!(
        body(WireApi::CohereChat, cohere, budget())["thinking"],
        serde_json::json!({"type": "enabled", "token_budget": 2048})
    );
}
