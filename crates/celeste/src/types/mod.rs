//! The data the library speaks in: vocabularies, messages and parts, artifacts, tools, usage, finish
//! reasons, outputs and chunks.

pub mod artifact;
pub mod audio;
pub mod decision;
pub mod enums;
pub mod image;
pub mod live;
pub mod media;
pub mod message;
pub mod mime;
pub mod output;
pub mod segmentation;
pub mod text;
pub mod tool;
pub mod usage;
pub mod video;

pub use artifact::Artifact;
pub use audio::Audio;
pub use decision::{
    Answer, Answers, BooleanAnswer, BooleanCriteria, BooleanQuestion, BoxAnswer, BoxCoordinates, BoxQuestion,
    ChoiceAnswer, ChoiceQuestion, DecisionValue, Question, ScoreAnswer, ScoreQuestion,
};
pub use media::{Image, ImageParams, JobProgress};
pub use message::{Item, Message, Part, ToolResult};
pub use mime::MimeType;
pub use output::{Chunk, Citation, Grounding, GroundingSource, Metadata, Output};
pub use segmentation::{BoxPrompt, Mask, PointPrompt, Rle, SegmentationMask};
pub use tool::{FunctionTool, Tool, ToolActivity, ToolActivityStatus, ToolCall, ToolCallDelta, ToolChoice, WebSearch};
pub use usage::{FinishKind, FinishReason, RawJson, Usage};
pub use video::Video;
