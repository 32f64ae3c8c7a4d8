//! The embedding APIs against a recorded reply and hand-made requests.

use bytes::Bytes;
use serde_json::json;

use super::*;
use crate::types::enums::Provider;

fn ctx() -> EmbedContext {
    EmbedContext { origin: Origin::Provider(Provider::OpenAi), model: "text-embedding-3-small".into() }
}

fn req(inputs: Vec<EmbedInput>, batch: bool) -> EmbedRequest {
    EmbedRequest { model: "m".into(), inputs, dimensions: Some(256), batch }
}

#[test]
fn the_recorded_openai_embedding_decodes_exactly() {
    let Some(dir) = crate::testing::recorded_dir() else { return };
    let body = Bytes::from(std::fs::read(dir.join("media/openai-embedding.json")).unwrap());
    let out = EmbeddingsApi::OpenAi.parse(&body, &ctx()).unwrap();
    assert_eq!(out.content.len(), 2);
    assert_eq!(out.content[0], [0.0057293195, -0.012727811, 0.020042092, -0.013437585, 0.022833068]);
    assert_eq!(out.content[1][0], -0.037104916);
    assert_eq!((out.usage.input_tokens, out.usage.total_tokens), (Some(12), Some(12)));
}

#[test]
fn base64_vectors_decode_as_little_endian_f32() {
    let v: Vec<u8> = [1.5f32, -2.25].iter().flat_map(|f| f.to_le_bytes()).collect();
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, v);
    let body = Bytes::from(serde_json::to_vec(&json!({"data": [{"index": 0, "embedding": b64}]})).unwrap());
    assert_eq!(EmbeddingsApi::OpenAi.parse(&body, &ctx()).unwrap().content, [vec![1.5, -2.25]]);
    // A length that is not whole f32s is a decode error, not garbage.
    let body = Bytes::from(serde_json::to_vec(&json!({"data": [{"embedding": "AAA="}]})).unwrap());
    assert!(matches!(EmbeddingsApi::OpenAi.parse(&body, &ctx()), Err(Error::Decode { .. })));
}

#[test]
fn vectors_are_read_as_number_lists_or_base64_and_other_shapes_are_decode_errors() {
    // Out of order by index; integers, exponents and base64 ("AADAPw==" is 1.5 as a little-endian f32).
    let body =
        Bytes::from_static(br#"{"data":[{"index":1,"embedding":[1,2.5,-3e-2]},{"index":0,"embedding":"AADAPw=="}]}"#);
    let out = EmbeddingsApi::OpenAi.parse_response(&body, "m").unwrap();
    assert_eq!(out.content, [vec![1.5], vec![1.0, 2.5, -0.03]]);
    for bad in [
        r#"{"data":[{"embedding":{"values":[1]}}]}"#,
        r#"{"data":[{"embedding":[1,"x"]}]}"#,
        r#"{"data":[{"embedding":"!!"}]}"#,
    ] {
        let r = EmbeddingsApi::OpenAi.parse_response(&Bytes::from(bad), "m");
        assert!(matches!(r, Err(Error::Decode { .. })), "{bad}: {r:?}");
    }
}

#[test]
fn request_shapes() {
    let text = |t: &str| EmbedInput::Text(t.into());
    let body = EmbeddingsApi::OpenAi.build(&req(vec![text("a"), text("b")], true), &ctx()).unwrap();
    assert_eq!(body, json!({"model": "m", "input": ["a", "b"], "encoding_format": "base64", "dimensions": 256}));
    let body = EmbeddingsApi::Cohere.build(&req(vec![text("a")], false), &ctx()).unwrap();
    assert_eq!(
        body,
        json!({"model": "m", "texts": ["a"], "input_type": "search_document", "embedding_types": ["float"], "output_dimension": 256})
    );
    // Text only on OpenAI.
    let img = EmbedInput::Image(Artifact::from_url("https://x/a.png"));
    assert!(matches!(EmbeddingsApi::OpenAi.build(&req(vec![img], true), &ctx()), Err(Error::Unsupported(_))));
}

#[cfg(feature = "google")]
#[test]
fn gemini_single_batch_and_mixed() {
    let text = |t: &str| EmbedInput::Text(t.into());
    let single = req(vec![text("a")], false);
    assert_eq!(EmbeddingsApi::Google.path(&single).unwrap(), "/v1beta/models/m:embedContent");
    assert_eq!(
        EmbeddingsApi::Google.build(&single, &ctx()).unwrap(),
        json!({"content": {"parts": [{"text": "a"}]}, "outputDimensionality": 256})
    );
    let batch = req(vec![text("a"), text("b")], true);
    assert_eq!(EmbeddingsApi::Google.path(&batch).unwrap(), "/v1beta/models/m:batchEmbedContents");
    let body = EmbeddingsApi::Google.build(&batch, &ctx()).unwrap();
    assert_eq!(
        body["requests"][1],
        json!({"model": "models/m", "content": {"parts": [{"text": "b"}]}, "outputDimensionality": 256})
    );
    // An image with a caption is one combined vector; a batch mixing both is refused.
    let png = Artifact::from_bytes(&b"\x89PNG\r\n\x1a\n"[..]);
    let combined = req(vec![EmbedInput::Image(png.clone()), text("caption")], false);
    let body = EmbeddingsApi::Google.build(&combined, &ctx()).unwrap();
    assert!(body["content"]["parts"][0]["inlineData"]["data"].is_string());
    let mixed = req(vec![EmbedInput::Image(png), text("caption")], true);
    assert!(matches!(EmbeddingsApi::Google.build(&mixed, &ctx()), Err(Error::Unsupported(_))));
    let body = Bytes::from_static(br#"{"embeddings": [{"values": [1, 2]}, {"values": [3]}]}"#);
    assert_eq!(EmbeddingsApi::Google.parse(&body, &ctx()).unwrap().content, [vec![1.0, 2.0], vec![3.0]]);
}
