//! `celeste images generate | edit | upscale | segment`: one image call, its result written to files, with a
//! progress line while a provider job runs (hidden when stderr is not a terminal), against the real
//! provider when its key is set, otherwise against the bundled emulator.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use celeste::types::{Artifact, BoxPrompt, Image, PointPrompt, SegmentationMask};
use celeste::{Client, Error, ImageCall, Output};

use crate::args::{Endpoint, Global};

/// Where an image call goes and what it asks for (shared by the three commands).
#[derive(Args, Debug, Clone)]
pub struct ImageOptions {
    /// The model id; the catalog resolves its provider.
    #[arg(long, short, default_value = "gpt-image-1")]
    pub model: String,
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// Where to write the image (`-1`, `-2`, ... are added before the extension for several).
    /// Default: `image.<format>` in the current directory.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Aspect ratio or size (`16:9`, `1536x1024`; see `celeste models list --json` for a model's values).
    #[arg(long)]
    pub aspect_ratio: Option<String>,
    /// Quality or resolution tier (`low`, `high`, `2K`, ...).
    #[arg(long)]
    pub quality: Option<String>,
    /// How many images to make.
    #[arg(long, short = 'n')]
    pub num_images: Option<u32>,
    /// Output file format (`png`, `jpeg`, `webp`).
    #[arg(long)]
    pub output_format: Option<String>,
    /// Background (`transparent`, `opaque`, `auto`).
    #[arg(long)]
    pub background: Option<String>,
    /// Sampling seed.
    #[arg(long)]
    pub seed: Option<i64>,
    /// Diffusion steps.
    #[arg(long)]
    pub steps: Option<u32>,
    /// Guidance scale.
    #[arg(long)]
    pub guidance: Option<f64>,
    /// What the image must not show.
    #[arg(long)]
    pub negative_prompt: Option<String>,
    /// Moderation strictness: a level (`2`) or a name (`low`).
    #[arg(long)]
    pub safety_tolerance: Option<String>,
    /// A reference image (repeat for more).
    #[arg(long = "reference", value_name = "FILE")]
    pub references: Vec<PathBuf>,
    /// Any other parameter of the model, as `name=value` (value read as JSON when it parses, else as
    /// text), e.g. `--option face_enhancement=true`.
    #[arg(long = "option", value_name = "NAME=VALUE")]
    pub options: Vec<String>,
    /// Stream partial images as they are drawn (providers that stream).
    #[arg(long)]
    pub stream: bool,
    /// The longest a provider job may run, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub job_deadline: Option<u64>,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The prompt.
    pub prompt: String,
    #[command(flatten)]
    pub options: Box<ImageOptions>,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    /// The image to edit.
    pub input: PathBuf,
    /// What to change.
    pub prompt: String,
    /// The area to repaint (transparent pixels), for APIs that take a mask.
    #[arg(long, value_name = "FILE")]
    pub mask: Option<PathBuf>,
    #[command(flatten)]
    pub options: Box<ImageOptions>,
}

#[derive(Args, Debug)]
pub struct UpscaleArgs {
    /// The image to upscale.
    pub input: PathBuf,
    #[command(flatten)]
    pub options: Box<ImageOptions>,
}

/// Which image operation.
pub enum Ask {
    Generate(GenerateArgs),
    Edit(EditArgs),
    Upscale(UpscaleArgs),
}

impl Ask {
    fn options(&self) -> &ImageOptions {
        match self {
            Ask::Generate(a) => &a.options,
            Ask::Edit(a) => &a.options,
            Ask::Upscale(a) => &a.options,
        }
    }
}

/// Run one image command.
pub async fn run(global: &Global, ask: Ask) -> Result<(), Error> {
    let o = ask.options().clone();
    let session = crate::text::Session::start(global, &o.model, &o.endpoint).await?;
    let (client, route) = (&session.client, &session.route);
    let mut call = match &ask {
        Ask::Generate(a) => client.images().generate(a.prompt.clone(), o.model.clone()),
        Ask::Edit(a) => {
            let mut c = client.images().edit(Artifact::from_path(&a.input), a.prompt.clone(), o.model.clone());
            if let Some(m) = &a.mask {
                c = c.mask(Artifact::from_path(m));
            }
            c
        }
        Ask::Upscale(a) => client.images().upscale(Artifact::from_path(&a.input), o.model.clone()),
    };
    call = crate::text::with_route!(call, *route);
    call = apply(call, &o)?;
    let bar = progress_bar();
    call = call.on_progress(job_message(&bar));
    bar.set_message("waiting for the provider");
    let out = if o.stream {
        let mut stream = call.stream().await?;
        let mut partials = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if chunk.finish_reason.is_none() {
                partials += 1;
                bar.set_message(format!("partial image {partials}"));
            }
        }
        stream.into_output()?
    } else {
        call.await?
    };
    bar.set_message("saving");
    let saved = save_all(client, &out, o.output.as_deref()).await;
    bar.finish_and_clear();
    let saved = saved?;
    report(global, &out, &saved)?;
    session.finish().await;
    Ok(())
}

/// One `--option NAME=VALUE`: the name, and the value as JSON when it parses, else as text.
pub(crate) fn option(kv: &str) -> Result<(&str, serde_json::Value), Error> {
    let (k, v) =
        kv.split_once('=').ok_or_else(|| Error::InvalidInput(format!("--option {kv}: expected NAME=VALUE")))?;
    Ok((k.trim(), json_or_text(v.trim())))
}

/// The flags as call parameters.
fn apply<M>(mut call: ImageCall<M>, o: &ImageOptions) -> Result<ImageCall<M>, Error> {
    if let Some(v) = &o.aspect_ratio {
        call = call.aspect_ratio(v.clone());
    }
    if let Some(v) = &o.quality {
        call = call.quality(v.clone());
    }
    if let Some(v) = o.num_images {
        call = call.num_images(v);
    }
    if let Some(v) = &o.output_format {
        call = call.output_format(v.clone());
    }
    if let Some(v) = &o.background {
        call = call.background(v.clone());
    }
    if let Some(v) = o.seed {
        call = call.seed(v);
    }
    if let Some(v) = o.steps {
        call = call.steps(v);
    }
    if let Some(v) = o.guidance {
        call = call.guidance(v);
    }
    if let Some(v) = &o.negative_prompt {
        call = call.negative_prompt(v.clone());
    }
    if let Some(v) = &o.safety_tolerance {
        call = call.safety_tolerance(json_or_text(v));
    }
    for r in &o.references {
        call = call.reference_image(Artifact::from_path(r));
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

/// `2` → a number, `true` → a boolean, anything else → text.
pub(crate) fn json_or_text(v: &str) -> Value {
    serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()))
}

/// A spinner on stderr; indicatif draws nothing when stderr is not a terminal.
pub(crate) fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// What a job's spinner says at each poll: its id, status, progress and poll count.
pub(crate) fn job_message(bar: &ProgressBar) -> impl Fn(&celeste::types::JobProgress) + Send + Sync + 'static {
    let bar = bar.clone();
    move |p| {
        let id = p.job_id.as_deref().map(|id| format!(" {id}")).unwrap_or_default();
        let pct = p.fraction.map(|f| format!(" {:.0}%", f * 100.0)).unwrap_or_default();
        bar.set_message(format!("job{id} {}{pct} (poll {})", p.status, p.polls));
    }
}

/// Write every image (downloading URL results first); returns each path with the image written there.
async fn save_all(
    client: &Client,
    out: &Output<Vec<Image>>,
    output: Option<&Path>,
) -> Result<Vec<(PathBuf, Image)>, Error> {
    let mut paths = Vec::with_capacity(out.content.len());
    let several = out.content.len() > 1;
    for (i, img) in out.content.iter().enumerate() {
        let img = client.download(img).await?;
        let ext = img.artifact.mime().map(|m| m.as_str().rsplit('/').next().unwrap_or("bin").to_string());
        let ext = ext.as_deref().map(|e| if e == "jpeg" { "jpg" } else { e }).unwrap_or("bin").to_string();
        let base = output.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(format!("image.{ext}")));
        let path = if several { numbered(&base, i + 1) } else { base };
        let named = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let same = |e: &str| e == ext || (ext == "jpg" && e == "jpeg");
        if output.is_some() && named.as_deref().is_some_and(|e| !same(e)) {
            eprintln!("celeste: note: the image is {ext}; {} keeps the name you gave", path.display());
        }
        img.save(&path).await?;
        paths.push((path, img));
    }
    Ok(paths)
}

/// `night.png` → `night-2.png`.
pub(crate) fn numbered(path: &Path, n: usize) -> PathBuf {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("image");
    let name = match path.extension().and_then(|e| e.to_str()) {
        Some(ext) => format!("{stem}-{n}.{ext}"),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
}

fn report(global: &Global, out: &Output<Vec<Image>>, saved: &[(PathBuf, Image)]) -> Result<(), Error> {
    if global.json {
        let images: Vec<Value> = saved
            .iter()
            .map(|(path, img)| {
                json!({
                    "path": path.display().to_string(),
                    "mime_type": img.artifact.mime().map(|m| m.as_str().to_string()),
                    "width": img.width,
                    "height": img.height,
                    "revised_prompt": img.revised_prompt,
                    "url": img.artifact.url,
                })
            })
            .collect();
        let v = json!({"images": images, "usage": out.usage, "model": out.metadata.model});
        return crate::out_json(&v);
    }
    for (path, img) in saved {
        let size = match (img.width, img.height) {
            (Some(w), Some(h)) => format!(" {w}x{h}"),
            _ => String::new(),
        };
        crate::out(&format!("wrote {}{size}\n", path.display()))?;
    }
    let u = &out.usage;
    let n = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
    let billed = u.billed_units.map(|b| format!(" · billed {b}")).unwrap_or_default();
    crate::out(&format!(
        "usage: images {} · input {} · output {} tokens{billed} · model {}\n",
        n(u.images),
        n(u.input_tokens),
        n(u.output_tokens),
        out.metadata.model
    ))
}

// `celeste images segment`: masks of what the prompts point at (the job's progress on stderr).

#[derive(Args, Debug)]
pub struct SegmentArgs {
    /// The image to segment.
    pub input: PathBuf,
    /// The model id; the catalog resolves its provider.
    #[arg(long, short, default_value = "fal-ai/sam-3/image-rle")]
    pub model: String,
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// What to segment, in words.
    #[arg(long)]
    pub prompt: Option<String>,
    /// A point on the object, `x,y` in pixels (repeat for more; `x,y,0` marks background).
    #[arg(long = "point", value_name = "X,Y[,LABEL]")]
    pub points: Vec<String>,
    /// A box around the object, `x1,y1,x2,y2` in pixels (repeat for more).
    #[arg(long = "box", value_name = "X1,Y1,X2,Y2")]
    pub boxes: Vec<String>,
    /// Return several masks, at most this many.
    #[arg(long)]
    pub max_masks: Option<u32>,
    /// The longest the provider's job may run, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub job_deadline: Option<u64>,
}

/// `"1,2,3"` as numbers, exactly `n` or `n + 1` of them.
fn numbers(flag: &str, text: &str, n: usize) -> Result<Vec<u32>, Error> {
    let bad = || Error::InvalidInput(format!("--{flag} {text}: expected {n} comma-separated pixel coordinates"));
    let v = text.split(',').map(|t| t.trim().parse::<u32>().map_err(|_| bad())).collect::<Result<Vec<_>, _>>()?;
    if v.len() == n || (flag == "point" && v.len() == n + 1) { Ok(v) } else { Err(bad()) }
}

fn point(text: &str) -> Result<PointPrompt, Error> {
    let v = numbers("point", text, 2)?;
    match v.get(2) {
        None | Some(1) => Ok(PointPrompt::foreground(v[0], v[1])),
        Some(0) => Ok(PointPrompt::background(v[0], v[1])),
        Some(l) => Err(Error::InvalidInput(format!("--point {text}: the label is 0 (background) or 1, not {l}"))),
    }
}

fn bbox(text: &str) -> Result<BoxPrompt, Error> {
    let v = numbers("box", text, 4)?;
    Ok(BoxPrompt::new(v[0], v[1], v[2], v[3]))
}

/// Run `celeste images segment`.
pub async fn segment(global: &Global, a: SegmentArgs) -> Result<(), Error> {
    let points = a.points.iter().map(|p| point(p)).collect::<Result<Vec<_>, _>>()?;
    let boxes = a.boxes.iter().map(|b| bbox(b)).collect::<Result<Vec<_>, _>>()?;
    let session = crate::text::Session::start(global, &a.model, &a.endpoint).await?;
    let (client, route) = (&session.client, &session.route);
    let mut call = client.images().segment(Artifact::from_path(&a.input), a.model.clone()).include_scores(true);
    call = crate::text::with_route!(call, route);
    if let Some(p) = &a.prompt {
        call = call.prompt(p.clone());
    }
    for p in points {
        call = call.point_prompt(p);
    }
    for b in boxes {
        call = call.box_prompt(b);
    }
    if let Some(n) = a.max_masks {
        call = call.return_multiple_masks(true).max_masks(n);
    }
    if let Some(s) = a.job_deadline {
        call = call.job_deadline(Duration::from_secs(s));
    }
    let bar = progress_bar();
    call = call.on_progress(job_message(&bar));
    bar.set_message("waiting for the provider");
    let out = call.await;
    bar.finish_and_clear();
    report_masks(global, &out?)?;
    session.finish().await;
    Ok(())
}

fn report_masks(global: &Global, out: &Output<Vec<SegmentationMask>>) -> Result<(), Error> {
    if global.json {
        let v = json!({"masks": out.content, "model": out.metadata.model, "request_id": out.metadata.response_id});
        return crate::out_json(&v);
    }
    for m in &out.content {
        let score = m.score.map(|s| format!(" score {s:.3}")).unwrap_or_default();
        let size = match &m.mask {
            Some(px) => format!(" {}x{} · {} pixels", px.width(), px.height(), px.area()),
            None => " (size unknown: decode the RLE with the image's size)".to_string(),
        };
        let bbox =
            m.bbox.map(|b| format!(" · box [{:.3}, {:.3}, {:.3}, {:.3}]", b[0], b[1], b[2], b[3])).unwrap_or_default();
        crate::out(&format!("mask {}{score}{size}{bbox}\n", m.index))?;
    }
    crate::out(&format!("{} mask(s) · model {}\n", out.content.len(), out.metadata.model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_images_get_numbered_names() {
        assert_eq!(numbered(Path::new("out/night.png"), 2), PathBuf::from("out/night-2.png"));
        assert_eq!(numbered(Path::new("night"), 1), PathBuf::from("night-1"));
        assert_eq!(json_or_text("2"), json!(2));
        assert_eq!(json_or_text("true"), json!(true));
        assert_eq!(json_or_text("low"), json!("low"));
    }

    #[test]
    fn points_and_boxes_parse_and_bad_ones_are_named() {
        assert_eq!(point("3, 4").unwrap(), PointPrompt::foreground(3, 4));
        assert_eq!(point("3,4,0").unwrap(), PointPrompt::background(3, 4));
        assert!(point("3,4,2").unwrap_err().to_string().contains("label"));
        assert!(point("3").unwrap_err().to_string().contains("--point 3"));
        assert_eq!(bbox("1,2,30,40").unwrap(), BoxPrompt::new(1, 2, 30, 40));
        assert!(bbox("1,2,3").is_err());
        assert!(bbox("1,2,3,-4").is_err());
    }
}
