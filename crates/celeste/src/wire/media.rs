//! What the media wire APIs (images, audio, videos, segmentation) share: the request a media call
//! makes whatever its modality ([`MediaRequest`]: the model, the operation, the modality's inputs, the
//! parameters), the one way a request drops what an API does not carry before it is built, and the
//! context a wire module serves ([`MediaContext`]), with the errors and metadata every modality makes
//! from it.

use crate::error::{Error, Origin};
use crate::types::enums::{Modality, Operation};
use crate::types::media::ImageParams;
use crate::types::output::Metadata;

/// What a media call asks for, whoever serves it; `I` holds the modality's inputs (the prompt, the
/// media it works on, a video's frames, a segmentation's point and box prompts).
#[derive(Debug, Clone)]
pub(crate) struct MediaRequest<I> {
    pub model: String,
    pub operation: Operation,
    pub input: I,
    /// Scalar parameters by the reference's names (checked against the catalog), the reference
    /// images and the mask.
    pub params: ImageParams,
}

/// A modality's inputs, as far as an API may not carry them: those named like parameters (a video's
/// frames) are listed and removed like parameters. By default every input is carried.
pub(crate) trait Inputs {
    /// The names of the inputs that are set and that an API may not carry.
    fn set_names(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// Drop the input named `name` (a name that is not one of its inputs is ignored).
    fn remove(&mut self, _name: &str) {}
}

impl<I: Inputs + Clone> MediaRequest<I> {
    /// A request for `model` with no parameters set.
    pub(crate) fn new(model: String, operation: Operation, input: I) -> Self {
        MediaRequest { model, operation, input, params: ImageParams::default() }
    }

    /// The names of every parameter that is set, the named inputs included, sorted.
    pub(crate) fn set_names(&self) -> Vec<&str> {
        let mut names = self.params.set_names();
        names.extend(self.input.set_names());
        names.sort_unstable();
        names
    }

    /// This request without the parameters and inputs `carried` does not name, and the names it
    /// dropped (the call reports them once).
    pub(crate) fn carried_only(&self, carried: &[&str]) -> (Self, Vec<String>) {
        let dropped: Vec<String> =
            self.set_names().into_iter().filter(|n| !carried.contains(n)).map(str::to_string).collect();
        let mut req = self.clone();
        for name in &dropped {
            req.input.remove(name);
            req.params.remove(name);
        }
        (req, dropped)
    }
}

/// What a media wire module needs to know about the call it serves: who serves it, the model, the
/// operation, and what the modality adds (`X`: an audio call's output format, a video call's job base
/// and credentials, a segmentation's image size).
#[derive(Debug, Clone)]
pub(crate) struct MediaContext<X> {
    pub origin: Origin,
    pub model: String,
    pub operation: Operation,
    pub extra: X,
}

/// What a modality adds to its [`MediaContext`], and the modality its errors and outputs name.
pub(crate) trait Modal {
    const MODALITY: Modality;
}

impl<X: Modal> MediaContext<X> {
    /// The error for something this API cannot do.
    pub(crate) fn unsupported(&self, what: impl Into<String>) -> Error {
        Error::unsupported(Some(self.origin), Some(X::MODALITY), Some(self.operation), what)
    }

    /// The error for a stream that ended before its output did; `why` says what was missing.
    pub(crate) fn truncated(&self, why: &str) -> Error {
        Error::StreamTruncated { origin: self.origin, reason: why.into() }
    }

    /// Metadata of this call's output.
    pub(crate) fn metadata(&self) -> Metadata {
        Metadata::new(self.model.clone(), Some(self.origin), X::MODALITY)
    }
}
