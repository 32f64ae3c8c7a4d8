//! Google Veo. `POST .../models/{model}:predictLongRunning` submits `instances[0].{prompt, image,
//! lastFrame, referenceImages}` and `parameters.{aspectRatio, resolution, durationSeconds,
//! storageUri}` and answers the operation `{name}`. The Gemini API form is read with
//! `GET /v1beta/models/{model}/operations/{id}`, the Vertex AI form with `POST
//! .../models/{model}:fetchPredictOperation` `{operationName}`; both answer `done: false` for the
//! reply's pending polls, then the failure (`error: {code, message}`) or the result: a Gemini API
//! file URI (`/v1beta/files/{id}:download?alt=media`, which redirects to the file on another host
//! name, as Google's storage does), or on Vertex AI the video inline
//! (`bytesBase64Encoded`) unless the request gave a `storageUri`, then a `gcsUri` the emulator
//! serves at `/storage/v1/b/{bucket}/o/{object}?alt=media`.

use serde_json::{Value, json};

use super::{VideoApi, b64, body, check_image, gcs_id, not_found, poll, start_job, text};
use crate::jobs::{Job, JobState};
use crate::plan::fresh_hex;
use crate::wire::images::{Answer, BadField, Call, Endpoint, files};

pub(crate) fn answer(api: VideoApi, call: &Call<'_>) -> Result<Answer, BadField> {
    match (api, call.endpoint) {
        (_, Endpoint::Poll(id)) => Ok(read(call, id)),
        (_, Endpoint::DownloadLink(id)) => Ok(redirect(call, id)),
        (VideoApi::VeoVertex, Endpoint::Edit) => {
            let b = body(call);
            let name = text(&b, "/operationName")
                .ok_or_else(|| BadField::new("operationName", "Missing required parameter: 'operationName'."))?;
            let id = name.rsplit_once("/operations/").map_or(name, |(_, id)| id);
            call.store.count_poll(id);
            Ok(read(call, id))
        }
        _ => submit(api, call),
    }
}

fn submit(api: VideoApi, call: &Call<'_>) -> Result<Answer, BadField> {
    let b = body(call);
    let instance =
        b.pointer("/instances/0").ok_or_else(|| BadField::new("instances", "'instances' must hold one instance."))?;
    if text(instance, "/prompt").is_none_or(|p| p.trim().is_empty()) {
        return Err(BadField::new("prompt", "Missing required parameter: 'instances[0].prompt'."));
    }
    let image = |field: &'static str, v: &Value| -> Result<(), BadField> {
        if v.get("gcsUri").and_then(Value::as_str).is_some_and(|u| u.starts_with("gs://")) {
            return Ok(());
        }
        if text(v, "/mimeType").is_none() {
            return Err(BadField::new(field, format!("'{field}.mimeType' is required.")));
        }
        check_image(field, text(v, "/bytesBase64Encoded"), true)
    };
    if let Some(v) = instance.get("image") {
        image("image", v)?;
    }
    if let Some(v) = instance.get("lastFrame") {
        if instance.get("image").is_none() {
            return Err(BadField::new("lastFrame", "'lastFrame' requires 'image' (the first frame)."));
        }
        image("lastFrame", v)?;
    }
    if let Some(refs) = instance.get("referenceImages") {
        let refs =
            refs.as_array().ok_or_else(|| BadField::new("referenceImages", "'referenceImages' must be a list."))?;
        if refs.len() > 3 {
            return Err(BadField::new("referenceImages", "At most 3 reference images are supported."));
        }
        for r in refs {
            if text(r, "/referenceType") != Some("asset") {
                return Err(BadField::new("referenceImages", "'referenceType' must be 'asset'."));
            }
            image("referenceImages", r.get("image").unwrap_or(&Value::Null))?;
        }
    }
    let params = b.get("parameters").cloned().unwrap_or(Value::Null);
    let seconds = match params.get("durationSeconds") {
        None => 8,
        Some(v) => match v.as_u64() {
            Some(s @ (4 | 6 | 8)) => s as u32,
            _ => return Err(BadField::new("durationSeconds", "'durationSeconds' must be 4, 6 or 8.")),
        },
    };
    if let Some(r) = params.get("aspectRatio").filter(|r| !matches!(r.as_str(), Some("16:9" | "9:16"))) {
        return Err(BadField::new("aspectRatio", format!("Unsupported aspect ratio {r}: use 16:9 or 9:16.")));
    }
    if let Some(r) = params.get("resolution").filter(|r| !matches!(r.as_str(), Some("720p" | "1080p" | "4k"))) {
        return Err(BadField::new("resolution", format!("Unsupported resolution {r}.")));
    }
    let model = call.model.unwrap_or("veo");
    let id = fresh_hex(16);
    let vertex = api == VideoApi::VeoVertex;
    let storage = text(&params, "/storageUri").and_then(|u| u.strip_prefix("gs://")).map(|rest| {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_end_matches('/');
        let object =
            if prefix.is_empty() { format!("{id}/sample_0.mp4") } else { format!("{prefix}/{id}/sample_0.mp4") };
        (bucket.to_string(), object)
    });
    let file = match &storage {
        Some((bucket, object)) => gcs_id(bucket, object),
        None => fresh_hex(24),
    };
    let name = if vertex {
        format!("projects/emulator/locations/us-central1/publishers/google/models/{model}/operations/{id}")
    } else {
        format!("models/{model}/operations/{id}")
    };
    let mut job = start_job(call, "google", &id, file, seconds);
    job.extra = json!({"seconds": seconds, "name": name, "vertex": vertex, "storage": storage.map(|(b, o)| format!("gs://{b}/{o}"))});
    call.store.add_job(id, job);
    Ok(Answer::json(call.reply.status, &json!({ "name": name })))
}

/// A Gemini API file download redirects to the storage host, as Google's does: here the same
/// server under another name (`localhost` for `127.0.0.1`), so that a client that sends the key to
/// the second hop shows in the journal.
fn redirect(call: &Call<'_>, id: &str) -> Answer {
    let storage = call.base_url.replace("://127.0.0.1:", "://localhost:");
    Answer::json(302, &json!({})).header("location", files::url(&storage, id, "video.mp4"))
}

fn read(call: &Call<'_>, id: &str) -> Answer {
    let missing = || not_found(VideoApi::Veo, format!("Operation {id} not found."));
    poll(call, id, missing, |state, job| Answer::json(200, &operation(call, state, job)))
}

fn operation(call: &Call<'_>, state: JobState, job: &Job) -> Value {
    let name = job.extra["name"].clone();
    match state {
        JobState::Pending => json!({"name": name, "done": false}),
        JobState::Failed => {
            let f = job.failure.as_ref().expect("a failed job has a failure");
            json!({"name": name, "done": true, "error": {"code": 3, "message": f.message, "status": f.status.as_deref().unwrap_or("INVALID_ARGUMENT")}})
        }
        JobState::Ready if job.extra["vertex"] == json!(true) => {
            let video = match job.extra["storage"].as_str() {
                Some(gcs) => json!({"gcsUri": gcs, "mimeType": "video/mp4"}),
                None => {
                    let secs = job.extra["seconds"].as_u64().unwrap_or(8) as u32;
                    json!({"bytesBase64Encoded": b64(&crate::mp4::render(640, 360, secs)), "mimeType": "video/mp4"})
                }
            };
            json!({"name": name, "done": true, "response": {
                "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
                "raiMediaFilteredCount": 0,
                "videos": [video],
            }})
        }
        JobState::Ready => json!({"name": name, "done": true, "response": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": {"generatedSamples": [
                {"video": {"uri": format!("{}/v1beta/files/{}:download?alt=media", call.base_url, job.file)}}
            ]},
        }}),
    }
}
