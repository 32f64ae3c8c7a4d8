//! The parameter tables held to the request builders: for every text parameter and every wire API
//! (and every Chat Completions server), a parameter is either on the wire or reported as dropped,
//! never both and never neither.

use serde_json::Value;

use super::kit::Field;
use super::{WireApi, WireContext};
use crate::error::Origin;
use crate::types::enums::{Operation, Protocol, Provider};
use crate::types::message::Message;
use crate::types::text::{TextParam, TextParams, TextRequest};

/// Who speaks each wire API in the table: each provider on its wire API (every Chat Completions
/// server: their quirks differ), and the two protocols.
fn speakers() -> Vec<(WireApi, Origin)> {
    use Provider::*;
    let providers: [(WireApi, &[Provider]); 5] = [
        (WireApi::OpenResponses, &[OpenAi, XAi]),
        (WireApi::ChatCompletions, &[Mistral, Groq, DeepSeek, Moonshot, HuggingFace]),
        (WireApi::AnthropicMessages, &[Anthropic]),
        (WireApi::GeminiGenerateContent, &[Google]),
        (WireApi::CohereChat, &[Cohere]),
    ];
    let mut out = vec![
        (WireApi::OpenResponses, Origin::Protocol(Protocol::OpenResponses)),
        (WireApi::ChatCompletions, Origin::Protocol(Protocol::ChatCompletions)),
        (WireApi::GeminiInteractions, Origin::Provider(Google)),
    ];
    out.extend(providers.iter().flat_map(|(wire, ps)| ps.iter().map(|p| (*wire, Origin::Provider(*p)))));
    // A build with some providers holds some wire APIs: each of those is held to its table.
    out.retain(|(w, _)| w.is_implemented());
    out
}

/// One parameter set to a value whose text can be found in a body, and that text.
fn sample(param: TextParam) -> (TextParams, String) {
    /// Set `field` to `value`; the value's JSON text is what to look for.
    fn put<T: serde::Serialize>(field: &mut Option<T>, value: T) -> String {
        let mark = serde_json::to_string(&value).unwrap();
        *field = Some(value);
        mark
    }
    let mut p = TextParams::default();
    let mark = match param {
        TextParam::Temperature => put(&mut p.temperature, 0.37),
        TextParam::MaxTokens => put(&mut p.max_tokens, 777),
        TextParam::TopP => put(&mut p.top_p, 0.83),
        TextParam::TopK => put(&mut p.top_k, 41),
        TextParam::Seed => put(&mut p.seed, 90210),
        TextParam::Stop => {
            p.stop = vec!["STOPHERE".into()];
            serde_json::to_string(&p.stop).unwrap()
        }
        TextParam::FrequencyPenalty => put(&mut p.frequency_penalty, 0.61),
        TextParam::PresencePenalty => put(&mut p.presence_penalty, -0.29),
        TextParam::ThinkingBudget => put(&mut p.thinking_budget, 4321),
        TextParam::ThinkingLevel => put(&mut p.thinking_level, "medium".into()),
        TextParam::Verbosity => put(&mut p.verbosity, "low".into()),
    };
    (p, mark)
}

/// What `built` adds to or changes in `base`, key by key: where an object is new or changed, what it
/// adds inside (a parameter may live in a config object, new in the body when it is set).
fn added(base: &Value, built: &Value) -> Vec<(String, Value)> {
    let (Some(base), Some(built)) = (base.as_object(), built.as_object()) else { return Vec::new() };
    let empty = Value::Object(Default::default());
    let changed = built.iter().filter(|(k, v)| base.get(*k) != Some(*v));
    changed
        .flat_map(|(k, v)| match base.get(k).unwrap_or(&empty) {
            old if old.is_object() && v.is_object() => added(old, v),
            _ => vec![(k.clone(), v.clone())],
        })
        .collect()
}

fn request(params: TextParams) -> TextRequest {
    TextRequest { model: "m".into(), items: vec![Message::user("hi").into()], params, ..TextRequest::default() }
}

#[test]
fn every_parameter_reaches_the_wire_or_is_reported() {
    let mut checked = 0;
    let speakers = speakers();
    for (wire, origin) in &speakers {
        let ctx = WireContext { origin: *origin, model: "m".into(), operation: Operation::Generate };
        for stream in [false, true] {
            let base = wire.build(&request(TextParams::default()), &ctx, stream, "u".into()).unwrap();
            assert!(base.dropped.is_empty());
            for param in TextParam::ALL {
                let (params, mark) = sample(*param);
                let built = wire.build(&request(params), &ctx, stream, "u".into()).unwrap();
                let text = serde_json::to_string(&built.body).unwrap();
                let label = format!("{wire:?} for {origin} ({param}, stream {stream})");
                if wire.carries(*param) {
                    assert!(built.dropped.is_empty(), "{label}: carried yet reported as dropped");
                    assert_ne!(built.body, base.body, "{label}: carried but the body did not change");
                    assert!(text.contains(&mark), "{label}: {mark} not in {text}");
                    if let Some((_, Field::Body(name))) = wire.fields().iter().find(|(p, _)| p == param) {
                        // A plain field: that one field with the value as given, and nothing else.
                        let value: Value = serde_json::from_str(&mark).unwrap();
                        let added = added(&base.body, &built.body);
                        assert_eq!(added, [(name.to_string(), value)], "{label}: the table says {name}");
                    }
                } else {
                    assert_eq!(built.dropped, [*param], "{label}: not carried, so it must be reported");
                    assert_eq!(built.body, base.body, "{label}: not carried but it changed the body");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, speakers.len() * 2 * TextParam::ALL.len());
}

/// Each table names a parameter at most once, in [`TextParam::ALL`] order.
#[test]
fn every_table_names_each_parameter_once_in_order() {
    for (wire, _) in speakers() {
        let params: Vec<TextParam> = wire.fields().iter().map(|(p, _)| *p).collect();
        let in_order: Vec<TextParam> = TextParam::ALL.iter().copied().filter(|p| params.contains(p)).collect();
        assert_eq!(params, in_order, "{wire:?}");
    }
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
