//! The small closed vocabularies of the library: providers, protocols, modalities, operations, domains,
//! input types and roles. Every value has a lowercase wire name equal to its name, as in the reference.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// Declares a string enum with `as_str`, `Display`, `FromStr`, serde and an `ALL` list, so each
/// vocabulary is written once.
macro_rules! string_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The lowercase wire name.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                let lower = s.trim().to_ascii_lowercase();
                Self::ALL.iter().copied().find(|v| v.as_str() == lower).ok_or_else(|| {
                    Error::invalid_input(format!(
                        "unknown {} `{}`; expected one of: {}",
                        stringify!($name).to_ascii_lowercase(),
                        s,
                        Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                    ))
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_enum! {
    /// An AI provider. All 24 providers of the reference are listed; those without an implementation yet
    /// fail with [`Error::Unsupported`] when used.
    pub enum Provider {
        /// OpenAI.
        OpenAi => "openai",
        /// Anthropic.
        Anthropic => "anthropic",
        /// Black Forest Labs.
        Bfl => "bfl",
        /// Google (Gemini API and Vertex AI).
        Google => "google",
        /// Mistral AI.
        Mistral => "mistral",
        /// Moonshot AI.
        Moonshot => "moonshot",
        /// Cohere.
        Cohere => "cohere",
        /// xAI.
        XAi => "xai",
        /// DeepSeek.
        DeepSeek => "deepseek",
        /// Hugging Face inference router.
        HuggingFace => "huggingface",
        /// Replicate (not implemented, as in the reference).
        Replicate => "replicate",
        /// Stability AI (not implemented, as in the reference).
        StabilityAi => "stabilityai",
        /// Luma (not implemented, as in the reference).
        Luma => "luma",
        /// Topaz Labs.
        TopazLabs => "topazlabs",
        /// Perplexity (not implemented, as in the reference).
        Perplexity => "perplexity",
        /// BytePlus.
        BytePlus => "byteplus",
        /// ElevenLabs.
        ElevenLabs => "elevenlabs",
        /// Groq.
        Groq => "groq",
        /// Gradium.
        Gradium => "gradium",
        /// Ollama (local server, no authentication).
        Ollama => "ollama",
        /// OpenRouter.
        OpenRouter => "openrouter",
        /// fal.
        Fal => "fal",
        /// Meta (the Llama API).
        Meta => "meta",
        /// TypeSafe (decision models).
        TypeSafe => "typesafe",
    }
}

string_enum! {
    /// A wire protocol served by many vendors, usable against any `base_url` with bring-your-own auth.
    pub enum Protocol {
        /// The OpenAI Responses API shape (`POST /v1/responses`).
        OpenResponses => "openresponses",
        /// The Chat Completions API shape (`POST /v1/chat/completions`).
        ChatCompletions => "chatcompletions",
    }
}

string_enum! {
    /// The one modality, besides text, that is essential to a model's purpose.
    pub enum Modality {
        /// Text generation (also used by every `analyze` operation).
        Text => "text",
        /// Vector embeddings.
        Embeddings => "embeddings",
        /// Image generation, editing and upscaling.
        Images => "images",
        /// Video generation.
        Videos => "videos",
        /// Speech, music and transcription.
        Audio => "audio",
        /// Image segmentation masks.
        Segmentation => "segmentation",
        /// Realtime bidirectional audio sessions.
        Live => "live",
        /// Typed questions about a state answered with probabilities.
        Decision => "decision",
    }
}

string_enum! {
    /// An operation a model performs.
    pub enum Operation {
        /// Produce new content.
        Generate => "generate",
        /// Change existing content.
        Edit => "edit",
        /// Describe or answer questions about media (always a text output).
        Analyze => "analyze",
        /// Text to speech.
        Speak => "speak",
        /// Speech to text.
        Transcribe => "transcribe",
        /// Produce embedding vectors.
        Embed => "embed",
        /// Increase image resolution.
        Upscale => "upscale",
        /// Produce segmentation masks.
        Segment => "segment",
        /// Open a realtime session.
        Connect => "connect",
        /// Answer typed questions about a state.
        Decide => "decide",
    }
}

string_enum! {
    /// A user-facing namespace (`celeste::text`, `celeste::images`, ...). Never an input type.
    pub enum Domain {
        /// `celeste::text`.
        Text => "text",
        /// `celeste::images`.
        Images => "images",
        /// `celeste::audio`.
        Audio => "audio",
        /// `celeste::videos`.
        Videos => "videos",
        /// `celeste::documents`.
        Documents => "documents",
        /// `celeste::live`.
        Live => "live",
    }
}

string_enum! {
    /// A kind of input a request can carry.
    pub enum InputType {
        /// Plain text.
        Text => "text",
        /// An image.
        Image => "image",
        /// A video.
        Video => "video",
        /// Audio.
        Audio => "audio",
        /// A document (PDF, office files, plain text, ...).
        Document => "document",
    }
}

string_enum! {
    /// The author of a message.
    pub enum Role {
        /// The end user.
        User => "user",
        /// The model.
        Assistant => "assistant",
        /// System instructions.
        System => "system",
        /// Developer instructions (OpenAI's higher-priority system role).
        Developer => "developer",
    }
}

/// The reference's `(domain, operation) → modality` table: which modality serves an operation of a
/// namespace. `None` for a pair that does not exist.
pub const fn modality_for(domain: Domain, operation: Operation) -> Option<Modality> {
    use Domain as D;
    use Operation as O;
    Some(match (domain, operation) {
        (D::Text, O::Generate) => Modality::Text,
        (D::Text, O::Embed) => Modality::Embeddings,
        (D::Text, O::Decide) => Modality::Decision,
        (D::Images, O::Generate | O::Edit | O::Upscale) => Modality::Images,
        (D::Images, O::Analyze) => Modality::Text,
        (D::Images, O::Embed) => Modality::Embeddings,
        (D::Images, O::Segment) => Modality::Segmentation,
        (D::Images, O::Decide) => Modality::Decision,
        (D::Audio, O::Generate | O::Speak | O::Transcribe) => Modality::Audio,
        (D::Audio, O::Analyze) => Modality::Text,
        (D::Audio, O::Embed) => Modality::Embeddings,
        (D::Videos, O::Generate | O::Edit) => Modality::Videos,
        (D::Videos, O::Analyze) => Modality::Text,
        (D::Videos, O::Embed) => Modality::Embeddings,
        (D::Documents, O::Analyze) => Modality::Text,
        (D::Live, O::Connect) => Modality::Live,
        _ => return None,
    })
}

/// Like [`modality_for`], but an unknown pair is an [`Error::InvalidInput`] naming it.
pub fn infer_modality(domain: Domain, operation: Operation) -> Result<Modality, Error> {
    modality_for(domain, operation)
        .ok_or_else(|| Error::invalid_input(format!("the {domain} domain has no `{operation}` operation")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_has_the_24_reference_values() {
        assert_eq!(Provider::ALL.len(), 24);
        for p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>().unwrap(), *p);
            assert_eq!(serde_json::to_string(p).unwrap(), format!("\"{p}\""));
        }
    }

    #[test]
    fn parsing_is_case_insensitive_and_errors_list_the_choices() {
        assert_eq!("OpenAI".parse::<Provider>().unwrap(), Provider::OpenAi);
        let err = "nope".parse::<Protocol>().unwrap_err().to_string();
        assert!(err.contains("openresponses, chatcompletions"), "{err}");
    }

    #[test]
    fn domain_operation_table_has_21_pairs() {
        let mut n = 0;
        for d in Domain::ALL {
            for o in Operation::ALL {
                if modality_for(*d, *o).is_some() {
                    n += 1;
                }
            }
        }
        assert_eq!(n, 21);
        assert_eq!((Modality::ALL.len(), Operation::ALL.len(), Domain::ALL.len()), (8, 10, 6));
        assert_eq!(modality_for(Domain::Documents, Operation::Analyze), Some(Modality::Text));
        // The four pairs 1.0.0 added.
        assert_eq!(modality_for(Domain::Videos, Operation::Edit), Some(Modality::Videos));
        assert_eq!(modality_for(Domain::Live, Operation::Connect), Some(Modality::Live));
        assert_eq!(modality_for(Domain::Text, Operation::Decide), Some(Modality::Decision));
        assert_eq!(modality_for(Domain::Images, Operation::Decide), Some(Modality::Decision));
        assert!(infer_modality(Domain::Audio, Operation::Decide).is_err());
        assert_eq!(modality_for(Domain::Images, Operation::Segment), Some(Modality::Segmentation));
        assert!(infer_modality(Domain::Documents, Operation::Generate).is_err());
        assert!(infer_modality(Domain::Text, Operation::Edit).is_err());
    }
}
