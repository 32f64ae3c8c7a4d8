//! genai 0.7 (the `genai` flavor).

use futures::StreamExt;

use crate::{API_KEY, Api, BenchClient, BenchError, Counted, PROMPT, TaskProbe};

/// genai with a service target resolver that sends every model to the emulator: OpenAI adapter
/// for Chat Completions, Anthropic adapter for `claude-*` models.
#[derive(Debug, Clone)]
pub struct Genai {
    client: genai::Client,
    options: genai::chat::ChatOptions,
}

impl Genai {
    /// A client for the emulator at `url`.
    pub fn new(url: &str) -> Result<Genai, BenchError> {
        use genai::adapter::AdapterKind;
        use genai::resolver::{AuthData, Endpoint, ServiceTargetResolver};
        use genai::{ModelIden, ServiceTarget};

        let endpoint = format!("{url}/v1/");
        let resolver = ServiceTargetResolver::from_resolver_fn(
            move |target: ServiceTarget| -> Result<ServiceTarget, genai::resolver::Error> {
                let name = target.model.model_name;
                let kind = if name.starts_with("claude") { AdapterKind::Anthropic } else { AdapterKind::OpenAI };
                Ok(ServiceTarget {
                    endpoint: Endpoint::from_owned(endpoint.clone()),
                    auth: AuthData::from_single(API_KEY),
                    model: ModelIden::new(kind, name),
                })
            },
        );
        let client =
            genai::Client::builder().with_service_target_resolver(resolver).build().map_err(BenchError::failed)?;
        // Ask for usage as the other clients do (`stream_options.include_usage`).
        let options = genai::chat::ChatOptions::default().with_capture_usage(true);
        Ok(Genai { client, options })
    }

    fn request() -> genai::chat::ChatRequest {
        genai::chat::ChatRequest::new(vec![genai::chat::ChatMessage::user(PROMPT)])
    }
}

impl BenchClient for Genai {
    async fn unary(&self, _api: Api, model: &str) -> Result<Counted, BenchError> {
        let resp =
            self.client.exec_chat(model, Self::request(), Some(&self.options)).await.map_err(BenchError::failed)?;
        let mut got = Counted::default();
        if let Some(text) = resp.first_text() {
            got.add(text);
        }
        Ok(got)
    }

    async fn stream(&self, _api: Api, model: &str, probe: &TaskProbe) -> Result<Counted, BenchError> {
        use genai::chat::ChatStreamEvent;
        let mut resp = self
            .client
            .exec_chat_stream(model, Self::request(), Some(&self.options))
            .await
            .map_err(BenchError::failed)?;
        let mut got = Counted::default();
        let mut ended = false;
        while let Some(event) = resp.stream.next().await {
            match event.map_err(BenchError::failed)? {
                ChatStreamEvent::Chunk(c) => {
                    got.add(&c.content);
                    if got.chunks == 1 && !c.content.is_empty() {
                        probe.first_chunk();
                    }
                }
                ChatStreamEvent::End(_) => ended = true,
                _ => {}
            }
        }
        if !ended {
            return Err(BenchError::Failed("genai stream ended without End".into()));
        }
        Ok(got)
    }
}
