//! Decisions: `celeste::text::decide(state, questions, model)` and
//! `celeste::images::decide(image, questions, model)` (the image is the state).
//!
//! A decision model answers named, typed questions about a state with calibrated probabilities:
//! yes/no, one of named options, a level on a scale, or a box in an image. It is not text
//! generation: the answers come back typed ([`Answers`]), in one reply (nothing streams).
//!
//! Questions are checked before anything is sent: at least one, a choice with options, a score with
//! levels, a box only with an image in the state. Images may sit anywhere in the state,
//! instructions or criteria; they need bytes (data or a file), since the API takes no URLs.

use std::fmt;
use std::future::IntoFuture;
use std::marker::PhantomData;

use futures::future::BoxFuture;

use crate::call::{CallOptions, prepare_decision};
use crate::error::Result;
use crate::text::Unary;
use crate::types::artifact::Artifact;
use crate::types::decision::{Answers, DecisionValue, Question};
use crate::types::output::Output;
use crate::wire::decision::DecisionRequest;

/// A decision call being configured. `.await` it to send it (the blocking twins use `.send()`).
#[must_use = "a call does nothing until it is awaited or sent"]
pub struct Decide<M = Unary> {
    opts: CallOptions,
    req: DecisionRequest,
    mode: PhantomData<M>,
}

impl<M> Clone for Decide<M> {
    fn clone(&self) -> Self {
        Decide { opts: self.opts.clone(), req: self.req.clone(), mode: PhantomData }
    }
}

impl<M> fmt::Debug for Decide<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decide")
            .field("opts", &self.opts)
            .field("request", &self.req)
            .field("mode", &std::any::type_name::<M>())
            .finish()
    }
}

/// Answer named questions about a state (any JSON-like value, images anywhere in it).
///
/// ```no_run
/// # async fn demo() -> celeste::Result<()> {
/// use celeste::types::{DecisionValue, Question};
///
/// let state = DecisionValue::from(serde_json::json!({"ticket": "My order never came. Refund now!"}));
/// let out = celeste::text::decide(
///     state,
///     [
///         ("urgent", Question::boolean("Does this need action today?")),
///         ("mood", Question::choice(["calm", "annoyed", "angry"])),
///     ],
///     "jev-latest",
/// )
/// .await?;
/// if let Some(urgent) = out.content["urgent"].as_boolean() {
///     println!("urgent: {:.0}%", urgent.probability * 100.0);
/// }
/// # Ok(())
/// # }
/// ```
pub fn decide<N: Into<String>>(
    state: impl Into<DecisionValue>,
    questions: impl IntoIterator<Item = (N, Question)>,
    model: impl Into<String>,
) -> Decide {
    Decide {
        opts: CallOptions::default(),
        req: DecisionRequest {
            model: model.into(),
            state: state.into(),
            questions: questions.into_iter().map(|(n, q)| (n.into(), q)).collect(),
        },
        mode: PhantomData,
    }
}

/// Answer named questions about an image (the image is the state).
pub fn decide_image<N: Into<String>>(
    image: Artifact,
    questions: impl IntoIterator<Item = (N, Question)>,
    model: impl Into<String>,
) -> Decide {
    decide(DecisionValue::from(image), questions, model)
}

impl Decide<Unary> {
    /// Send the call and wait for the answers.
    pub async fn send(self) -> Result<Output<Answers>> {
        prepare_decision(self.opts, self.req, false).await?.unary().await
    }
}

impl IntoFuture for Decide<Unary> {
    type Output = Result<Output<Answers>>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl<M> Decide<M> {
    crate::call::call_setters!(opts; client, provider, base_url, api_key, auth, extra_body, header, timeout);

    pub(crate) fn with_mode<N>(self) -> Decide<N> {
        Decide { opts: self.opts, req: self.req, mode: PhantomData }
    }

    /// Ask one more question.
    pub fn question(mut self, name: impl Into<String>, question: Question) -> Self {
        self.req.questions.push((name.into(), question));
        self
    }
}

#[cfg(test)]
mod tests;
