//! The decision call's checks, before anything is sent (the calls themselves are tested over sockets
//! in `tests/decision.rs`).

use super::*;
use crate::error::Error;
use crate::types::decision::{BoxQuestion, ChoiceQuestion, ScoreQuestion};
use crate::{Client, Provider};

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6,
    0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

fn client() -> Client {
    let creds = crate::Credentials::empty().with_key(Provider::TypeSafe, "k");
    // A base URL nothing listens on: any request that got out would fail as a transport error.
    Client::builder().credentials(creds).base_url(Provider::TypeSafe, "http://127.0.0.1:9").build().unwrap()
}

async fn invalid(call: Decide) -> String {
    match call.client(client()).await {
        Err(Error::InvalidInput(msg)) => msg,
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[cfg_attr(not(feature = "typesafe"), ignore = "needs the typesafe provider compiled in")]
#[tokio::test]
async fn bad_questions_fail_before_any_request_naming_the_parameter() {
    let none: [(&str, Question); 0] = [];
    let msg = invalid(decide("state", none, "jev-latest")).await;
    assert!(msg.starts_with("questions:") && msg.contains("at least one"), "{msg}");

    let empty_choice = Question::Choice(ChoiceQuestion::default());
    let msg = invalid(decide("s", [("mood", empty_choice)], "jev-latest")).await;
    assert!(msg.starts_with("questions.mood:") && msg.contains("needs options"), "{msg}");

    let no_levels = Question::Score(ScoreQuestion::default());
    let msg = invalid(decide("s", [("size", no_levels)], "jev-latest")).await;
    assert!(msg.starts_with("questions.size:") && msg.contains("needs levels"), "{msg}");

    let msg = invalid(decide("no image here", [("where", Question::locate("the cat"))], "jev-latest")).await;
    assert!(msg.starts_with("questions.where:") && msg.contains("image in the state"), "{msg}");

    let twice = decide("s", [("q", Question::boolean("a")), ("q", Question::boolean("b"))], "jev-latest");
    assert!(invalid(twice).await.contains("given twice"));
    assert!(invalid(decide("s", [(" ", Question::boolean("a"))], "jev-latest")).await.contains("empty name"));

    // An image the API cannot take fails in the build, before the request, naming where it sits.
    let url_only = Artifact::from_url("https://example.com/cat.png");
    let msg = invalid(decide_image(url_only, [("cat", Question::boolean("A cat?"))], "jev-latest")).await;
    assert!(msg.contains("`state`") && msg.contains("only a URL"), "{msg}");

    // An unknown kind of question cannot be built: the kinds are an enum, and JSON naming another
    // kind is refused when read (see `types::decision`'s tests).
    assert!(serde_json::from_str::<Question>(r#"{"type":"rank"}"#).is_err());
}

#[cfg_attr(not(all(feature = "typesafe", feature = "openai")), ignore = "calls TypeSafe and OpenAI models")]
#[tokio::test]
async fn the_model_and_provider_must_decide_and_nothing_streams() {
    // A text model has no decision API behind it.
    let creds = crate::Credentials::empty().with_key(Provider::OpenAi, "k");
    let c = Client::builder().credentials(creds).build().unwrap();
    let err = decide("s", [("q", Question::boolean("?"))], "gpt-5-mini").client(c).await.unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
    // The catalog says the Jev models do not stream; the pipeline refuses a stream before building.
    let call = decide("s", [("q", Question::boolean("?"))], "jev-latest").client(client());
    let err = match prepare_decision(call.opts, call.req, true).await {
        Err(e) => e,
        Ok(_) => panic!("a streamed decision was prepared"),
    };
    assert!(matches!(&err, Error::Unsupported(u) if u.what.contains("streaming")), "{err:?}");
    // So is an unregistered id on the provider (no catalog entry to ask).
    let call = decide("s", [("q", Question::boolean("?"))], "jev-9").provider(Provider::TypeSafe).client(client());
    assert!(matches!(prepare_decision(call.opts, call.req, true).await, Err(Error::Unsupported(_))));
}

#[cfg_attr(not(all(feature = "typesafe", feature = "openai")), ignore = "calls TypeSafe and OpenAI models")]
#[tokio::test]
async fn a_valid_call_reaches_the_transport() {
    let state = DecisionValue::map([("photo", Artifact::from_bytes(PNG))]);
    let call = decide(state, [("where", Question::Box(BoxQuestion::default()))], "jev-latest").client(client());
    let err = call.await.unwrap_err();
    assert!(matches!(err, Error::Transport { connect: true, .. }), "{err:?}");
    // An empty model id takes the catalog's default decision model.
    let err = decide("s", [("q", Question::boolean("?"))], "").client(client()).await.unwrap_err();
    assert!(matches!(err, Error::Transport { connect: true, .. }), "{err:?}");
}
