//! TypeSafe System One: `POST {base}/v1/systemone`, unary JSON (there is no stream).
//!
//! The body is `{state, questions, assets?, model}`:
//! - every image, wherever it sits (state, instructions, criteria), is replaced by a generated id,
//!   and `assets[id]` holds it as `{type: "image", data_base64, format}` (`format` is the MIME
//!   subtype: the declared type, else the one the bytes show). One asset per distinct image: the
//!   same artifact, or two with the same bytes and format, share one id. A URL-only image cannot be
//!   sent (the API takes bytes) and fails before the request;
//! - a boolean question goes as type `noul`; `instructions` and `criteria` are left out when absent;
//! - `assets` is left out when there are no images.
//!
//! The `TypeSafe-Danger-Zone-Images: true` header is added when there are assets or a box question
//! (the API refuses images without it); the caller's headers override it.
//!
//! The reply's `answers` map question names to typed answers: `{type: "noul", noul: p}` is a boolean
//! answer; `choice`, `score` and `box` are read as they are (extra keys such as `legend` ignored; score
//! levels come as string keys `"0"`, `"1"` and are read as integers). No answers, or an answer of a
//! type this library does not know, is an [`Error::Decode`] naming it.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{DecisionRequest, DecisionWireRequest, IdSource};
use crate::error::{Error, Origin, Result};
use crate::types::artifact::Artifact;
use crate::types::decision::{
    Answer, Answers, BooleanAnswer, BoxAnswer, ChoiceAnswer, DecisionValue, Question, ScoreAnswer,
};
use crate::types::enums::Modality;
use crate::types::mime::MimeType;
use crate::types::output::{Metadata, Output};
use crate::types::usage::Usage;

/// The API's path below the base URL.
pub(crate) const PATH: &str = "/v1/systemone";

/// The header that lets images through.
pub(crate) const DANGER_ZONE: &str = "typesafe-danger-zone-images";

/// What `Decode` errors of this API say they were decoding.
const WHAT: &str = "typesafe systemone response";

/// A random RFC 4122 version-4 id, the form the reference's `uuid4` asset ids take. The ids only have
/// to be distinct within one request, so a non-cryptographic generator is enough.
pub(crate) fn random_id() -> String {
    let mut b = [0u8; 16];
    for byte in &mut b {
        *byte = fastrand::u8(..);
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// Every image of a question, with where it sits.
fn question_images<'a>(name: &str, q: &'a Question, out: &mut Vec<(String, &'a Artifact)>) {
    let at = format!("questions.{name}");
    let instructions = match q {
        Question::Boolean(b) => &b.instructions,
        Question::Choice(c) => &c.instructions,
        Question::Score(s) => &s.instructions,
        Question::Box(b) => &b.instructions,
    };
    if let Some(v) = instructions {
        v.images(&format!("{at}.instructions"), out);
    }
    match q {
        Question::Boolean(b) => {
            if let Some(c) = &b.criteria {
                c.when_true.images(&format!("{at}.criteria.true"), out);
                c.when_false.images(&format!("{at}.criteria.false"), out);
            }
        }
        Question::Choice(c) => {
            for (option, description) in &c.options {
                if let Some(d) = description {
                    d.images(&format!("{at}.criteria.{option}"), out);
                }
            }
        }
        Question::Score(s) => {
            for (i, level) in s.levels.iter().enumerate() {
                level.images(&format!("{at}.criteria[{i}]"), out);
            }
        }
        Question::Box(_) => {}
    }
}

/// The format the API wants for an image: the MIME subtype of its declared type, else of the type
/// its bytes (or its file's extension) show.
fn image_format(at: &str, a: &Artifact, bytes: &[u8]) -> Result<String> {
    let mime =
        a.mime_type.clone().or_else(|| MimeType::sniff(bytes)).or_else(|| a.mime()).ok_or_else(|| {
            Error::invalid_input(format!("the image at `{at}` is of an unknown type: set its MIME type"))
        })?;
    match mime.as_str().split_once('/') {
        Some(("image", subtype)) if !subtype.is_empty() => Ok(subtype.to_string()),
        _ => Err(Error::invalid_input(format!("the value at `{at}` is `{mime}`, not an image"))),
    }
}

/// Image ids by the address of the artifact in the request (so each place an image sits finds its
/// id), and the assets they name.
#[derive(Default)]
struct Assets {
    ids: HashMap<usize, String>,
    assets: Map<String, Value>,
}

impl Assets {
    /// Read every image of the request and give each distinct one an id.
    async fn collect(req: &DecisionRequest, next_id: IdSource<'_>) -> Result<Assets> {
        let mut found = Vec::new();
        req.state.images("state", &mut found);
        for (name, q) in &req.questions {
            question_images(name, q, &mut found);
        }
        let mut out = Assets::default();
        let mut by_content: HashMap<(String, Bytes), String> = HashMap::new();
        for (at, a) in found {
            let key = std::ptr::from_ref(a).addr();
            if out.ids.contains_key(&key) {
                continue;
            }
            let has_local = a.data.as_ref().is_some_and(|d| !d.is_empty())
                || a.path.as_ref().is_some_and(|p| !p.as_os_str().is_empty());
            if !has_local {
                let why = if a.has_content() {
                    "has only a URL: TypeSafe takes image bytes (give data or a path)"
                } else {
                    "is empty"
                };
                return Err(Error::invalid_input(format!("the image at `{at}` {why}")));
            }
            let bytes = a.read_bytes().await.map_err(|e| Error::invalid_input(format!("the image at `{at}`: {e}")))?;
            let format = image_format(&at, a, &bytes)?;
            let content = (format, bytes);
            let id = match by_content.get(&content) {
                Some(id) => id.clone(),
                None => {
                    let id = next_id();
                    let (format, bytes) = &content;
                    out.assets.insert(
                        id.clone(),
                        json!({"type": "image", "data_base64": STANDARD.encode(bytes), "format": format}),
                    );
                    by_content.insert(content, id.clone());
                    id
                }
            };
            out.ids.insert(key, id);
        }
        Ok(out)
    }

    /// A value as JSON, each image replaced by its id.
    fn value(&self, v: &DecisionValue) -> Result<Value> {
        Ok(match v {
            DecisionValue::Null => Value::Null,
            DecisionValue::Bool(b) => Value::Bool(*b),
            DecisionValue::Number(n) => Value::Number(n.clone()),
            DecisionValue::String(s) => Value::String(s.clone()),
            DecisionValue::Image(a) => match self.ids.get(&std::ptr::from_ref(a.as_ref()).addr()) {
                Some(id) => Value::String(id.clone()),
                // `collect` visits every image the body holds; this is a guard, not a path.
                None => return Err(Error::invalid_input("an image of the decision was not read")),
            },
            DecisionValue::List(items) => Value::Array(items.iter().map(|i| self.value(i)).collect::<Result<_>>()?),
            DecisionValue::Map(entries) => Value::Object(
                entries.iter().map(|(k, v)| Ok((k.clone(), self.value(v)?))).collect::<Result<Map<_, _>>>()?,
            ),
        })
    }

    /// A question as the API takes it.
    fn question(&self, q: &Question) -> Result<Value> {
        let mut m = Map::new();
        let (kind, instructions) = match q {
            Question::Boolean(b) => ("noul", &b.instructions),
            Question::Choice(c) => ("choice", &c.instructions),
            Question::Score(s) => ("score", &s.instructions),
            Question::Box(b) => ("box", &b.instructions),
        };
        m.insert("type".into(), kind.into());
        if let Some(i) = instructions {
            m.insert("instructions".into(), self.value(i)?);
        }
        let criteria = match q {
            Question::Boolean(b) => match &b.criteria {
                Some(c) => Some(json!({"true": self.value(&c.when_true)?, "false": self.value(&c.when_false)?})),
                None => None,
            },
            Question::Choice(c) => {
                let mut options = Map::new();
                for (name, description) in &c.options {
                    let d = match description {
                        Some(d) => self.value(d)?,
                        None => Value::Null,
                    };
                    options.insert(name.clone(), d);
                }
                Some(Value::Object(options))
            }
            Question::Score(s) => Some(Value::Array(s.levels.iter().map(|l| self.value(l)).collect::<Result<_>>()?)),
            Question::Box(_) => None,
        };
        if let Some(c) = criteria {
            m.insert("criteria".into(), c);
        }
        Ok(Value::Object(m))
    }
}

/// Build the request body and headers.
pub(crate) async fn build(req: &DecisionRequest, next_id: IdSource<'_>) -> Result<DecisionWireRequest> {
    let assets = Assets::collect(req, next_id).await?;
    let mut questions = Map::new();
    for (name, q) in &req.questions {
        questions.insert(name.clone(), assets.question(q)?);
    }
    let mut body = Map::new();
    body.insert("state".into(), assets.value(&req.state)?);
    body.insert("questions".into(), Value::Object(questions));
    let has_assets = !assets.assets.is_empty();
    if has_assets {
        body.insert("assets".into(), Value::Object(assets.assets));
    }
    body.insert("model".into(), req.model.clone().into());
    let mut headers = Vec::new();
    if has_assets || req.questions.iter().any(|(_, q)| matches!(q, Question::Box(_))) {
        headers.push((HeaderName::from_static(DANGER_ZONE), HeaderValue::from_static("true")));
    }
    Ok(DecisionWireRequest { body: Value::Object(body), headers })
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
}

/// One answer, by its wire type.
fn answer(name: &str, v: Value, body: &[u8]) -> Result<Answer> {
    let bad = |e: String| Error::decode(WHAT, format!("answer `{name}`: {e}"), body);
    let kind = v.get("type").and_then(Value::as_str).unwrap_or_default().to_string();
    let typed = |r: std::result::Result<Answer, serde_json::Error>| r.map_err(|e| bad(e.to_string()));
    match kind.as_str() {
        "noul" => match v.get("noul").and_then(Value::as_f64) {
            Some(p) => Ok(Answer::Boolean(BooleanAnswer { probability: p })),
            None => Err(bad("a `noul` answer without its probability".into())),
        },
        "choice" => typed(serde_json::from_value::<ChoiceAnswer>(v).map(Answer::Choice)),
        "score" => typed(serde_json::from_value::<ScoreAnswer>(v).map(Answer::Score)),
        "box" => typed(serde_json::from_value::<BoxAnswer>(v).map(Answer::Box)),
        other => Err(bad(format!("unknown TypeSafe answer type `{other}`"))),
    }
}

/// Decode a reply. The raw response kept in the metadata leaves the answers out (they are the
/// content), as the reference does.
pub(crate) fn parse(body: Bytes, model: &str, origin: Origin) -> Result<Output<Answers>> {
    let mut doc: Map<String, Value> = serde_json::from_slice(&body).map_err(|e| Error::decode(WHAT, e, &body))?;
    let answers = match doc.remove("answers") {
        Some(Value::Object(a)) if !a.is_empty() => a,
        Some(Value::Object(_) | Value::Null) | None => {
            return Err(Error::decode(WHAT, "no answers in the response", &body));
        }
        Some(_) => return Err(Error::decode(WHAT, "`answers` is not an object", &body)),
    };
    let mut content = Answers::new();
    for (name, v) in answers {
        let a = answer(&name, v, &body)?;
        content.insert(name, a);
    }
    let mut usage = Usage::default();
    if let Some(u) = doc.get("usage").filter(|u| !u.is_null()) {
        let parsed: WireUsage =
            serde_json::from_value(u.clone()).map_err(|e| Error::decode(WHAT, format!("usage: {e}"), &body))?;
        usage.input_tokens = parsed.input_tokens;
        usage.output_tokens = parsed.output_tokens;
        usage.raw = Some(crate::types::usage::RawJson::from(u));
    }
    let mut metadata = Metadata::new(model, Some(origin), Modality::Decision);
    metadata.response_model = doc.get("model").and_then(Value::as_str).map(str::to_string);
    metadata.response_id = doc.get("id").and_then(Value::as_str).map(str::to_string);
    metadata.raw_response = serde_json::to_vec(&doc).ok().map(Bytes::from);
    let mut out = Output::new(content, metadata);
    out.usage = usage;
    Ok(out)
}

#[cfg(test)]
mod tests;
