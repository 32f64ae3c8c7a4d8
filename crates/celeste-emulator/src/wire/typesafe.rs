//! TypeSafe System One: `POST /v1/systemone`, unary JSON. The request is
//! `{state, questions, assets?, model}`; every question is answered with a plausible typed answer,
//! drawn from a hash of the question so the same request gets the same answers:
//!
//! - `noul` (boolean): `{type: "noul", noul: p}`;
//! - `choice`: the option probabilities sum to 1, the choice is the likeliest, `confidence` its
//!   probability (and a `legend`, an extra key clients must ignore);
//! - `score`: level probabilities (keys `"0"`, `"1"`, ...) sum to 1, `score` is the expected level;
//! - `box`: `top < bottom` and `left < right`, all within 0..1.
//!
//! The body is checked as the service would: a question of an unknown type, a choice without
//! options, a score without levels, a malformed asset, or a reference (a UUID-shaped string) to an
//! asset the body does not hold is a 400; images without the `TypeSafe-Danger-Zone-Images: true`
//! header are a 400 too.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::images::{Answer, AnswerBody, BadField, Payload};
use super::{ErrorInfo, openai_error_value, to_vec};

/// The header that lets images through.
pub(crate) const DANGER_ZONE: &str = "typesafe-danger-zone-images";

/// Answers one request. `danger_zone` is the value of the danger-zone header, if sent.
pub(crate) fn answer(payload: &Payload, danger_zone: Option<&str>, status: u16) -> Answer {
    match read(payload, danger_zone) {
        Ok(ask) => {
            let answers: Map<String, Value> =
                ask.questions.iter().map(|(name, q)| (name.to_string(), answer_one(name, q))).collect();
            let body = json!({
                "answers": answers,
                "usage": {"input_tokens": ask.input_tokens, "output_tokens": answers.len()},
                "model": ask.model,
            });
            Answer::json(status, &body)
        }
        Err(bad) => {
            let mut err = ErrorInfo::new(400, bad.message);
            err.param = Some(bad.param.to_string());
            Answer {
                status: 400,
                content_type: "application/json",
                headers: Vec::new(),
                body: AnswerBody::Unary(error_body(&err)),
            }
        }
    }
}

/// What the request asked.
struct Ask<'a> {
    model: &'a str,
    questions: Vec<(&'a str, &'a Map<String, Value>)>,
    /// A rough token count of the request: a token per four bytes of JSON.
    input_tokens: usize,
}

fn read<'a>(p: &'a Payload, danger_zone: Option<&str>) -> Result<Ask<'a>, BadField> {
    let model = p.required_str("model")?;
    let questions = match p.get("questions") {
        Some(Value::Object(q)) if !q.is_empty() => q,
        Some(Value::Object(_)) | None => return Err(BadField::new("questions", "At least one question is required.")),
        Some(_) => return Err(BadField::new("questions", "'questions' must be an object.")),
    };
    let assets = match p.get("assets") {
        None => Map::new(),
        Some(Value::Object(a)) => a.clone(),
        Some(_) => return Err(BadField::new("assets", "'assets' must be an object.")),
    };
    for (id, asset) in &assets {
        let ok = asset.get("type").and_then(Value::as_str) == Some("image")
            && asset.get("format").and_then(Value::as_str).is_some_and(|f| !f.is_empty())
            && asset
                .get("data_base64")
                .and_then(Value::as_str)
                .is_some_and(|d| STANDARD.decode(d).is_ok_and(|b| !b.is_empty()));
        if !ok {
            return Err(BadField::new(
                "assets",
                format!("Asset '{id}' must be {{type: 'image', data_base64: <base64>, format: <subtype>}}."),
            ));
        }
    }
    let mut refs = HashSet::new();
    if let Some(state) = p.get("state") {
        asset_refs(state, &mut refs);
    }
    let mut has_box = false;
    let mut list = Vec::with_capacity(questions.len());
    for (name, q) in questions {
        let q =
            q.as_object().ok_or_else(|| BadField::new("questions", format!("Question '{name}' must be an object.")))?;
        let kind = q.get("type").and_then(Value::as_str).unwrap_or_default();
        match kind {
            "noul" | "box" => {}
            "choice" => {
                if q.get("criteria").and_then(Value::as_object).is_none_or(|c| c.is_empty()) {
                    return Err(BadField::new(
                        "questions",
                        format!("Choice question '{name}' needs options in 'criteria'."),
                    ));
                }
            }
            "score" => {
                if q.get("criteria").and_then(Value::as_array).is_none_or(|c| c.is_empty()) {
                    return Err(BadField::new(
                        "questions",
                        format!("Score question '{name}' needs levels in 'criteria'."),
                    ));
                }
            }
            other => {
                return Err(BadField::new(
                    "questions",
                    format!(
                        "Unknown question type '{other}' for question '{name}'. Supported: 'noul', 'choice', 'score', 'box'."
                    ),
                ));
            }
        }
        has_box |= kind == "box";
        for key in ["instructions", "criteria"] {
            if let Some(v) = q.get(key) {
                asset_refs(v, &mut refs);
            }
        }
        list.push((name.as_str(), q));
    }
    if let Some(missing) = refs.iter().find(|r| !assets.contains_key(r.as_str())) {
        return Err(BadField::new("assets", format!("Unknown asset '{missing}': it is not in 'assets'.")));
    }
    if has_box && assets.is_empty() {
        return Err(BadField::new("questions", "A box question needs an image asset."));
    }
    if !assets.is_empty() && !danger_zone.is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return Err(BadField::new("assets", "Images need the 'TypeSafe-Danger-Zone-Images: true' header."));
    }
    let input_tokens = match p {
        Payload::Json(v) => to_vec(v).len() / 4,
        _ => 0,
    };
    Ok(Ask { model, questions: list, input_tokens })
}

/// Collects every UUID-shaped string in `v`: the asset references.
fn asset_refs(v: &Value, out: &mut HashSet<String>) {
    match v {
        Value::String(s) if is_uuid(s) => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|i| asset_refs(i, out)),
        Value::Object(m) => m.values().for_each(|i| asset_refs(i, out)),
        _ => {}
    }
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// FNV-1a of the question's name and body: stable, so the same question gets the same answer.
fn hash(name: &str, q: &Map<String, Value>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes().chain(to_vec(&Value::Object(q.clone()))) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A number in `0.05..0.95` from the hash and a salt.
fn unit(h: u64, salt: u64) -> f64 {
    let x = (h ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15)).wrapping_mul(0x0100_0000_01b3) >> 11;
    0.05 + 0.9 * (x as f64 / (1u64 << 53) as f64)
}

/// Probabilities for `n` outcomes, to three decimals, that sum to 1 (the last takes the rest).
fn distribution(h: u64, n: usize) -> Vec<f64> {
    let weights: Vec<f64> = (0..n).map(|i| unit(h, i as u64 + 1)).collect();
    let total: f64 = weights.iter().sum();
    let mut p: Vec<f64> = weights.iter().map(|w| (w / total * 1000.0).round() / 1000.0).collect();
    if let Some((last, others)) = p.split_last_mut() {
        *last = ((1.0 - others.iter().sum::<f64>()) * 1000.0).round() / 1000.0;
    }
    p
}

fn answer_one(name: &str, q: &Map<String, Value>) -> Value {
    let h = hash(name, q);
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    match q.get("type").and_then(Value::as_str).unwrap_or_default() {
        "choice" => {
            let options: Vec<&String> =
                q.get("criteria").and_then(Value::as_object).map(|c| c.keys().collect()).unwrap_or_default();
            let p = distribution(h, options.len());
            let best = (0..p.len()).max_by(|a, b| p[*a].total_cmp(&p[*b])).unwrap_or(0);
            let probabilities: Map<String, Value> =
                options.iter().zip(&p).map(|(o, p)| (o.to_string(), json!(p))).collect();
            json!({
                "type": "choice",
                "choice": options.get(best).map_or("", |s| s.as_str()),
                "probabilities": probabilities,
                "confidence": p.get(best).copied().unwrap_or(0.0),
                "legend": "emulated",
            })
        }
        "score" => {
            let n = q.get("criteria").and_then(Value::as_array).map_or(0, Vec::len);
            let p = distribution(h, n);
            let score: f64 = p.iter().enumerate().map(|(i, p)| i as f64 * p).sum();
            let probabilities: Map<String, Value> =
                p.iter().enumerate().map(|(i, p)| (i.to_string(), json!(p))).collect();
            json!({
                "type": "score",
                "score": round(score),
                "probabilities": probabilities,
                "confidence": p.iter().copied().fold(0.0, f64::max),
            })
        }
        "box" => {
            let (a, b) = (unit(h, 11), unit(h, 12));
            let (c, d) = (unit(h, 13), unit(h, 14));
            json!({
                "type": "box",
                "box": {"top": round(a.min(b) * 0.9), "bottom": round(a.max(b) * 0.9 + 0.1), "left": round(c.min(d) * 0.9), "right": round(c.max(d) * 0.9 + 0.1)},
                "confidence": round(unit(h, 15)),
            })
        }
        _ => json!({"type": "noul", "noul": round(unit(h, 0))}),
    }
}

/// TypeSafe's errors, in the OpenAI-style shape clients already read: `{error: {message, type, param, code}}`.
pub(crate) fn error_body(err: &ErrorInfo) -> Vec<u8> {
    to_vec(&openai_error_value(err))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "593fa285-0000-4000-8000-000000000001";

    fn body(v: Value) -> Payload {
        Payload::Json(v)
    }

    fn json_of(a: &Answer) -> Value {
        match &a.body {
            AnswerBody::Unary(b) => serde_json::from_slice(b).unwrap(),
            AnswerBody::Stream(_) => panic!("a stream"),
        }
    }

    #[test]
    fn every_question_gets_a_plausible_typed_answer() {
        let req = body(json!({
            "state": ID,
            "questions": {
                "cat": {"type": "noul", "instructions": "Is there a cat?"},
                "where": {"type": "box", "instructions": "Locate the cat"},
                "mood": {"type": "choice", "criteria": {"calm": "relaxed", "angry": null, "sad": null}},
                "size": {"type": "score", "criteria": ["small", "medium", ID]},
            },
            "assets": {ID: {"type": "image", "data_base64": "iVBORw0KGgo=", "format": "png"}},
            "model": "jev-1.14.0",
        }));
        let a = answer(&req, Some("true"), 200);
        assert_eq!(a.status, 200);
        let v = json_of(&a);
        let ans = &v["answers"];
        let p = ans["cat"]["noul"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p));
        let sum = |m: &Value| m.as_object().unwrap().values().map(|x| x.as_f64().unwrap()).sum::<f64>();
        assert!((sum(&ans["mood"]["probabilities"]) - 1.0).abs() < 1e-9, "{}", ans["mood"]);
        assert!(ans["mood"]["probabilities"][ans["mood"]["choice"].as_str().unwrap()].is_number());
        assert!((sum(&ans["size"]["probabilities"]) - 1.0).abs() < 1e-9, "{}", ans["size"]);
        assert_eq!(ans["size"]["probabilities"].as_object().unwrap().len(), 3);
        let b = &ans["where"]["box"];
        let f = |k: &str| b[k].as_f64().unwrap();
        assert!(0.0 <= f("top") && f("top") < f("bottom") && f("bottom") <= 1.0, "{b}");
        assert!(0.0 <= f("left") && f("left") < f("right") && f("right") <= 1.0, "{b}");
        assert_eq!(v["model"], "jev-1.14.0");
        assert_eq!(v["usage"]["output_tokens"], 4);
        // The same request gets the same answers.
        assert_eq!(json_of(&answer(&req, Some("true"), 200)), v);
    }

    #[test]
    fn bad_bodies_are_400s() {
        let bad = |v: Value, header: Option<&str>| {
            let a = answer(&body(v), header, 200);
            assert_eq!(a.status, 400);
            json_of(&a)["error"]["message"].as_str().unwrap().to_string()
        };
        let q = |t: &str| json!({"model": "jev-latest", "state": 1, "questions": {"q": {"type": t}}});
        assert!(bad(q("boolean"), None).contains("Unknown question type 'boolean'"));
        assert!(bad(q("choice"), None).contains("needs options"));
        assert!(bad(q("score"), None).contains("needs levels"));
        assert!(bad(q("box"), None).contains("needs an image"));
        assert!(bad(json!({"model": "m", "state": 1, "questions": {}}), None).contains("At least one"));
        let missing = json!({"model": "m", "state": ID, "questions": {"q": {"type": "noul"}}});
        assert!(bad(missing, Some("true")).contains("Unknown asset"));
        let with_asset = json!({"model": "m", "state": ID, "questions": {"q": {"type": "noul"}},
            "assets": {ID: {"type": "image", "data_base64": "iVBORw0KGgo=", "format": "png"}}});
        assert!(bad(with_asset.clone(), None).contains("Danger-Zone"));
        assert_eq!(answer(&body(with_asset), Some("true"), 200).status, 200);
        let malformed = json!({"model": "m", "state": ID, "questions": {"q": {"type": "noul"}},
            "assets": {ID: {"type": "image", "data_base64": "", "format": "png"}}});
        assert!(bad(malformed, Some("true")).contains("must be"));
    }

    #[test]
    fn distributions_sum_to_one() {
        for n in 1..12 {
            let p = distribution(n as u64 * 7919, n);
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{p:?}");
            assert!(p.iter().all(|x| *x >= 0.0));
        }
    }
}
