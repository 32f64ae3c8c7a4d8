//! Placeholder until the artifacts branch lands (replaced wholesale on merge).
#![allow(missing_docs)]
use serde::{Deserialize, Serialize};
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MimeType {
    Other(String),
}
impl MimeType {
    pub fn as_str(&self) -> &str {
        match self {
            MimeType::Other(s) => s,
        }
    }
}
