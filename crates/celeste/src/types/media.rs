//! What media calls ask for and give back: image parameters, generated images, and how a
//! long-running job reports progress. Nothing here knows about builders, clients or wire formats.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::types::artifact::Artifact;

/// Image parameters, by the reference's names (`aspect_ratio`, `num_images`, `quality`, ...). Set
/// them with the call's typed setters; each is checked against the model's constraint of the same
/// name before any request (a constraint may normalise the value, e.g. a `WxH` size), and one the
/// wire API cannot carry is dropped and reported once per call.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ImageParams {
    /// Scalar parameters by name, as JSON (what constraints check and wire APIs send).
    values: BTreeMap<String, Value>,
    /// Images that guide the result (style, subject, composition).
    pub reference_images: Vec<Artifact>,
    /// The area to repaint, for edits that take a mask.
    pub mask: Option<Artifact>,
}

impl ImageParams {
    /// Set a parameter by name (the typed setters of the call use this; `option` on the call exposes
    /// it for provider-specific parameters such as Topaz's `face_enhancement`).
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.values.insert(name.into(), value.into());
    }

    /// A parameter's value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// A string parameter.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(Value::as_str)
    }

    /// A non-negative integer parameter (an integral float counts).
    pub fn u64(&self, name: &str) -> Option<u64> {
        let v = self.values.get(name)?;
        v.as_u64().or_else(|| v.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0 && f.is_finite()).map(|f| f as u64))
    }

    /// A boolean parameter.
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.values.get(name).and_then(Value::as_bool)
    }

    /// The scalar parameters that are set, by name.
    pub fn values(&self) -> &BTreeMap<String, Value> {
        &self.values
    }

    /// The names of every parameter that is set, media ones included.
    pub fn set_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.values.keys().map(String::as_str).collect();
        if !self.reference_images.is_empty() {
            names.push("reference_images");
        }
        if self.mask.is_some() {
            names.push("mask");
        }
        names.sort_unstable();
        names
    }

    /// Replace scalar values with the ones validation normalised.
    pub(crate) fn replace_values(&mut self, values: BTreeMap<String, Value>) {
        self.values = values;
    }

    /// Drop parameters a wire API cannot carry.
    pub(crate) fn remove(&mut self, name: &str) {
        match name {
            "reference_images" => self.reference_images.clear(),
            "mask" => self.mask = None,
            _ => {
                self.values.remove(name);
            }
        }
    }
}

/// A generated (or edited, or upscaled) image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Image {
    /// The image: its bytes, or a URL the provider serves it at (see [`crate::Client::download`]).
    pub artifact: Artifact,
    /// Width in pixels, when known (read from the bytes' header, or as the provider reports it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// The prompt as the provider rewrote it, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_prompt: Option<String>,
    /// Who made it (for [`crate::Client::download`] and its errors).
    #[serde(skip)]
    pub origin: Option<crate::error::Origin>,
}

impl Image {
    /// An image from an artifact; the dimensions are read from its bytes' header when it has bytes.
    pub fn new(artifact: Artifact) -> Self {
        let (width, height) = match artifact.data.as_deref().map(crate::types::image::image_dimensions) {
            Some(Ok((w, h))) => (Some(w), Some(h)),
            _ => (None, None),
        };
        Image { artifact, width, height, revised_prompt: None, origin: None }
    }

    /// Made by `origin`.
    pub(crate) fn with_origin(mut self, origin: crate::error::Origin) -> Self {
        self.origin = Some(origin);
        self
    }

    /// With the prompt the provider used.
    pub fn with_revised_prompt(mut self, prompt: Option<String>) -> Self {
        self.revised_prompt = prompt.filter(|p| !p.is_empty());
        self
    }

    /// Write the image's bytes to `path` (see [`Artifact::save`]).
    pub async fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.artifact.save(path).await
    }
}

/// How far a long-running provider job has come, as the provider reports it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JobProgress {
    /// The provider's job id.
    pub job_id: Option<String>,
    /// The provider's status word (`Pending`, `Processing`, ...).
    pub status: String,
    /// Completion between 0 and 1, when the provider reports it.
    pub fraction: Option<f64>,
    /// How many times the job has been polled so far.
    pub polls: u32,
}

/// What a caller gives to watch a job: called after every poll.
pub type ProgressFn = std::sync::Arc<dyn Fn(&JobProgress) + Send + Sync>;

impl Artifact {
    /// Write the bytes (or a copy of the file) to `path`, atomically: the bytes go to a temporary file
    /// beside it, renamed over `path` only when complete, so a failure never leaves a partial file
    /// under the target name. A URL-only artifact has no bytes yet: download it first
    /// ([`crate::Client::download`]).
    pub async fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = self.read_bytes().await?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("artifact");
        let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        let write = async {
            tokio::fs::write(&tmp, &bytes).await?;
            tokio::fs::rename(&tmp, path).await
        };
        if let Err(e) = write.await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(Error::invalid_input(format!("could not write `{}`: {e}", path.display())));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_by_name() {
        let mut p = ImageParams::default();
        p.set("num_images", 2);
        p.set("quality", "high");
        p.set("steps", 28.0);
        p.reference_images.push(Artifact::from_url("https://x/a.png"));
        assert_eq!(p.u64("num_images"), Some(2));
        assert_eq!(p.u64("steps"), Some(28));
        assert_eq!(p.str("quality"), Some("high"));
        assert_eq!(p.set_names(), ["num_images", "quality", "reference_images", "steps"]);
        p.remove("reference_images");
        p.remove("quality");
        assert_eq!(p.set_names(), ["num_images", "steps"]);
    }

    #[tokio::test]
    async fn save_is_atomic_and_leaves_nothing_on_failure() {
        let dir = std::env::temp_dir().join(format!("celeste-save-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("a.png");
        Artifact::from_bytes(&b"\x89PNG\r\n\x1a\n"[..]).save(&target).await.unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"\x89PNG\r\n\x1a\n");
        // A URL-only artifact has no bytes: an error, and the earlier file is untouched.
        let err = Artifact::from_url("https://x/a.png").save(&target).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
        assert_eq!(std::fs::read(&target).unwrap(), b"\x89PNG\r\n\x1a\n");
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
