//! `celeste text decide`: named, typed questions about a state (JSON, text or images), each answer
//! printed on its own line, against the real provider when its key is set, otherwise against the
//! bundled emulator.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use celeste::types::{Answer, Artifact, DecisionValue, Question};
use celeste::{Error, Output};

use crate::args::{Endpoint, Global};

#[derive(Args, Debug)]
#[command(after_help = "\
Questions (--question NAME=KIND[:SPEC], repeat for more):
  urgent=boolean:\"Is it urgent?\"     yes or no; SPEC is the instructions
  mood=choice:calm,angry             one of the options (comma-separated)
  severity=score:low,medium,high     a level, lowest first
  where=box:\"Locate the cat\"         a box in the image; SPEC is the instructions
--questions FILE.json takes {\"NAME\": {\"type\": \"boolean|choice|score|box\", \"instructions\": ...,
\"criteria\": ...}} for instructions and criteria in full (choice criteria: {\"option\": \"description\"}).

Images (--image FILE): with no STATE the image is the state (several: a list); with a JSON object as
STATE it goes in under the key \"image\" (several: \"images\").

Examples:
  celeste text decide '{\"ticket\": \"Refund now!\"}' --question urgent=boolean:\"Is it urgent?\" --question mood=choice:calm,angry
  celeste text decide --image photo.png --question cat=boolean:\"Is there a cat?\" --question where=box:\"The cat\"")]
pub struct DecideArgs {
    /// The state the questions are about: JSON, or plain text when it is not JSON.
    pub state: Option<String>,
    /// A question: NAME=KIND[:SPEC] (see below); repeat for more.
    #[arg(long = "question", value_name = "NAME=KIND[:SPEC]")]
    pub questions: Vec<String>,
    /// A JSON file of questions by name (see below), asked before any --question.
    #[arg(long = "questions", value_name = "FILE")]
    pub questions_file: Option<PathBuf>,
    /// An image to decide about (repeat for more).
    #[arg(long = "image", value_name = "FILE")]
    pub images: Vec<PathBuf>,
    /// The model id; the catalog resolves its provider.
    #[arg(long, short, default_value = "jev-latest")]
    pub model: String,
    #[command(flatten)]
    pub endpoint: Endpoint,
}

/// Run `celeste text decide`.
pub async fn run(global: &Global, a: DecideArgs) -> Result<(), Error> {
    let mut questions = match &a.questions_file {
        Some(path) => read_questions(path)?,
        None => Vec::new(),
    };
    for q in &a.questions {
        questions.push(parse_question(q)?);
    }
    let state = state(a.state.as_deref(), &a.images)?;
    let session = crate::text::Session::start(global, &a.model, &a.endpoint).await?;
    let order: Vec<String> = questions.iter().map(|(n, _)| n.clone()).collect();
    let mut call = celeste::text::decide(state, questions, a.model.clone()).client(session.client.clone());
    call = crate::text::with_route!(call, session.route);
    let result = call.await;
    session.finish().await;
    report(global, &result?, &order)
}

/// The state: the JSON (or text) given, with the images in it; or the images alone.
fn state(given: Option<&str>, images: &[PathBuf]) -> Result<DecisionValue, Error> {
    let mut images: Vec<DecisionValue> = images.iter().map(|p| Artifact::from_path(p).into()).collect();
    let Some(text) = given else {
        return match images.len() {
            0 => Err(Error::InvalidInput("STATE: give the state to decide about, or an --image".into())),
            1 => Ok(images.remove(0)),
            _ => Ok(DecisionValue::List(images)),
        };
    };
    // Text that is not JSON is a string state: quoting it as JSON on a shell line is a chore.
    let value: DecisionValue = match serde_json::from_str::<Value>(text) {
        Ok(v) => v.into(),
        Err(_) => DecisionValue::String(text.to_string()),
    };
    if images.is_empty() {
        return Ok(value);
    }
    let DecisionValue::Map(mut entries) = value else {
        return Err(Error::InvalidInput(
            "--image: to add images to a STATE, give the state as a JSON object (or leave it out: the image is the state)"
                .into(),
        ));
    };
    let (key, image) = match images.len() {
        1 => ("image", images.remove(0)),
        _ => ("images", DecisionValue::List(images)),
    };
    if entries.contains_key(key) {
        return Err(Error::InvalidInput(format!("--image: the STATE already has an `{key}` key")));
    }
    entries.insert(key.to_string(), image);
    Ok(DecisionValue::Map(entries))
}

/// `NAME=KIND[:SPEC]`.
fn parse_question(arg: &str) -> Result<(String, Question), Error> {
    let bad = |why: String| Error::InvalidInput(format!("--question {arg}: {why}"));
    let (name, rest) = arg.split_once('=').ok_or_else(|| bad("expected NAME=KIND[:SPEC]".into()))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(bad("the name is empty".into()));
    }
    let (kind, spec) = match rest.split_once(':') {
        Some((k, s)) => (k.trim(), Some(s.trim()).filter(|s| !s.is_empty())),
        None => (rest.trim(), None),
    };
    let list = |s: Option<&str>| -> Vec<String> {
        s.map(|s| s.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let q = match kind {
        "boolean" | "bool" | "yesno" => match spec {
            Some(s) => Question::boolean(s),
            None => Question::Boolean(Default::default()),
        },
        "box" => match spec {
            Some(s) => Question::locate(s),
            None => Question::Box(Default::default()),
        },
        "choice" => {
            let options = list(spec);
            if options.is_empty() {
                return Err(bad("a choice needs options: NAME=choice:a,b,c".into()));
            }
            Question::choice(options)
        }
        "score" => {
            let levels = list(spec);
            if levels.is_empty() {
                return Err(bad("a score needs levels, lowest first: NAME=score:low,medium,high".into()));
            }
            Question::score(levels)
        }
        other => return Err(bad(format!("unknown kind `{other}` (boolean, choice, score or box)"))),
    };
    Ok((name.to_string(), q))
}

/// `{name: question}` from a JSON file.
fn read_questions(path: &std::path::Path) -> Result<Vec<(String, Question)>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::InvalidInput(format!("--questions {}: {e}", path.display())))?;
    let map: BTreeMap<String, Question> =
        serde_json::from_str(&text).map_err(|e| Error::InvalidInput(format!("--questions {}: {e}", path.display())))?;
    Ok(map.into_iter().collect())
}

/// Print the answers in the order the questions were given, then usage.
fn report(global: &Global, out: &Output<celeste::types::Answers>, order: &[String]) -> Result<(), Error> {
    if global.json {
        return crate::out_json(out);
    }
    let mut text = String::new();
    let named = order.iter().filter_map(|n| out.content.get(n).map(|a| (n, a)));
    let others = out.content.iter().filter(|(n, _)| !order.contains(n));
    for (name, a) in named.chain(others) {
        text.push_str(&format!("{name}: {}\n", describe(a)));
    }
    let n = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
    let model = out.metadata.response_model.as_deref().unwrap_or(&out.metadata.model);
    text.push_str(&format!(
        "usage: input {} · output {} tokens · model {model}\n",
        n(out.usage.input_tokens),
        n(out.usage.output_tokens)
    ));
    crate::out(&text)
}

/// One answer on one line.
fn describe(a: &Answer) -> String {
    let probs = |p: Vec<(String, f64)>| p.iter().map(|(k, v)| format!("{k}={v:.3}")).collect::<Vec<_>>().join(" ");
    match a {
        Answer::Boolean(b) => {
            let verdict = if b.probability >= 0.5 { "yes" } else { "no" };
            format!("{verdict} (p(yes) = {:.3})", b.probability)
        }
        Answer::Choice(c) => format!(
            "{} (confidence {:.3}; {})",
            c.choice,
            c.confidence,
            probs(c.probabilities.iter().map(|(k, v)| (k.clone(), *v)).collect())
        ),
        Answer::Score(s) => format!(
            "{:.2} (confidence {:.3}; {})",
            s.score,
            s.confidence,
            probs(s.probabilities.iter().map(|(k, v)| (k.to_string(), *v)).collect())
        ),
        Answer::Box(b) => {
            let c = b.coordinates;
            let conf = b.confidence.map(|c| format!(" (confidence {c:.3})")).unwrap_or_default();
            format!("top {:.3} bottom {:.3} left {:.3} right {:.3}{conf}", c.top, c.bottom, c.left, c.right)
        }
        _ => "an answer of a kind this command does not know".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_from_flags() {
        let (n, q) = parse_question("urgent=boolean:Is it urgent?").unwrap();
        assert_eq!((n.as_str(), q), ("urgent", Question::boolean("Is it urgent?")));
        let (_, q) = parse_question("mood=choice: calm, angry ").unwrap();
        assert_eq!(q, Question::choice(["calm", "angry"]));
        let (_, q) = parse_question("size=score:s,m,l").unwrap();
        assert_eq!(q, Question::score(["s", "m", "l"]));
        assert_eq!(parse_question("w=box:the cat").unwrap().1, Question::locate("the cat"));
        for bad in ["nokind", "=boolean", "m=choice", "s=score:", "r=rank:a,b"] {
            let err = parse_question(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("--question {bad}")), "{err}");
        }
    }

    #[test]
    fn state_with_images() {
        let img = PathBuf::from("cat.png");
        assert!(matches!(state(None, std::slice::from_ref(&img)).unwrap(), DecisionValue::Image(_)));
        assert!(matches!(state(Some("just words"), &[]).unwrap(), DecisionValue::String(_)));
        let DecisionValue::Map(m) = state(Some(r#"{"n": 1}"#), std::slice::from_ref(&img)).unwrap() else { panic!() };
        assert!(matches!(m["image"], DecisionValue::Image(_)));
        assert!(state(Some("[1]"), std::slice::from_ref(&img)).is_err());
        assert!(state(None, &[]).is_err());
    }
}
