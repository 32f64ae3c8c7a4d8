//! The data the library speaks in: vocabularies, messages and parts, artifacts, tools, usage, finish
//! reasons, outputs and chunks.

pub mod artifact;
pub mod enums;
pub mod image;
pub mod mime;
