//! The video APIs: Google Veo (Gemini API and Vertex AI), Gemini omni through Interactions, xAI
//! Grok Imagine video and BytePlus Seedance. They share the image APIs' request handling, faults
//! and job store ([`crate::jobs`]): a submit creates a job whose scripted pending polls
//! ([`crate::Reply::pending_polls`]) and failure ([`crate::Reply::job_failure`]) shape its
//! lifecycle; the result is a small valid MP4 ([`crate::mp4`]) the emulator serves, at the URL each
//! API uses (a Gemini API file, a Cloud Storage object, a presigned file URL), or inline.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::ErrorInfo;
use super::images::{Answer, BadField, Call, Endpoint, ImageApi, inline_image, percent_decode};
use crate::jobs::{Job, JobState};

pub(crate) mod byteplus;
pub(crate) mod omni;
pub(crate) mod veo;
pub(crate) mod xai;

/// The video APIs served here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VideoApi {
    /// Veo on the Gemini API: `:predictLongRunning`, `GET` of the operation.
    Veo,
    /// Veo on Vertex AI: `:predictLongRunning`, then `POST :fetchPredictOperation`.
    VeoVertex,
    /// Gemini omni models on Interactions (rerouted from the text API by model id).
    Omni,
    /// xAI `/v1/videos/*`.
    Xai,
    /// BytePlus `/api/v3/contents/generations/tasks`.
    BytePlus,
}

/// The Cloud Storage download path prefix (the JSON API's `?alt=media` form).
const STORAGE: &str = "/storage/v1/b/";

/// Maps a video path to its API: `(api, endpoint, model named in the path)`.
pub(crate) fn route(path: &str) -> Option<(ImageApi, Endpoint, Option<String>)> {
    let video = |api, endpoint| Some((ImageApi::Video(api), endpoint, None));
    match path {
        "/v1/videos/generations" => return video(VideoApi::Xai, Endpoint::Create),
        "/v1/videos/edits" => return video(VideoApi::Xai, Endpoint::Edit),
        "/api/v3/contents/generations/tasks" => return video(VideoApi::BytePlus, Endpoint::Create),
        _ => {}
    }
    let one = |s: &str| (!s.is_empty() && !s.contains('/')).then(|| s.to_string());
    if let Some(id) = path.strip_prefix("/v1/videos/").and_then(one) {
        return video(VideoApi::Xai, Endpoint::Poll(id));
    }
    if let Some(id) = path.strip_prefix("/api/v3/contents/generations/tasks/").and_then(one) {
        return video(VideoApi::BytePlus, Endpoint::Poll(id));
    }
    if let Some(id) = path.strip_prefix("/v1beta/files/").and_then(|r| r.strip_suffix(":download")).and_then(one) {
        return video(VideoApi::Veo, Endpoint::DownloadLink(id));
    }
    if let Some(rest) = path.strip_prefix(STORAGE)
        && let Some((bucket, object)) = rest.split_once("/o/")
        && !bucket.is_empty()
        && !object.is_empty()
    {
        return Some((ImageApi::Files, Endpoint::File(gcs_id(bucket, &percent_decode(object))), None));
    }
    // /v1beta/models/{model}/operations/{id}
    if let Some(rest) = path.strip_prefix("/v1beta/models/")
        && let Some((model, id)) = rest.split_once("/operations/")
        && let (Some(model), Some(id)) = (one(model), one(id))
    {
        return Some((ImageApi::Video(VideoApi::Veo), Endpoint::Poll(id), Some(model)));
    }
    // .../models/{model}:predictLongRunning (Gemini API or Vertex AI), :fetchPredictOperation.
    let at = path.rfind("/models/")?;
    let (model, method) = path[at + "/models/".len()..].split_once(':')?;
    let model = one(model)?;
    let vertex = path.starts_with("/v1/projects/");
    match method {
        "predictLongRunning" => {
            let api = if vertex { VideoApi::VeoVertex } else { VideoApi::Veo };
            Some((ImageApi::Video(api), Endpoint::Create, Some(model)))
        }
        // A status read by POST: answered by the job's state like a poll.
        "fetchPredictOperation" if vertex => Some((ImageApi::Video(VideoApi::VeoVertex), Endpoint::Edit, Some(model))),
        _ => None,
    }
}

/// The route of a Gemini omni model's request on the Interactions path (its model id tells it
/// from a text request).
pub(crate) fn omni_route() -> super::Route {
    super::Route {
        service: super::Service::Image(ImageApi::Video(VideoApi::Omni), Endpoint::Create),
        path_model: None,
        path_stream: Some(false),
        framing: super::Framing::Sse,
    }
}

/// The store id of a Cloud Storage object.
pub(crate) fn gcs_id(bucket: &str, object: &str) -> String {
    format!("gcs:{bucket}/{object}")
}

impl VideoApi {
    /// The JSON body of an HTTP error, in the provider's shape.
    pub fn error_body(self, err: &ErrorInfo) -> Vec<u8> {
        match self {
            VideoApi::Veo | VideoApi::VeoVertex | VideoApi::Omni => super::Api::Gemini.error_body(err),
            VideoApi::Xai => super::images::xai::error_body(err),
            VideoApi::BytePlus => super::images::byteplus::error_body(err),
        }
    }

    /// The request-id header the provider's servers send.
    pub fn request_id_header(self) -> Option<&'static str> {
        match self {
            VideoApi::Xai | VideoApi::BytePlus => Some("x-request-id"),
            _ => None,
        }
    }
}

/// Answers one video request.
pub(crate) fn answer(api: VideoApi, call: &Call<'_>) -> Answer {
    let answer = match api {
        VideoApi::Veo | VideoApi::VeoVertex => veo::answer(api, call),
        VideoApi::Omni => omni::answer(call),
        VideoApi::Xai => xai::answer(call),
        VideoApi::BytePlus => byteplus::answer(call),
    };
    answer.unwrap_or_else(|bad| Answer::bad_request(ImageApi::Video(api), bad))
}

/// A new job of `provider` whose result is an MP4 of `seconds` stored under `file`.
pub(crate) fn start_job(call: &Call<'_>, provider: &'static str, id: &str, file: String, seconds: u32) -> Job {
    let bytes = crate::mp4::render(640, 360, seconds);
    call.store.add_file_as(file.clone(), bytes, "video/mp4", Some(id.to_string()));
    let mut job = Job::new(
        provider,
        call.model.map(str::to_string),
        call.created,
        call.reply.pending_polls,
        call.reply.job_failure.clone(),
        call.reply.poll_retry_after.clone(),
        file,
        // The image format is not read for video jobs.
        crate::image::Format::Png,
    );
    job.extra = serde_json::json!({ "seconds": seconds });
    job
}

/// Answer a poll of job `id` with `render(state, job)`, adding `Retry-After` to pending answers.
pub(crate) fn poll(
    call: &Call<'_>,
    id: &str,
    missing: impl FnOnce() -> Answer,
    render: impl FnOnce(JobState, &Job) -> Answer,
) -> Answer {
    let Some(view) = call.store.answer_poll(id) else { return missing() };
    let answer = render(view.state, &view.job);
    match (&view.job.retry_after, view.state) {
        (Some(after), JobState::Pending) => answer.header("retry-after", after.clone()),
        _ => answer,
    }
}

/// An input image: base64 (`bare`) or a data URL, or an http(s) URL.
pub(crate) fn check_image(field: &'static str, s: Option<&str>, bare: bool) -> Result<(), BadField> {
    let s = s.ok_or_else(|| BadField::new(field, format!("'{field}' must be a string.")))?;
    inline_image(s, bare).map(|_| ()).map_err(|e| BadField::new(field, format!("Invalid '{field}': {e}.")))
}

/// An input video: a data URL of an MP4 (or base64 when `bare`), or an http(s) URL.
pub(crate) fn check_video(field: &'static str, s: Option<&str>, bare: bool) -> Result<(), BadField> {
    let s = s.ok_or_else(|| BadField::new(field, format!("'{field}' must be a string.")))?;
    if s.starts_with("http://") || s.starts_with("https://") {
        return Ok(());
    }
    let payload = match s.strip_prefix("data:") {
        Some(rest) => rest
            .split_once(";base64,")
            .map(|(_, d)| d)
            .ok_or_else(|| BadField::new(field, format!("Invalid '{field}': expected a base64 data URL.")))?,
        None if bare => s,
        None => return Err(BadField::new(field, format!("Invalid '{field}': expected a data URL or an http(s) URL."))),
    };
    let bytes = STANDARD
        .decode(payload.trim())
        .map_err(|e| BadField::new(field, format!("Invalid '{field}': invalid base64 ({e}).")))?;
    if bytes.get(4..8) != Some(b"ftyp") {
        return Err(BadField::new(field, format!("Invalid '{field}': the data is not an MP4 video.")));
    }
    Ok(())
}

/// A JSON field of the body as a string.
pub(crate) fn text<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// The request body as JSON (`{}` for none).
pub(crate) fn body(call: &Call<'_>) -> Value {
    match call.payload {
        super::images::Payload::Json(v) => v.clone(),
        _ => Value::Object(Default::default()),
    }
}

/// A 404 in the API's shape.
pub(crate) fn not_found(api: VideoApi, what: String) -> Answer {
    Answer::error(ImageApi::Video(api), &ErrorInfo::new(404, what))
}

/// Bytes as standard base64.
pub(crate) fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let video = |api| Some(ImageApi::Video(api));
        let r = |p: &str| route(p).map(|(api, e, m)| (Some(api), e, m));
        assert_eq!(r("/v1/videos/generations"), Some((video(VideoApi::Xai), Endpoint::Create, None)));
        assert_eq!(r("/v1/videos/edits").unwrap().1, Endpoint::Edit);
        assert_eq!(r("/v1/videos/abc").unwrap().1, Endpoint::Poll("abc".into()));
        assert_eq!(r("/api/v3/contents/generations/tasks/cgt-1").unwrap().1, Endpoint::Poll("cgt-1".into()));
        let veo = r("/v1beta/models/veo-3.1-generate-preview:predictLongRunning").unwrap();
        assert_eq!(veo, (video(VideoApi::Veo), Endpoint::Create, Some("veo-3.1-generate-preview".into())));
        let op = r("/v1beta/models/veo-3.1-generate-preview/operations/op1").unwrap();
        assert_eq!(op.1, Endpoint::Poll("op1".into()));
        let vertex = "/v1/projects/p/locations/l/publishers/google/models/veo-3.1-generate-preview";
        assert_eq!(r(&format!("{vertex}:predictLongRunning")).unwrap().0, video(VideoApi::VeoVertex));
        assert_eq!(r(&format!("{vertex}:fetchPredictOperation")).unwrap().1, Endpoint::Edit);
        assert_eq!(r("/v1beta/files/f1:download").unwrap().1, Endpoint::DownloadLink("f1".into()));
        let gcs = r("/storage/v1/b/bucket/o/clips%2Fa%2Fsample_0.mp4").unwrap();
        assert_eq!(gcs, (Some(ImageApi::Files), Endpoint::File(gcs_id("bucket", "clips/a/sample_0.mp4")), None));
        assert!(r("/v1beta/models/gemini-2.5-flash:generateContent").is_none());
        assert!(r("/v1/videos/a/b").is_none());
    }
}
