//! Placeholder until the artifacts branch lands (replaced wholesale on merge).
#![allow(missing_docs)]
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::types::mime::MimeType;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    pub url: Option<String>,
    #[serde(skip)]
    pub data: Option<Bytes>,
    pub path: Option<PathBuf>,
    pub mime_type: Option<MimeType>,
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

impl Artifact {
    pub fn from_url(url: impl Into<String>) -> Self {
        Artifact { url: Some(url.into()), ..Default::default() }
    }
    pub fn from_bytes(b: impl Into<Bytes>) -> Self {
        Artifact { data: Some(b.into()), ..Default::default() }
    }
    pub fn with_mime_type(mut self, m: MimeType) -> Self {
        self.mime_type = Some(m);
        self
    }
    pub fn mime(&self) -> Option<MimeType> {
        self.mime_type.clone()
    }
    pub fn data_url(&self) -> Result<String> {
        if let Some(u) = &self.url {
            return Ok(u.clone());
        }
        Err(Error::invalid_input("placeholder"))
    }
}
