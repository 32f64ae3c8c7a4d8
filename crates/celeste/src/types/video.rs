//! What video calls give back: a [`Video`] (bytes or a URL, typed), and the credentials a
//! provider's result URL needs, kept out of every `Debug`, comparison and serialisation.

use std::fmt;
use std::path::Path;

use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::types::artifact::Artifact;

/// A generated (or edited) video.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Video {
    /// The video: its bytes, or a URL the provider serves it at (see [`crate::Client::download`]).
    pub artifact: Artifact,
    /// Its length in seconds, when the provider reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Who made it (for [`crate::Client::download`] and its errors).
    #[serde(skip)]
    pub origin: Option<crate::error::Origin>,
    /// The credentials the result URL needs (Google's files and Cloud Storage objects), and the
    /// one host they may go to.
    #[serde(skip)]
    pub(crate) fetch: Option<FetchAuth>,
}

impl Video {
    /// A video from an artifact.
    pub fn new(artifact: Artifact) -> Self {
        Video { artifact, duration: None, origin: None, fetch: None }
    }

    /// Made by `origin`.
    pub(crate) fn with_origin(mut self, origin: crate::error::Origin) -> Self {
        self.origin = Some(origin);
        self
    }

    /// Whether the bytes are here (else [`crate::Client::download`] fetches them).
    pub fn has_bytes(&self) -> bool {
        self.artifact.data.as_ref().is_some_and(|d| !d.is_empty())
    }

    /// Write the video's bytes to `path`, atomically (see [`Artifact::save`]). A URL-only video
    /// must be downloaded first ([`crate::Client::download`]).
    pub async fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.artifact.save(path).await
    }
}

/// Credentials for one host, carried by a result so that `Client::download` can fetch it as the
/// call that made it would. Never printed, compared or serialised.
#[derive(Clone)]
pub(crate) struct FetchAuth {
    pub headers: HeaderMap,
    /// The only origin (`https://host[:port]`) the headers go to.
    pub host: String,
}

impl fmt::Debug for FetchAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FetchAuth").field("headers", &"[redacted]").field("host", &self.host).finish()
    }
}

impl PartialEq for FetchAuth {
    /// Credentials are not part of what a video is.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
