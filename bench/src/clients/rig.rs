//! rig-core 0.44 (the `rig` flavor).

use futures::StreamExt;

use crate::{API_KEY, Api, BenchClient, BenchError, Counted, PROMPT, TaskProbe};

/// rig-core's driver API: `OpenAIConfig::new(key).with_base_url(..).client().chat(model)` (Chat
/// Completions) and `AnthropicConfig::new(key).with_base_url(..).client().completion(model)`
/// (Messages), on rig's shared reqwest client.
#[derive(Debug, Clone)]
pub struct Rig {
    openai: rig_core::providers::openai::OpenAI,
    anthropic: rig_core::providers::anthropic::Anthropic,
}

impl Rig {
    /// A client for the emulator at `url`.
    pub fn new(url: &str) -> Result<Rig, BenchError> {
        let openai =
            rig_core::providers::openai::wire::OpenAIConfig::new(API_KEY).with_base_url(format!("{url}/v1")).client();
        let anthropic = rig_core::providers::anthropic::wire::AnthropicConfig::new(API_KEY).with_base_url(url).client();
        Ok(Rig { openai, anthropic })
    }
}

fn rig_text(content: &[rig_core::message::AssistantContent], got: &mut Counted) {
    for c in content {
        if let rig_core::message::AssistantContent::Text(t) = c {
            got.add(&t.text);
        }
    }
}

/// Drains a rig stream, counting text events.
async fn rig_drain<S>(mut stream: S, probe: &TaskProbe) -> Result<Counted, BenchError>
where
    S: futures::Stream<
            Item = Result<rig_core::streaming::Item<rig_core::streaming::StreamEvent>, rig_core::ProviderError>,
        > + Unpin,
{
    use rig_core::streaming::{Item, StreamEvent};
    let mut got = Counted::default();
    while let Some(item) = stream.next().await {
        if let Item::Event(StreamEvent::Text { text, .. }) = item.map_err(BenchError::failed)? {
            got.add(&text);
            if got.chunks == 1 && !text.is_empty() {
                probe.first_chunk();
            }
        }
    }
    Ok(got)
}

impl BenchClient for Rig {
    async fn unary(&self, api: Api, model: &str) -> Result<Counted, BenchError> {
        let resp = match api {
            Api::Chat => self.openai.chat(model).call(PROMPT).await,
            Api::Messages => self.anthropic.completion(model).call(PROMPT).await,
        }
        .map_err(BenchError::failed)?;
        let mut got = Counted::default();
        rig_text(&resp.choice, &mut got);
        Ok(got)
    }

    async fn stream(&self, api: Api, model: &str, probe: &TaskProbe) -> Result<Counted, BenchError> {
        match api {
            Api::Chat => rig_drain(self.openai.chat(model).stream(PROMPT).map_err(BenchError::failed)?, probe).await,
            Api::Messages => {
                rig_drain(self.anthropic.completion(model).stream(PROMPT).map_err(BenchError::failed)?, probe).await
            }
        }
    }
}
