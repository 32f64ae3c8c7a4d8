//! Google Veo: `POST {base}/v1beta/models/{model}:predictLongRunning` with an API key, or
//! `POST .../publishers/google/models/{model}:predictLongRunning` on Vertex AI; both answer a
//! long-running operation `{name}`. The Gemini API is polled with `GET {base}/v1beta/{name}`, Vertex
//! AI with `POST {model URL}:fetchPredictOperation` `{operationName}`, every 10 s, until `done`.
//!
//! The request is `instances[0].{prompt, image, lastFrame, referenceImages[{image, referenceType:
//! "asset"}]}` (images as `{bytesBase64Encoded, mimeType}`, or `{gcsUri, mimeType}` for a URL) and
//! `parameters.{aspectRatio, resolution, durationSeconds, negativePrompt, seed}`.
//!
//! Results: the Gemini API answers `response.generateVideoResponse.generatedSamples[].video.uri`, a
//! file URL of the API's host that wants the key; Vertex AI answers `response.videos[]` with inline
//! `bytesBase64Encoded` or a `gcsUri` in the caller's bucket, which wants the caller's token. Each
//! URL result carries those credentials for that one host (`Client::download`); `gs://` URIs become
//! Cloud Storage download URLs (the JSON API's `?alt=media` form), below the caller's base URL when
//! it is not Google's (a proxy or the emulator stands in for every Google host).

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{JobPoll, VideoContext, VideoRequest, expired, json_reply, origin_of, video};
use crate::error::{Error, Result};
use crate::jobs::{Poll, Poller};
use crate::types::artifact::Artifact;
use crate::types::enums::Operation;
use crate::types::output::Output;
use crate::types::video::{FetchAuth, Video};
use crate::wire::google::{Media, media};
use crate::wire::kit::renamed;

/// The parameters Veo carries.
pub(crate) const CARRIED: &[&str] = &[
    "aspect_ratio",
    "resolution",
    "duration",
    "negative_prompt",
    "seed",
    "first_frame",
    "last_frame",
    "reference_images",
];

/// Google Cloud Storage's host.
const STORAGE: &str = "https://storage.googleapis.com";

/// Whether Veo serves `operation` for `model` (Veo generates; the omni models edit, elsewhere).
pub(crate) fn serves(operation: Operation, model: &str) -> bool {
    operation == Operation::Generate && model.starts_with("veo")
}

/// The path on the Gemini API.
pub(crate) fn path(operation: Operation, model: &str) -> Option<String> {
    serves(operation, model).then(|| format!("/v1beta/models/{model}:predictLongRunning"))
}

fn image(a: &Artifact) -> Result<Value> {
    Ok(match media(a)? {
        Media::Inline { mime, data } => json!({"bytesBase64Encoded": data, "mimeType": mime}),
        Media::Uri { uri, mime: Some(mime) } => json!({"gcsUri": uri, "mimeType": mime}),
        Media::Uri { uri, mime: None } => json!({"gcsUri": uri}),
    })
}

/// The request body.
pub(crate) fn build(req: &VideoRequest, _ctx: &VideoContext) -> Result<Value> {
    let p = &req.params;
    let mut instance = Map::new();
    instance.insert("prompt".into(), req.input.prompt.clone().into());
    if let Some(a) = &req.input.first_frame {
        instance.insert("image".into(), image(a)?);
    }
    if let Some(a) = &req.input.last_frame {
        instance.insert("lastFrame".into(), image(a)?);
    }
    if !p.reference_images.is_empty() {
        let refs: Result<Vec<Value>> =
            p.reference_images.iter().map(|a| Ok(json!({"image": image(a)?, "referenceType": "asset"}))).collect();
        instance.insert("referenceImages".into(), Value::Array(refs?));
    }
    let table = [
        ("aspect_ratio", "aspectRatio"),
        ("resolution", "resolution"),
        ("duration", "durationSeconds"),
        ("negative_prompt", "negativePrompt"),
        ("seed", "seed"),
    ];
    let parameters: Map<String, Value> = renamed(p, &table).map(|(theirs, v)| (theirs.into(), v.clone())).collect();
    let mut body = json!({ "instances": [Value::Object(instance)] });
    if !parameters.is_empty() {
        body["parameters"] = Value::Object(parameters);
    }
    Ok(body)
}

#[derive(Deserialize)]
struct Operation_ {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    done: bool,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    response: Option<Value>,
    #[serde(default)]
    metadata: Option<Value>,
}

/// The operation's name from the submit's reply.
pub(crate) fn submitted(body: &[u8]) -> Result<String> {
    let op: Operation_ = json_reply(body, "a Veo operation")?;
    op.name.filter(|n| !n.is_empty()).ok_or_else(|| Error::decode("a Veo operation", "it has no `name`", body))
}

/// An operation name is a resource path (`models/veo-…/operations/…`,
/// `projects/…/operations/…`): only those characters, so that no name can point a request
/// elsewhere.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('/')
        && !name.split('/').any(|s| s.is_empty() || s == "." || s == "..")
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
    if ok {
        return Ok(());
    }
    Err(Error::invalid_input(format!(
        "{name:?} is not a Veo operation name (such as `models/veo-3.1-generate-preview/operations/abc123`)"
    )))
}

/// Read one poll of the operation.
pub(crate) fn read(body: &[u8]) -> Result<JobPoll> {
    let op: Operation_ = json_reply(body, "a Veo operation")?;
    if let Some(err) = op.error.filter(|e| !e.is_null()) {
        let status = err
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| err.get("code").map(|c| format!("code {c}")))
            .unwrap_or_else(|| "error".into());
        let message = err.get("message").and_then(Value::as_str).map(str::to_string);
        return Ok(Poll::Failed { status, message });
    }
    if !op.done {
        let fraction = op
            .metadata
            .as_ref()
            .and_then(|m| m.get("progressPercent").or_else(|| m.get("progress_percent")))
            .and_then(Value::as_f64)
            .map(|p| p / 100.0);
        return Ok(Poll::Pending { status: "running".into(), fraction });
    }
    Ok(Poll::Done((op.response.unwrap_or(Value::Null), Bytes::copy_from_slice(body))))
}

/// Poll operation `name` to its end and read its videos.
pub(crate) async fn finish(
    vertex: bool,
    name: String,
    ctx: &VideoContext,
    poller: &mut Poller<'_>,
) -> Result<Output<Vec<Video>>> {
    check_name(&name)?;
    poller.set_job_id(name.clone());
    let interval = super::VideoApi::Veo.interval();
    let polled = if vertex {
        let url = format!("{}:fetchPredictOperation", ctx.extra.base);
        let body = Bytes::from(json!({ "operationName": name }).to_string());
        poller.poll_with(&url, Some(body), interval, super::DEFAULT_DEADLINE, read).await
    } else {
        let url = crate::providers::join_url(&ctx.extra.base, &format!("/v1beta/{name}"));
        poller.poll(&url, interval, super::DEFAULT_DEADLINE, read).await
    };
    let (response, raw) = polled.map_err(|e| expired(e, &name))?;
    let videos = videos(&response, ctx, &raw)?;
    if videos.is_empty() {
        let filtered = response.get("raiMediaFilteredCount").and_then(Value::as_u64).unwrap_or(0);
        let reasons = response
            .get("raiMediaFilteredReasons")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "));
        if filtered > 0 || reasons.as_deref().is_some_and(|r| !r.is_empty()) {
            return Err(Error::Job(Box::new(crate::error::JobError {
                origin: ctx.origin,
                job_id: Some(name),
                status: "filtered".into(),
                message: reasons.filter(|r| !r.is_empty()).or(Some(format!("{filtered} videos were filtered"))),
            })));
        }
        return Err(Error::decode("a Veo operation", "it finished without a video", &raw));
    }
    let mut out = ctx.output(videos, raw);
    out.metadata.response_id = Some(name);
    Ok(out)
}

/// The videos of a finished operation's response, in either API's shape.
fn videos(response: &Value, ctx: &VideoContext, raw: &[u8]) -> Result<Vec<Video>> {
    let samples = response
        .pointer("/generateVideoResponse/generatedSamples")
        .or_else(|| response.get("generatedSamples"))
        .and_then(Value::as_array)
        .map(|s| s.iter().filter_map(|s| s.get("video")).collect::<Vec<_>>())
        .unwrap_or_default();
    let vertex = response.get("videos").and_then(Value::as_array).map(|v| v.iter().collect::<Vec<_>>());
    let mut out = Vec::new();
    for v in samples.into_iter().chain(vertex.unwrap_or_default()) {
        let text = |k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
        let data = match text("bytesBase64Encoded").or_else(|| text("encodedVideo")) {
            Some(b64) => Some(super::decode_b64(b64, "a Veo video")?),
            None => None,
        };
        let gcs = text("gcsUri");
        let url =
            match gcs {
                Some(g) => Some(storage_url(g, &ctx.extra.base).ok_or_else(|| {
                    Error::decode("a Veo operation", format!("`{g}` is not a Cloud Storage URI"), raw)
                })?),
                None => text("uri").map(str::to_string),
            };
        let Some(mut video) = video(data, url.as_deref(), text("mimeType"), ctx) else { continue };
        if let Some(g) = gcs {
            video.artifact.metadata.insert("gcs_uri".into(), g.into());
        }
        if !video.has_bytes() {
            video.fetch = fetch_auth(video.artifact.url.as_deref(), gcs.is_some(), ctx);
        }
        out.push(video);
    }
    Ok(out)
}

/// `gs://bucket/object` as a Cloud Storage download URL: Google's host, or the caller's base URL
/// when it is not a Google host.
pub(crate) fn storage_url(gcs: &str, base: &str) -> Option<String> {
    let rest = gcs.strip_prefix("gs://")?;
    let (bucket, object) = rest.split_once('/')?;
    if bucket.is_empty() || object.is_empty() {
        return None;
    }
    let host = match crate::transport::urls::parse(base) {
        Some(u) if u.host_str().is_some_and(|h| !h.ends_with("googleapis.com")) => u.origin().ascii_serialization(),
        _ => STORAGE.to_string(),
    };
    let bucket = crate::transport::urls::path_segment(bucket).ok()?;
    let object = crate::transport::urls::path_segment(object).ok()?;
    Some(format!("{host}/storage/v1/b/{bucket}/o/{object}?alt=media"))
}

/// The credentials a result URL gets: the call's own, for the API's host (a Gemini API file) or
/// for Cloud Storage (a Vertex AI result); none for any other host.
fn fetch_auth(url: Option<&str>, gcs: bool, ctx: &VideoContext) -> Option<FetchAuth> {
    let host = |u: &str| crate::transport::urls::parse(u).and_then(|u| origin_of(&u));
    let target = host(url?)?;
    let allowed = if gcs { host(&storage_url("gs://b/o", &ctx.extra.base)?)? } else { host(&ctx.extra.base)? };
    (target == allowed).then(|| FetchAuth { headers: ctx.extra.auth.clone(), host: target })
}
