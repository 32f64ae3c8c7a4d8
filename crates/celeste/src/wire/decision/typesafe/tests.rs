//! The reference's `test_typesafe_decision.py` cases (question → wire mapping, answer parsing) against
//! our types, with the reference's printed request body as the oracle, and the rules around them.

use serde_json::json;

use super::*;
use crate::types::decision::{BoxCoordinates, Question};
use crate::types::enums::Provider;

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6,
    0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0";

/// Ids `id-0`, `id-1`, ... in the order they are asked for.
fn counter() -> impl FnMut() -> String + Send {
    let mut n = 0;
    move || {
        let id = format!("id-{n}");
        n += 1;
        id
    }
}

fn request(state: DecisionValue, questions: Vec<(&str, Question)>) -> DecisionRequest {
    DecisionRequest {
        model: "jev-1.14.0".into(),
        state,
        questions: questions.into_iter().map(|(n, q)| (n.to_string(), q)).collect(),
    }
}

async fn built(req: &DecisionRequest) -> DecisionWireRequest {
    let mut ids = counter();
    build(req, &mut ids).await.unwrap()
}

fn danger_zone(w: &DecisionWireRequest) -> Option<&str> {
    w.headers.iter().find(|(k, _)| k.as_str() == DANGER_ZONE).and_then(|(_, v)| v.to_str().ok())
}

#[tokio::test]
async fn questions_map_to_the_wire_as_the_reference_prints_them() {
    // The reference's probe: an image as the state, the same image as a score level, a boolean
    // (`noul`), a box, and a choice with one described and one bare option.
    let image = Artifact::from_bytes(PNG);
    let req = request(
        image.clone().into(),
        vec![
            ("cat", Question::boolean("Is there a cat?")),
            ("where", Question::locate("Locate the cat")),
            (
                "mood",
                Question::Choice(crate::types::decision::ChoiceQuestion {
                    instructions: None,
                    options: vec![("calm".into(), Some("relaxed".into())), ("angry".into(), None)],
                }),
            ),
            ("size", Question::score(vec![DecisionValue::from("small"), "medium".into(), image.into()])),
        ],
    );
    let w = built(&req).await;
    assert_eq!(
        w.body,
        json!({
            "state": "id-0",
            "questions": {
                "cat": {"type": "noul", "instructions": "Is there a cat?"},
                "where": {"type": "box", "instructions": "Locate the cat"},
                "mood": {"type": "choice", "criteria": {"calm": "relaxed", "angry": null}},
                "size": {"type": "score", "criteria": ["small", "medium", "id-0"]},
            },
            "assets": {"id-0": {"type": "image", "data_base64": STANDARD.encode(PNG), "format": "png"}},
            "model": "jev-1.14.0",
        })
    );
    assert_eq!(danger_zone(&w), Some("true"));
}

#[tokio::test]
async fn boolean_criteria_travel_and_absent_fields_are_left_out() {
    let q = Question::boolean_with_criteria("Urgent?", "needs action today", "can wait");
    let req = request(json!({"ticket": "refund now", "tier": 2}).into(), vec![("urgent", q)]);
    let w = built(&req).await;
    assert_eq!(
        w.body,
        json!({
            "state": {"ticket": "refund now", "tier": 2},
            "questions": {"urgent": {"type": "noul", "instructions": "Urgent?", "criteria": {"true": "needs action today", "false": "can wait"}}},
            "model": "jev-1.14.0",
        })
    );
    // No images and no box question: no assets key and no danger-zone header.
    assert_eq!(danger_zone(&w), None);
    let bare = request("x".into(), vec![("q", Question::Box(Default::default()))]);
    let w = built(&bare).await;
    assert_eq!(w.body["questions"]["q"], json!({"type": "box"}));
    assert_eq!(danger_zone(&w), Some("true"), "a box question alone asks for the header");
}

#[tokio::test]
async fn images_anywhere_become_one_asset_each_in_order() {
    let png = Artifact::from_bytes(PNG);
    let jpeg = Artifact::from_bytes(JPEG);
    // Declared type wins over the bytes.
    let declared = Artifact::from_bytes(PNG).with_mime_type(MimeType::ImageWebp);
    let state = DecisionValue::map([
        ("a", DecisionValue::from(png.clone())),
        ("b", vec![DecisionValue::from(jpeg), png.clone().into()].into()),
    ]);
    let q = Question::boolean_with_criteria(DecisionValue::from(declared), png, "no");
    let w = built(&request(state, vec![("q", q)])).await;
    // Maps are visited by key: `a` (png) is id-0, `b[0]` (jpeg) id-1, `b[1]` is the png again.
    assert_eq!(w.body["state"], json!({"a": "id-0", "b": ["id-1", "id-0"]}));
    assert_eq!(w.body["questions"]["q"]["instructions"], "id-2");
    assert_eq!(w.body["questions"]["q"]["criteria"], json!({"true": "id-0", "false": "no"}));
    let assets = w.body["assets"].as_object().unwrap();
    assert_eq!(assets.len(), 3);
    assert_eq!(assets["id-1"]["format"], "jpeg");
    assert_eq!(assets["id-2"]["format"], "webp");
    assert_eq!(danger_zone(&w), Some("true"));
}

#[tokio::test]
async fn images_without_bytes_fail_naming_where_they_sit() {
    let url_only = Artifact::from_url("https://example.com/cat.png?sig=secret");
    let req = request(DecisionValue::map([("photo", url_only)]), vec![("q", Question::boolean("?"))]);
    let err = build(&req, &mut counter()).await.unwrap_err().to_string();
    assert!(err.contains("`state.photo`") && err.contains("only a URL"), "{err}");
    assert!(!err.contains("secret"), "{err}");
    let pdf = Artifact::from_bytes(&b"%PDF-1.7 ..."[..]);
    let req = request("x".into(), vec![("q", Question::score(vec![DecisionValue::from("low"), pdf.into()]))]);
    let err = build(&req, &mut counter()).await.unwrap_err().to_string();
    assert!(err.contains("`questions.q.criteria[1]`") && err.contains("not an image"), "{err}");
    let missing = Artifact::from_path("/no/such/file.png");
    let err = build(&request(missing.into(), vec![]), &mut counter()).await.unwrap_err().to_string();
    assert!(err.contains("`state`") && err.contains("/no/such/file.png"), "{err}");
}

fn origin() -> Origin {
    Origin::Provider(Provider::TypeSafe)
}

#[test]
fn answers_parse_by_type() {
    let body = json!({
        "answers": {
            "cat": {"type": "noul", "noul": 0.93},
            "mood": {"type": "choice", "choice": "calm", "probabilities": {"calm": 0.7, "angry": 0.3}, "confidence": 0.7, "legend": "ignored"},
            "size": {"type": "score", "score": 1.4, "probabilities": {"0": 0.1, "1": 0.4, "2": 0.5}, "confidence": 0.5},
            "where": {"type": "box", "box": {"top": 0.1, "bottom": 0.6, "left": 0.2, "right": 0.9}, "confidence": 0.8},
        },
        "usage": {"input_tokens": 120, "output_tokens": 4},
        "model": "jev-1.14.0",
        "id": "dec_1",
    });
    let bytes = Bytes::from(serde_json::to_vec(&body).unwrap());
    let out = parse(bytes, "jev-latest", origin()).unwrap();
    let a = &out.content;
    assert_eq!(a["cat"].as_boolean().unwrap().probability, 0.93);
    let mood = a["mood"].as_choice().unwrap();
    assert_eq!((mood.choice.as_str(), mood.confidence, mood.probabilities["angry"]), ("calm", 0.7, 0.3));
    let size = a["size"].as_score().unwrap();
    assert_eq!(size.probabilities.keys().copied().collect::<Vec<u32>>(), [0, 1, 2]);
    assert_eq!((size.score, size.probabilities[&2]), (1.4, 0.5));
    let b = a["where"].as_box().unwrap();
    assert_eq!(b.coordinates, BoxCoordinates { top: 0.1, bottom: 0.6, left: 0.2, right: 0.9 });
    assert_eq!(b.confidence, Some(0.8));
    assert_eq!((out.usage.input_tokens, out.usage.output_tokens), (Some(120), Some(4)));
    assert_eq!(out.metadata.model, "jev-latest");
    assert_eq!(out.metadata.response_model.as_deref(), Some("jev-1.14.0"));
    assert_eq!(out.metadata.modality, Modality::Decision);
    assert_eq!(out.finish_reason, None);
    // The raw response is kept without the answers, which are the content.
    let raw = out.metadata.raw_json().unwrap();
    assert!(raw.get("answers").is_none() && raw["usage"]["input_tokens"] == 120, "{raw}");
    // A box answer may come without a confidence.
    let body = br#"{"answers":{"w":{"type":"box","box":{"top":0,"bottom":1,"left":0,"right":1}}}}"#;
    let out = parse(Bytes::from_static(body), "jev-latest", origin()).unwrap();
    assert_eq!(out.content["w"].as_box().unwrap().confidence, None);
    assert!(out.usage.is_empty());
}

#[test]
fn replies_without_answers_or_with_unknown_types_are_errors() {
    let decode = |body: &'static str| parse(Bytes::from_static(body.as_bytes()), "jev-latest", origin()).unwrap_err();
    for body in [r#"{"answers":{}}"#, r#"{"usage":{}}"#, r#"{"answers":null}"#] {
        let err = decode(body);
        assert!(matches!(&err, Error::Decode { message, .. } if message.contains("no answers")), "{body}: {err}");
    }
    let err = decode(r#"{"answers":{"q":{"type":"ranking","ranking":[1]}}}"#);
    assert!(
        matches!(&err, Error::Decode { message, .. } if message.contains("unknown TypeSafe answer type `ranking`") && message.contains("`q`")),
        "{err}"
    );
    let err = decode(r#"{"answers":{"q":{"type":"choice","choice":"a"}}}"#);
    assert!(matches!(&err, Error::Decode { message, .. } if message.contains("probabilities")), "{err}");
    let err = decode(r#"{"answers":{"q":{"type":"noul"}}}"#);
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    assert!(matches!(decode("<html>"), Error::Decode { .. }));
}

#[test]
fn generated_ids_are_uuid4_shaped_and_distinct() {
    let a = random_id();
    assert_eq!(a.len(), 36);
    assert_eq!(a.as_bytes()[14], b'4');
    assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "{a}");
    assert_ne!(a, random_id());
}
