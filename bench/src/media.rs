//! The media scenarios (issue 19, item 3), for celeste-ai and its floor: a 4 MiB image returned as
//! base64 JSON, a 20 MiB speech stream, and a polled job.
//!
//! The floor does the least any client must: the image is one typed decode of the body that borrows
//! the base64 text from it and one base64 decode into the image's bytes; the speech is the body read
//! with `bytes_stream()` and dropped; the job is a submit, status GETs each decoded into a borrowed
//! struct until it is ready (with the same zero wait between polls celeste-ai is given), and the
//! download of the result.

use std::borrow::Cow;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::{API_KEY, BenchError, Counted, Media, MediaScenario, PROMPT};

/// The wait between polls both clients are given: none (the emulator's jobs do not run in time).
const POLL_INTERVAL: Duration = Duration::ZERO;
/// The voice of the speech scenarios.
const VOICE: &str = "alloy";

/// Runs a media scenario with `client` (`celeste` or `floor`; the others do not have these APIs).
pub async fn run(client: &str, s: &MediaScenario, url: &str) -> Result<Counted, BenchError> {
    let mut total = Counted::default();
    match client {
        "celeste" => {
            let c = celeste_client(url)?;
            for _ in 0..s.calls {
                let got = celeste_call(&c, s).await?;
                total.chunks += got.chunks;
                total.bytes += got.bytes;
            }
        }
        "floor" => {
            let http = reqwest::Client::builder().build().map_err(BenchError::failed)?;
            for _ in 0..s.calls {
                let got = floor_call(&http, s, url).await?;
                total.chunks += got.chunks;
                total.bytes += got.bytes;
            }
        }
        other => {
            return Err(BenchError::NotApplicable(format!(
                "{other} has no image, speech or job API in this benchmark"
            )));
        }
    }
    Ok(total)
}

// ---- celeste-ai ----

fn celeste_client(url: &str) -> Result<celeste::Client, BenchError> {
    use celeste::Provider;
    let credentials =
        celeste::Credentials::empty().with_key(Provider::OpenAi, API_KEY).with_key(Provider::Bfl, API_KEY);
    celeste::Client::builder()
        .credentials(credentials)
        .base_url(Provider::OpenAi, url)
        .base_url(Provider::Bfl, url)
        .build()
        .map_err(BenchError::failed)
}

fn image_bytes(images: &[celeste::types::Image]) -> Counted {
    let mut got = Counted::default();
    for img in images {
        got.chunks += 1;
        got.bytes += img.artifact.data.as_ref().map_or(0, Bytes::len);
    }
    got
}

async fn celeste_call(c: &celeste::Client, s: &MediaScenario) -> Result<Counted, BenchError> {
    match s.media {
        Media::Image => {
            let out = c.images().generate(PROMPT, s.model).await.map_err(BenchError::failed)?;
            Ok(image_bytes(&out.content))
        }
        Media::Job { .. } => {
            let out = c.images().generate(PROMPT, s.model).poll_interval(POLL_INTERVAL).await;
            Ok(image_bytes(&out.map_err(BenchError::failed)?.content))
        }
        Media::Speech => {
            let call = c.audio().speak(PROMPT, s.model).voice(VOICE).output_format("pcm");
            // Like the floor, which reads the audio and drops it: the stream keeps none of it.
            let mut stream = call.stream().keep_audio(false).await.map_err(BenchError::failed)?;
            let mut got = Counted::default();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(BenchError::failed)?;
                got.chunks += 1;
                got.bytes += chunk.content.len();
            }
            stream.output().map_err(BenchError::failed)?;
            Ok(got)
        }
    }
}

// ---- The floor ----

#[derive(Serialize)]
struct ImageRequest<'a> {
    model: &'a str,
    prompt: &'a str,
}

#[derive(Deserialize)]
struct ImageResponse<'a> {
    #[serde(borrow)]
    data: Vec<ImageDatum<'a>>,
}

#[derive(Deserialize)]
struct ImageDatum<'a> {
    /// Borrowed from the body unless the JSON string has escapes.
    #[serde(borrow)]
    b64_json: Cow<'a, str>,
}

#[derive(Serialize)]
struct SpeechRequest<'a> {
    model: &'a str,
    input: &'a str,
    voice: &'a str,
    response_format: &'a str,
}

#[derive(Serialize)]
struct JobRequest<'a> {
    prompt: &'a str,
}

#[derive(Deserialize)]
struct Submitted<'a> {
    #[serde(borrow)]
    polling_url: Cow<'a, str>,
}

#[derive(Deserialize)]
struct JobStatus<'a> {
    #[serde(borrow)]
    status: Cow<'a, str>,
    #[serde(borrow, default)]
    result: Option<JobResult<'a>>,
}

#[derive(Deserialize)]
struct JobResult<'a> {
    #[serde(borrow)]
    sample: Cow<'a, str>,
}

async fn ok(req: reqwest::RequestBuilder) -> Result<reqwest::Response, BenchError> {
    let resp = req.send().await.map_err(BenchError::failed)?;
    if !resp.status().is_success() {
        return Err(BenchError::Failed(format!("HTTP {}", resp.status())));
    }
    Ok(resp)
}

fn post_json(
    http: &reqwest::Client,
    url: String,
    body: &impl Serialize,
) -> Result<reqwest::RequestBuilder, BenchError> {
    let body = serde_json::to_vec(body).map_err(BenchError::failed)?;
    Ok(http.post(url).header(CONTENT_TYPE, HeaderValue::from_static("application/json")).body(body))
}

async fn floor_call(http: &reqwest::Client, s: &MediaScenario, url: &str) -> Result<Counted, BenchError> {
    let mut got = Counted::default();
    match s.media {
        Media::Image => {
            let req = post_json(
                http,
                format!("{url}/v1/images/generations"),
                &ImageRequest { model: s.model, prompt: PROMPT },
            )?
            .header(AUTHORIZATION, HeaderValue::from_static("Bearer k"));
            let body = ok(req).await?.bytes().await.map_err(BenchError::failed)?;
            let r: ImageResponse<'_> = serde_json::from_slice(&body).map_err(BenchError::failed)?;
            for d in &r.data {
                let image = Bytes::from(STANDARD.decode(d.b64_json.as_bytes()).map_err(BenchError::failed)?);
                got.chunks += 1;
                got.bytes += image.len();
            }
        }
        Media::Speech => {
            let ask = SpeechRequest { model: s.model, input: PROMPT, voice: VOICE, response_format: "pcm" };
            let req = post_json(http, format!("{url}/v1/audio/speech"), &ask)?
                .header(AUTHORIZATION, HeaderValue::from_static("Bearer k"));
            let mut body = ok(req).await?.bytes_stream();
            while let Some(read) = body.next().await {
                let read = read.map_err(BenchError::failed)?;
                got.chunks += 1;
                got.bytes += read.len();
            }
        }
        Media::Job { polls } => {
            let key = HeaderValue::from_static(API_KEY);
            let req = post_json(http, format!("{url}/v1/{}", s.model), &JobRequest { prompt: PROMPT })?
                .header("x-key", key.clone());
            let body = ok(req).await?.bytes().await.map_err(BenchError::failed)?;
            let submitted: Submitted<'_> = serde_json::from_slice(&body).map_err(BenchError::failed)?;
            let mut made = 0;
            let sample = loop {
                tokio::time::sleep(POLL_INTERVAL).await;
                let status = ok(http.get(&*submitted.polling_url).header("x-key", key.clone())).await?;
                let status = status.bytes().await.map_err(BenchError::failed)?;
                made += 1;
                let st: JobStatus<'_> = serde_json::from_slice(&status).map_err(BenchError::failed)?;
                match (&*st.status, st.result) {
                    ("Ready", Some(result)) => break result.sample.into_owned(),
                    ("Pending", _) => {}
                    (other, _) => return Err(BenchError::Failed(format!("job status {other}"))),
                }
            };
            if made != polls {
                return Err(BenchError::Failed(format!("the job settled after {made} polls, not {polls}")));
            }
            let image = ok(http.get(sample)).await?.bytes().await.map_err(BenchError::failed)?;
            got.chunks += 1;
            got.bytes += image.len();
        }
    }
    Ok(got)
}
