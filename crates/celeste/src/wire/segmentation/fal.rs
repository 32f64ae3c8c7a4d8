//! fal's queue, for SAM-3 image segmentation (`fal-ai/sam-3/image-rle`, `fal-ai/sam-3-1/image-rle`):
//!
//! 1. `POST queue.fal.run/{model}` with `{image_url, prompt?, point_prompts?, box_prompts?, ...}`
//!    answers `{request_id, status_url, response_url}`;
//! 2. `GET status_url` answers `IN_QUEUE` (with a `queue_position`) or `IN_PROGRESS` until
//!    `COMPLETED` (which may carry an `error`: the job failed);
//! 3. `GET response_url` answers the result: `rle` (one mask as a string, or a list of them),
//!    `scores`, `boxes` (`[cx, cy, w, h]`, normalised) and per-mask `metadata`.
//!
//! The reference polls every 0.5 s for at most 120 s, sends the parameters verbatim, and keeps the
//! RLE as text; here the masks are also decoded (see [`crate::types::segmentation`]).

use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};

use super::{SegmentContext, SegmentRequest};
use crate::error::{Error, Result};
use crate::jobs::{Poll, Poller};
use crate::types::output::Output;
use crate::types::segmentation::{Rle, SegmentationMask};
use crate::types::usage::FinishReason;

/// The reference's wait between polls.
pub(crate) const INTERVAL: Duration = Duration::from_millis(500);
/// The reference's limit for a job.
pub(crate) const LIMIT: Duration = Duration::from_secs(120);

/// `/{owner}/{app}/{path...}`: each segment of the model id escaped, the slashes kept.
pub(crate) fn path(model: &str) -> Result<String> {
    let mut out = String::new();
    for part in model.split('/') {
        let seg = crate::transport::urls::path_segment(part)
            .map_err(|why| Error::invalid_input(format!("the model id {model:?} cannot be used: {why}")))?;
        out.push('/');
        out.push_str(&seg);
    }
    Ok(out)
}

pub(crate) fn build(req: &SegmentRequest, _ctx: &SegmentContext) -> Result<Value> {
    let mut body = Map::new();
    body.insert("image_url".into(), req.input.image.data_url()?.into());
    if let Some(p) = &req.input.prompt {
        body.insert("prompt".into(), p.clone().into());
    }
    let json = |v: serde_json::Result<Value>| v.map_err(|e| Error::invalid_input(format!("segmentation prompts: {e}")));
    if !req.input.points.is_empty() {
        body.insert("point_prompts".into(), json(serde_json::to_value(&req.input.points))?);
    }
    if !req.input.boxes.is_empty() {
        body.insert("box_prompts".into(), json(serde_json::to_value(&req.input.boxes))?);
    }
    for (k, v) in req.params.values() {
        body.insert(k.clone(), v.clone());
    }
    Ok(Value::Object(body))
}

#[derive(Deserialize)]
struct Submitted {
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    status_url: Option<String>,
    #[serde(default)]
    response_url: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    status: String,
    #[serde(default)]
    queue_position: Option<u64>,
    /// Set on a job that failed (a string, or an object with a message).
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    error_type: Option<String>,
    #[serde(default)]
    detail: Option<Value>,
}

fn message(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => m.get("message").and_then(Value::as_str).map_or_else(|| v.to_string(), str::to_string),
        other => other.to_string(),
    }
}

/// One status reply.
pub(crate) fn read_status(body: &[u8]) -> Result<Poll<()>> {
    let s: Status = serde_json::from_slice(body).map_err(|e| Error::decode("a fal queue status", e, body))?;
    let error = s.error.as_ref().filter(|e| !e.is_null()).map(message);
    match s.status.as_str() {
        "IN_QUEUE" | "IN_PROGRESS" => {
            // The queue position is progress of a kind: none of its own, but the caller sees it move.
            let status = match s.queue_position {
                Some(n) if s.status == "IN_QUEUE" => format!("IN_QUEUE (position {n})"),
                _ => s.status,
            };
            Ok(Poll::Pending { status, fraction: None })
        }
        "COMPLETED" if error.is_none() => Ok(Poll::Done(())),
        _ => {
            let status = match (s.status.as_str(), s.error_type) {
                ("COMPLETED", Some(t)) => t,
                ("", _) => "unknown".into(),
                _ => s.status,
            };
            Ok(Poll::Failed { status, message: error.or_else(|| s.detail.as_ref().map(message)) })
        }
    }
}

/// Poll the submitted job to its end, fetch its result and decode the masks.
pub(crate) async fn settle(
    body: Bytes,
    ctx: &SegmentContext,
    poller: &mut Poller<'_>,
) -> Result<Output<Vec<SegmentationMask>>> {
    let sub: Submitted =
        serde_json::from_slice(&body).map_err(|e| Error::decode("a fal queue submit reply", e, &body))?;
    let (Some(status_url), Some(response_url)) = (sub.status_url, sub.response_url) else {
        return Err(Error::decode("a fal queue submit reply", "no status_url or response_url", &body));
    };
    if let Some(id) = &sub.request_id {
        poller.set_job_id(id.clone());
    }
    poller.poll(&status_url, INTERVAL, LIMIT, read_status).await?;
    let result = poller.get(&response_url).await?;
    let mut out = Output::new(parse_result(&result, ctx)?, ctx.metadata());
    out.metadata.response_id = sub.request_id;
    out.finish_reason = Some(FinishReason::from_raw("COMPLETE"));
    out.metadata.raw_response = Some(result);
    Ok(out)
}

/// One mask's encoding as fal (or a COCO-minded server) sends it.
#[derive(Deserialize)]
#[serde(untagged)]
enum WireRle {
    Text(String),
    Numbers(Vec<u64>),
    Coco { size: [u32; 2], counts: Counts },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Counts {
    Text(String),
    Numbers(Vec<u64>),
}

/// `rle`: one mask, or a list of masks.
#[derive(Deserialize)]
#[serde(untagged)]
enum WireRles {
    One(WireRle),
    Many(Vec<WireRle>),
}

#[derive(Deserialize)]
struct MaskMeta {
    #[serde(default)]
    index: Option<u32>,
    #[serde(default)]
    score: Option<f64>,
    #[serde(default, rename = "box")]
    bbox: Option<Vec<f64>>,
}

/// A list entry read if it has the expected shape, skipped otherwise.
#[derive(Deserialize)]
#[serde(untagged)]
enum Lenient<T> {
    Ok(T),
    Other(IgnoredAny),
}

impl<T> Lenient<T> {
    fn get(&self) -> Option<&T> {
        match self {
            Lenient::Ok(t) => Some(t),
            Lenient::Other(_) => None,
        }
    }
}

#[derive(Deserialize)]
struct WireResult {
    #[serde(default)]
    rle: Option<WireRles>,
    #[serde(default)]
    scores: Vec<Lenient<f64>>,
    #[serde(default)]
    boxes: Vec<Lenient<Vec<f64>>>,
    #[serde(default)]
    metadata: Vec<Lenient<MaskMeta>>,
}

fn four(v: &[f64]) -> Option<[f64; 4]> {
    <[f64; 4]>::try_from(v).ok()
}

/// The result: masks zipped with their scores, boxes and metadata (a score or box missing from its
/// list comes from the mask's metadata), each decoded when its size is known.
pub(crate) fn parse_result(body: &[u8], ctx: &SegmentContext) -> Result<Vec<SegmentationMask>> {
    let bad = |why: String| Error::decode("a fal segmentation result", why, body);
    let r: WireResult = serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
    let rles = match r.rle {
        None => return Err(bad("no `rle` in the result".into())),
        Some(WireRles::One(WireRle::Numbers(n))) if n.is_empty() => Vec::new(),
        Some(WireRles::One(one)) => vec![one],
        Some(WireRles::Many(many)) => many,
    };
    let mut masks = Vec::with_capacity(rles.len());
    for (i, wire) in rles.into_iter().enumerate() {
        let in_mask = |e: Error| match e {
            Error::Decode { message, .. } => bad(format!("mask {i}: {message}")),
            other => other,
        };
        let rle = match wire {
            WireRle::Text(t) => Rle::parse_runs(&t).map_err(in_mask)?,
            WireRle::Numbers(n) => Rle::from_numbers(&n).map_err(|why| bad(format!("mask {i}: {why}")))?,
            WireRle::Coco { size: [h, w], counts: Counts::Numbers(counts) } => {
                Rle::Coco { height: h, width: w, counts }
            }
            WireRle::Coco { size: [h, w], counts: Counts::Text(t) } => Rle::parse_coco(h, w, &t).map_err(in_mask)?,
        };
        let meta = r.metadata.get(i).and_then(Lenient::get);
        let index = meta.and_then(|m| m.index).unwrap_or(i as u32);
        let mut mask = SegmentationMask::new(index, rle);
        mask.score = r.scores.get(i).and_then(Lenient::get).copied().or(meta.and_then(|m| m.score));
        mask.bbox = r
            .boxes
            .get(i)
            .and_then(Lenient::get)
            .and_then(|b| four(b))
            .or_else(|| meta.and_then(|m| m.bbox.as_deref()).and_then(four));
        if let Some((w, h)) = mask.rle.size().or(ctx.extra.size) {
            mask.mask = Some(mask.rle.decode(w, h).map_err(in_mask)?);
        }
        masks.push(mask);
    }
    Ok(masks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Origin;
    use crate::types::enums::{Operation, Provider};
    use crate::wire::segmentation::SegmentExtra;

    fn ctx(size: Option<(u32, u32)>) -> SegmentContext {
        let model = "fal-ai/sam-3/image-rle".into();
        SegmentContext {
            origin: Origin::Provider(Provider::Fal),
            model,
            operation: Operation::Segment,
            extra: SegmentExtra { size },
        }
    }

    #[test]
    fn the_path_keeps_the_model_ids_slashes_and_escapes_the_rest() {
        assert_eq!(path("fal-ai/sam-3/image-rle").unwrap(), "/fal-ai/sam-3/image-rle");
        assert_eq!(path("a/b c?").unwrap(), "/a/b%20c%3F");
        assert!(path("fal-ai/../x").is_err());
        assert!(path("fal-ai//x").is_err());
    }

    #[test]
    fn statuses() {
        let read = |s: &str| read_status(s.as_bytes()).unwrap();
        assert!(matches!(read(r#"{"status":"IN_QUEUE","queue_position":2}"#),
            Poll::Pending { status, .. } if status == "IN_QUEUE (position 2)"));
        assert!(matches!(read(r#"{"status":"IN_PROGRESS","logs":[]}"#), Poll::Pending { .. }));
        assert!(matches!(read(r#"{"status":"COMPLETED","error":null}"#), Poll::Done(())));
        assert!(matches!(read(r#"{"status":"COMPLETED","error":"GPU fell over","error_type":"runner_error"}"#),
            Poll::Failed { status, message: Some(m) } if status == "runner_error" && m == "GPU fell over"));
        assert!(matches!(read(r#"{"status":"FAILED","detail":{"message":"bad image"}}"#),
            Poll::Failed { status, message: Some(m) } if status == "FAILED" && m == "bad image"));
        assert!(read_status(b"not json").is_err());
    }

    #[test]
    fn one_string_mask_with_scores_and_boxes_decodes_against_the_input_size() {
        let body = br#"{"rle": "2 2 6 3", "scores": [0.9], "boxes": [[0.5, 0.5, 0.75, 0.66]]}"#;
        let masks = parse_result(body, &ctx(Some((4, 3)))).unwrap();
        assert_eq!(masks.len(), 1);
        let m = &masks[0];
        assert_eq!((m.index, m.score, m.bbox), (0, Some(0.9), Some([0.5, 0.5, 0.75, 0.66])));
        let px = m.mask.as_ref().unwrap();
        assert_eq!(px.area(), 5);
        assert!(px.get(1, 0) && px.get(2, 0) && px.get(1, 1) && px.get(3, 1) && !px.get(0, 1));
        // Without a known size the encoding is kept undecoded.
        assert!(parse_result(body, &ctx(None)).unwrap()[0].mask.is_none());
    }

    #[test]
    fn a_list_of_masks_takes_scores_and_boxes_from_metadata_and_reads_every_form() {
        let body =
            br#"{"rle": ["1 1", [2, 1], {"size": [3, 4], "counts": [0, 1, 11]}, {"size": [3, 4], "counts": "01;"}],
            "metadata": [{"index": 7, "score": 0.8, "box": [0.1, 0.1, 0.2, 0.2]}, "junk", {"score": 0.6}],
            "scores": [null, 0.7]}"#;
        let masks = parse_result(body, &ctx(Some((4, 3)))).unwrap();
        assert_eq!(masks.iter().map(|m| m.index).collect::<Vec<_>>(), [7, 1, 2, 3]);
        assert_eq!(masks.iter().map(|m| m.score).collect::<Vec<_>>(), [Some(0.8), Some(0.7), Some(0.6), None]);
        assert_eq!(masks[0].bbox, Some([0.1, 0.1, 0.2, 0.2]));
        // Every one is the pixel (0, 0) or (1, 0), whatever its form; COCO is column-major, so
        // [0, 1, 11] is (0, 0), and so is its compressed form "01;" (11 → ';').
        let first = |i: usize| masks[i].mask.as_ref().unwrap().pixels().iter().position(|b| *b);
        assert_eq!([first(0), first(1), first(2), first(3)], [Some(0), Some(1), Some(0), Some(0)]);
        // An empty list is no mask; no `rle` is an error.
        assert!(parse_result(br#"{"rle": []}"#, &ctx(None)).unwrap().is_empty());
        assert!(parse_result(br#"{"masks": []}"#, &ctx(None)).is_err());
    }

    #[test]
    fn a_mask_that_does_not_fit_the_image_is_a_decode_error_naming_it() {
        let body = br#"{"rle": ["1 1", "10 5"]}"#;
        match parse_result(body, &ctx(Some((4, 3)))) {
            Err(Error::Decode { message, .. }) => {
                assert!(message.starts_with("mask 1:") && message.contains("past the last pixel"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        let body = br#"{"rle": [{"size": [2, 2], "counts": [1, 1]}]}"#;
        let err = parse_result(body, &ctx(None)).unwrap_err();
        assert!(err.to_string().contains("add up to 2 pixels"), "{err}");
        assert!(parse_result(br#"{"rle": "1 2 3"}"#, &ctx(None)).is_err());
        assert!(parse_result(br#"{"rle": [1, 2, 3]}"#, &ctx(None)).is_err());
    }
}
