//! async-openai 0.43 (the `async-openai` flavor).

use futures::StreamExt;

use crate::{API_KEY, Api, BenchClient, BenchError, Counted, PROMPT, TaskProbe};

/// async-openai: `Client::with_config(OpenAIConfig::new().with_api_base(..))`, Chat Completions
/// only.
#[derive(Debug, Clone)]
pub struct AsyncOpenAi {
    client: async_openai::Client<async_openai::config::OpenAIConfig>,
}

impl AsyncOpenAi {
    /// A client for the emulator at `url`.
    pub fn new(url: &str) -> Result<AsyncOpenAi, BenchError> {
        let config = async_openai::config::OpenAIConfig::new().with_api_base(format!("{url}/v1")).with_api_key(API_KEY);
        Ok(AsyncOpenAi { client: async_openai::Client::with_config(config) })
    }

    fn request(
        model: &str,
        stream: bool,
    ) -> Result<async_openai::types::chat::CreateChatCompletionRequest, BenchError> {
        use async_openai::types::chat::{
            ChatCompletionRequestUserMessageArgs, ChatCompletionStreamOptions, CreateChatCompletionRequestArgs,
        };
        let user =
            ChatCompletionRequestUserMessageArgs::default().content(PROMPT).build().map_err(BenchError::failed)?;
        let mut req = CreateChatCompletionRequestArgs::default();
        req.model(model).messages([user.into()]);
        if stream {
            req.stream_options(ChatCompletionStreamOptions { include_usage: Some(true), include_obfuscation: None });
        }
        req.build().map_err(BenchError::failed)
    }
}

fn async_openai_only(api: Api) -> Result<(), BenchError> {
    match api {
        Api::Chat => Ok(()),
        Api::Messages => Err(BenchError::NotApplicable("async-openai speaks only OpenAI APIs".into())),
    }
}

impl BenchClient for AsyncOpenAi {
    async fn unary(&self, api: Api, model: &str) -> Result<Counted, BenchError> {
        async_openai_only(api)?;
        let resp = self.client.chat().create(Self::request(model, false)?).await.map_err(BenchError::failed)?;
        let mut got = Counted::default();
        if let Some(text) = resp.choices.first().and_then(|c| c.message.content.as_deref()) {
            got.add(text);
        }
        Ok(got)
    }

    async fn stream(&self, api: Api, model: &str, probe: &TaskProbe) -> Result<Counted, BenchError> {
        async_openai_only(api)?;
        let mut stream =
            self.client.chat().create_stream(Self::request(model, true)?).await.map_err(BenchError::failed)?;
        let mut got = Counted::default();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(BenchError::failed)?;
            if let Some(text) = chunk.choices.first().and_then(|c| c.delta.content.as_deref()) {
                got.add(text);
                if got.chunks == 1 && !text.is_empty() {
                    probe.first_chunk();
                }
            }
        }
        Ok(got)
    }
}
