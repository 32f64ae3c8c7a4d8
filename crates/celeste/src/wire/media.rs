//! What the media wire APIs (images, audio, videos, segmentation) share: the request a media call
//! makes whatever its modality ([`MediaRequest`]: the model, the operation, the modality's inputs, the
//! parameters), and the one way a request drops what an API does not carry before it is built.

use crate::types::enums::Operation;
use crate::types::media::ImageParams;

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
