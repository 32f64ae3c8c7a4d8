//! Decision wire APIs (the `decision` modality): one module per provider API, behind one seam
//! ([`DecisionApi`]) that holds the only `match` over them. TypeSafe System One is the only one.
//!
//! Adding a decision API is one module here plus one arm in each method of [`DecisionApi`], and the
//! provider in `providers::decision_api`.

pub(crate) mod typesafe;

use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;

use crate::error::{Origin, Result};
use crate::types::decision::{Answers, DecisionValue, Question};
use crate::types::output::Output;

/// The decision APIs this library speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(not(feature = "typesafe"), allow(dead_code, reason = "constructed by the typesafe provider's row"))]
pub(crate) enum DecisionApi {
    /// TypeSafe System One (`POST /v1/systemone`).
    TypeSafe,
}

/// What a decision call asks for, whoever serves it.
#[derive(Debug, Clone, Default)]
pub(crate) struct DecisionRequest {
    pub model: String,
    pub state: DecisionValue,
    /// The questions by name, in the caller's order.
    pub questions: Vec<(String, Question)>,
}

/// A request as a decision API builds it.
#[derive(Debug, Clone)]
pub(crate) struct DecisionWireRequest {
    pub body: Value,
    /// The API's own headers (the caller's headers override them).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// Where generated asset ids come from: random ids in calls, a counter in tests.
pub(crate) type IdSource<'a> = &'a mut (dyn FnMut() -> String + Send);

#[cfg_attr(not(feature = "typesafe"), allow(dead_code, reason = "used by the typesafe provider's calls"))]
impl DecisionApi {
    /// The path below the provider's base URL.
    pub(crate) fn path(self) -> &'static str {
        match self {
            DecisionApi::TypeSafe => typesafe::PATH,
        }
    }

    /// Build the request; images are read here (files without blocking the runtime).
    pub(crate) async fn build(self, req: &DecisionRequest, ids: IdSource<'_>) -> Result<DecisionWireRequest> {
        match self {
            DecisionApi::TypeSafe => typesafe::build(req, ids).await,
        }
    }

    /// Decode a successful reply.
    pub(crate) fn parse(self, body: Bytes, model: &str, origin: Origin) -> Result<Output<Answers>> {
        match self {
            DecisionApi::TypeSafe => typesafe::parse(body, model, origin),
        }
    }
}
