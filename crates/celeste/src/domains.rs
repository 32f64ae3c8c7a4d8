//! The `celeste::documents` namespace of the reference: a document is read by a text model, so its one
//! operation, `analyze`, is a text call with the document attached. (Images, audio, videos, live and
//! segmentation have their own modules, with their own wire APIs.)

use crate::text::{Generate, Unary};
use crate::types::artifact::Artifact;
use crate::types::enums::Operation;
use crate::types::message::Part;

/// `celeste::documents`: analyze.
pub mod documents {
    use super::*;

    /// Ask a model about a document (a text call; `.stream()` streams it).
    pub fn analyze(document: Artifact, prompt: impl Into<String>, model: impl Into<String>) -> Generate<Unary> {
        crate::text::generate(prompt, model).part(Part::document(document)).operation(Operation::Analyze)
    }
}
