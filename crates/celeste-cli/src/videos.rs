//! `celeste videos generate | edit | job`: one video job, polled to its end with a progress line
//! (hidden when stderr is not a terminal), the video downloaded and written to a file; against the
//! real provider when its key is set, otherwise against the bundled emulator.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde_json::{Value, json};

use celeste::types::{Artifact, Video};
use celeste::{Client, Error, Output, VideoCall};

use crate::args::{Endpoint, Global};
use crate::images::{job_message, numbered, option, progress_bar};
use crate::text::Session;

/// Where a video call goes and what it asks for (shared by the commands).
#[derive(Args, Debug, Clone)]
pub struct VideoOptions {
    /// The model id; the catalog resolves its provider.
    #[arg(long, short, default_value = "veo-3.1-fast-generate-preview")]
    pub model: String,
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// Where to write the video (`-1`, `-2`, ... are added before the extension for several).
    /// Default: `video.mp4` in the current directory.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Aspect ratio (`16:9`, `9:16`; see `celeste models list --json` for a model's values).
    #[arg(long)]
    pub aspect_ratio: Option<String>,
    /// Resolution (`720p`, `1080p`, `4k`).
    #[arg(long)]
    pub resolution: Option<String>,
    /// Length in seconds.
    #[arg(long, short)]
    pub duration: Option<u32>,
    /// The image the video starts from.
    #[arg(long, value_name = "FILE")]
    pub first_frame: Option<PathBuf>,
    /// The image the video ends on (with --first-frame).
    #[arg(long, value_name = "FILE")]
    pub last_frame: Option<PathBuf>,
    /// A reference image (repeat for more).
    #[arg(long = "reference", value_name = "FILE")]
    pub references: Vec<PathBuf>,
    /// What the video must not show.
    #[arg(long)]
    pub negative_prompt: Option<String>,
    /// Sampling seed.
    #[arg(long)]
    pub seed: Option<i64>,
    /// Any other parameter of the model, as `name=value` (value read as JSON when it parses).
    #[arg(long = "option", value_name = "NAME=VALUE")]
    pub options: Vec<String>,
    /// The longest the job may run, in seconds (default 1200); past it, resume with `celeste videos job`.
    #[arg(long, value_name = "SECONDS")]
    pub job_deadline: Option<u64>,
    /// Seconds between polls of the job (default: the provider's own; 0.2 on the emulator).
    #[arg(long, value_name = "SECONDS")]
    pub poll_interval: Option<f64>,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The prompt.
    pub prompt: String,
    #[command(flatten)]
    pub options: Box<VideoOptions>,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    /// The video to edit.
    pub input: PathBuf,
    /// What to change.
    pub prompt: String,
    #[command(flatten)]
    pub options: Box<VideoOptions>,
}

#[derive(Args, Debug)]
pub struct JobArgs {
    /// The job's id, as an earlier call reported it (a Veo operation name, an xAI request id, a
    /// BytePlus task id).
    pub id: String,
    #[command(flatten)]
    pub options: Box<VideoOptions>,
}

/// Which video operation.
pub enum Ask {
    Generate(GenerateArgs),
    Edit(EditArgs),
    Job(JobArgs),
}

impl Ask {
    fn options(&self) -> &VideoOptions {
        match self {
            Ask::Generate(a) => &a.options,
            Ask::Edit(a) => &a.options,
            Ask::Job(a) => &a.options,
        }
    }
}

/// Run one video command.
pub async fn run(global: &Global, ask: Ask) -> Result<(), Error> {
    let o = ask.options().clone();
    let session = Session::start(global, &o.model, &o.endpoint).await?;
    let (client, route) = (&session.client, &session.route);
    let mut call = match &ask {
        Ask::Generate(a) => client.videos().generate(a.prompt.clone(), o.model.clone()),
        Ask::Edit(a) => client.videos().edit(Artifact::from_path(&a.input), a.prompt.clone(), o.model.clone()),
        Ask::Job(a) => client.videos().job(a.id.clone(), o.model.clone()),
    };
    call = crate::text::with_route!(call, *route);
    call = apply(call, &o)?;
    // The emulator's jobs settle at once: no need to wait a provider's interval.
    let interval = o.poll_interval.or(route.emulator.as_ref().map(|_| 0.2));
    if let Some(s) = interval {
        let d = Duration::try_from_secs_f64(s)
            .map_err(|_| Error::InvalidInput(format!("--poll-interval {s}: not a number of seconds")))?;
        call = call.poll_interval(d);
    }
    let bar = progress_bar();
    call = call.on_progress(job_message(&bar));
    bar.set_message("submitting the job");
    let out = match call.await {
        Ok(out) => out,
        Err(e) => {
            bar.finish_and_clear();
            if let Error::Job(j) = &e
                && let Some(id) = &j.job_id
            {
                eprintln!("celeste: resume with: celeste videos job '{id}' -m {}", o.model);
            }
            return Err(e);
        }
    };
    let saved = save_all(client, &out, o.output.as_deref(), &bar).await;
    bar.finish_and_clear();
    let saved = saved?;
    report(global, &out, &saved)?;
    session.finish().await;
    Ok(())
}

/// The flags as call parameters.
fn apply<M>(mut call: VideoCall<M>, o: &VideoOptions) -> Result<VideoCall<M>, Error> {
    if let Some(v) = &o.aspect_ratio {
        call = call.aspect_ratio(v.clone());
    }
    if let Some(v) = &o.resolution {
        call = call.resolution(v.clone());
    }
    if let Some(v) = o.duration {
        call = call.duration(v);
    }
    if let Some(p) = &o.first_frame {
        call = call.first_frame(Artifact::from_path(p));
    }
    if let Some(p) = &o.last_frame {
        call = call.last_frame(Artifact::from_path(p));
    }
    for r in &o.references {
        call = call.reference_image(Artifact::from_path(r));
    }
    if let Some(v) = &o.negative_prompt {
        call = call.negative_prompt(v.clone());
    }
    if let Some(v) = o.seed {
        call = call.seed(v);
    }
    for kv in &o.options {
        let (k, v) = option(kv)?;
        call = call.option(k, v);
    }
    if let Some(s) = o.job_deadline {
        call = call.job_deadline(Duration::from_secs(s));
    }
    Ok(call)
}

/// Download (with the credentials the result needs) and write every video; returns each path with
/// the video written there.
async fn save_all(
    client: &Client,
    out: &Output<Vec<Video>>,
    output: Option<&Path>,
    bar: &indicatif::ProgressBar,
) -> Result<Vec<(PathBuf, Video)>, Error> {
    let mut paths = Vec::with_capacity(out.content.len());
    let several = out.content.len() > 1;
    for (i, v) in out.content.iter().enumerate() {
        if !v.has_bytes() {
            bar.set_message(format!("downloading video {} of {}", i + 1, out.content.len()));
        }
        let v = client.download(v).await?;
        let base = output.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("video.mp4"));
        let path = if several { numbered(&base, i + 1) } else { base };
        bar.set_message(format!("writing {}", path.display()));
        v.save(&path).await?;
        paths.push((path, v));
    }
    Ok(paths)
}

fn report(global: &Global, out: &Output<Vec<Video>>, saved: &[(PathBuf, Video)]) -> Result<(), Error> {
    if global.json {
        let videos: Vec<Value> = saved
            .iter()
            .map(|(path, v)| {
                json!({
                    "path": path.display().to_string(),
                    "mime_type": v.artifact.mime().map(|m| m.as_str().to_string()),
                    "bytes": v.artifact.data.as_ref().map(|d| d.len()),
                    "duration": v.duration,
                    "url": v.artifact.url,
                })
            })
            .collect();
        let v = json!({
            "videos": videos,
            "usage": out.usage,
            "model": out.metadata.model,
            "job_id": out.metadata.response_id,
        });
        return crate::out_json(&v);
    }
    for (path, v) in saved {
        let bytes = v.artifact.data.as_ref().map_or(0, |d| d.len());
        let secs = v.duration.map(|d| format!(" · {d} s")).unwrap_or_default();
        crate::out(&format!("wrote {} ({bytes} bytes{secs})\n", path.display()))?;
    }
    let job = out.metadata.response_id.as_deref().map(|id| format!(" · job {id}")).unwrap_or_default();
    crate::out(&format!("model {}{job}\n", out.metadata.model))
}
