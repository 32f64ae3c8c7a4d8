//! The accept / normalise / reject contract of every constraint.

use serde_json::{Value, json};

use crate::catalog::{BuiltinTool, Constraint};
use crate::error::ValidationError;
use crate::types::enums::{InputType, Provider};
use crate::types::{FunctionTool, Tool, ToolChoice};

fn ok(c: &Constraint, v: Value) -> Value {
    c.check("m", "p", &v).unwrap_or_else(|e| panic!("{v} should pass {c:?}: {e}"))
}

fn err(c: &Constraint, v: Value) -> ValidationError {
    match c.check("m", "p", &v) {
        Ok(got) => panic!("{v} should fail {c:?}, got {got}"),
        Err(e) => e,
    }
}

fn from_json(v: Value) -> Constraint {
    serde_json::from_value(v).expect("constraint JSON")
}

#[test]
fn choice_accepts_members_and_lists_the_options() {
    let c = Constraint::choice(["a", "b"]);
    assert_eq!(ok(&c, json!("b")), json!("b"));
    let e = err(&c, json!("c"));
    assert_eq!(e.allowed, "one of: a, b");
    assert_eq!(e.value, "\"c\"");
    // An empty choice admits nothing.
    err(&Constraint::choice(Vec::<Value>::new()), json!("a"));
}

#[test]
fn choice_compares_numbers_numerically_but_not_strings_with_numbers() {
    let c = Constraint::choice([4, 6, 8]);
    assert_eq!(ok(&c, json!(6)), json!(6));
    assert_eq!(ok(&c, json!(4.0)), json!(4.0));
    err(&c, json!("4"));
    err(&c, json!(5));
    assert_eq!(err(&c, json!(5)).allowed, "one of: 4, 6, 8");
}

#[test]
fn range_accepts_contract_values_unchanged() {
    let stepped = |min, max, step| Constraint::Range { min, max, step: Some(step), special_values: vec![] };
    let cases: Vec<(Constraint, Vec<Value>)> = vec![
        (Constraint::range(0.0, 10.0), vec![json!(0), json!(5.5), json!(10)]),
        (stepped(5.0, 15.0, 3.0), vec![json!(5), json!(8), json!(14)]),
        (stepped(0.0, 2.0, 0.1), vec![json!(0.1 + 0.1 + 0.1), json!(0.7), json!(2.0)]),
        (
            Constraint::Range { min: 0.0, max: 10.0, step: None, special_values: vec![-1.0, 100.0] },
            vec![json!(-1), json!(5), json!(100)],
        ),
    ];
    for (c, values) in cases {
        for v in values {
            assert_eq!(ok(&c, v.clone()), v);
        }
    }
}

#[test]
fn range_rejects_non_numbers_out_of_bounds_and_off_step_values() {
    let c = Constraint::range(0.0, 10.0);
    assert!(err(&c, json!("5")).allowed.starts_with("a number"));
    // Booleans are not numbers (the reference's Python accepted them as 0/1).
    err(&c, json!(true));
    err(&c, json!(null));
    assert_eq!(err(&c, json!(-1)).allowed, "0..=10");
    assert_eq!(err(&c, json!(11)).allowed, "0..=10");

    let stepped = Constraint::Range { min: 0.0, max: 10.0, step: Some(2.0), special_values: vec![] };
    assert_eq!(err(&stepped, json!(3)).allowed, "0..=10 in steps of 2 (nearest valid: 2 or 4)");

    let special = Constraint::Range { min: 0.0, max: 10.0, step: None, special_values: vec![-1.0] };
    assert_eq!(err(&special, json!(-2)).allowed, "0..=10, or one of: -1");
}

#[test]
fn range_step_errors_name_clean_nearest_values() {
    let c = Constraint::Range { min: 0.0, max: 2.0, step: Some(0.1), special_values: vec![] };
    let e = err(&c, json!(0.75));
    assert_eq!(e.allowed, "0..=2 in steps of 0.1 (nearest valid: 0.7 or 0.8)");
    assert_eq!(
        e.to_string(),
        "invalid `p` = 0.75 for model m; allowed: 0..=2 in steps of 0.1 (nearest valid: 0.7 or 0.8)"
    );
}

#[test]
fn str_checks_type_and_length_in_characters() {
    let c = Constraint::Str { min_length: Some(2), max_length: Some(5) };
    assert_eq!(ok(&c, json!("valid")), json!("valid"));
    assert_eq!(ok(&c, json!("éé")), json!("éé"));
    assert_eq!(err(&c, json!("x")).allowed, "a string of 2 to 5 characters (got 1)");
    let short = Constraint::Str { min_length: None, max_length: Some(3) };
    assert_eq!(ok(&short, json!("abc")), json!("abc"));
    err(&short, json!("long"));
    assert_eq!(err(&short, json!(1)).allowed, "a string of at most 3 characters");
}

#[test]
fn scalars_accept_and_normalise() {
    assert_eq!(ok(&Constraint::Int, json!(42)), json!(42));
    assert_eq!(ok(&Constraint::Int, json!(42.0)), json!(42));
    assert!(ok(&Constraint::Int, json!(42.0)).is_i64());
    assert_eq!(ok(&Constraint::Int, json!("-42")), json!(-42));
    assert_eq!(ok(&Constraint::Int, json!(u64::MAX)), json!(u64::MAX));
    assert_eq!(ok(&Constraint::Float, json!(3)), json!(3.0));
    assert!(ok(&Constraint::Float, json!(3)).is_f64());
    assert_eq!(ok(&Constraint::Float, json!(3.5)), json!(3.5));
    assert_eq!(ok(&Constraint::Bool, json!(true)), json!(true));
    assert_eq!(ok(&Constraint::Bool, json!(false)), json!(false));
}

#[test]
fn scalars_reject_other_types() {
    for v in [json!(1.5), json!("one"), json!("--5"), json!(""), json!(true), json!(1e30)] {
        err(&Constraint::Int, v);
    }
    for v in [json!(true), json!("1.0"), json!(null)] {
        err(&Constraint::Float, v);
    }
    for v in [json!(1), json!("true")] {
        err(&Constraint::Bool, v);
    }
}

#[test]
fn schema_accepts_schema_objects_only() {
    let schema = json!({"type": "object", "properties": {"value": {"type": "integer"}}});
    assert_eq!(ok(&Constraint::Schema, schema.clone()), schema);
    err(&Constraint::Schema, json!("str"));
    err(&Constraint::Schema, json!(["str"]));
}

fn dims(presets: &[(&str, &str)], multiple_of: Option<u32>) -> Constraint {
    Constraint::Dimensions {
        min_pixels: Some(100),
        max_pixels: Some(10_000),
        min_aspect_ratio: Some(0.5),
        max_aspect_ratio: Some(2.0),
        presets: (!presets.is_empty()).then(|| presets.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
        multiple_of,
        min_dimension: None,
        max_dimension: None,
    }
}

#[test]
fn dimensions_resolve_presets_and_normalise() {
    let c = dims(&[("square", "20x20")], None);
    assert_eq!(ok(&c, json!("square")), json!("20x20"));
    assert_eq!(ok(&c, json!("10X20")), json!("10x20"));
}

#[test]
fn dimensions_enforce_multiples() {
    let c = dims(&[], Some(16));
    assert_eq!(ok(&c, json!("16x32")), json!("16x32"));
    let e = err(&c, json!("20x32"));
    assert!(e.allowed.contains("multiples of 16"), "{}", e.allowed);
    assert!(e.allowed.contains("20x32 is not a multiple of 16"), "{}", e.allowed);
}

#[test]
fn dimensions_reject_bad_formats_and_bounds() {
    let c = dims(&[], None);
    for v in [
        json!(1),
        json!("20"),
        json!("axb"),
        json!("0x20"),
        json!("5x5"),
        json!("10x100"),
        json!("10x10x10"),
        json!("-10x20"),
    ] {
        err(&c, v);
    }
    let e = err(&c, json!("5x5"));
    assert_eq!(
        e.allowed,
        "\"WIDTHxHEIGHT\" with 100..=10000 total pixels, an aspect ratio of 0.500..=2.000 (5x5 is 25 pixels)"
    );
}

#[test]
fn dimensions_bound_the_shorter_and_the_longer_side() {
    // BFL's flux-pro-1.1: sides of 256..=1440 on a grid of 32.
    let c = Constraint::Dimensions {
        min_pixels: Some(65_536),
        max_pixels: Some(2_073_600),
        min_aspect_ratio: Some(0.177),
        max_aspect_ratio: Some(5.625),
        presets: None,
        multiple_of: Some(32),
        min_dimension: Some(256),
        max_dimension: Some(1440),
    };
    assert_eq!(ok(&c, json!("1440x256")), json!("1440x256"));
    assert_eq!(ok(&c, json!("256x1440")), json!("256x1440"));
    // 1472x768 has enough pixels and a valid ratio; only its long side is out of bounds.
    let e = err(&c, json!("1472x768"));
    assert!(e.allowed.contains("sides of 256..=1440 pixels"), "{}", e.allowed);
    assert!(e.allowed.ends_with("(1472x768 has sides of 768 and 1472 pixels)"), "{}", e.allowed);
    // 224x448 is on the grid with a valid ratio and pixel count, but its short side is too short.
    let e = err(&c, json!("224x448"));
    assert!(e.allowed.ends_with("(224x448 has sides of 224 and 448 pixels)"), "{}", e.allowed);
    // The grid is checked first, as in the reference.
    let e = err(&c, json!("100x300"));
    assert!(e.allowed.ends_with("(100x300 is not a multiple of 32)"), "{}", e.allowed);

    // One bound alone, and the bounds come before the pixel count.
    let c = Constraint::Dimensions {
        min_pixels: Some(1_000_000),
        max_pixels: None,
        min_aspect_ratio: None,
        max_aspect_ratio: None,
        presets: None,
        multiple_of: None,
        min_dimension: Some(64),
        max_dimension: None,
    };
    ok(&c, json!("64x16384"));
    let e = err(&c, json!("32x100"));
    assert!(e.allowed.contains("sides of at least 64 pixels"), "{}", e.allowed);
    assert!(e.allowed.ends_with("(32x100 has sides of 32 and 100 pixels)"), "{}", e.allowed);
}

/// (single, plural, valid MIME, another MIME of the same kind, a MIME of another kind)
fn media_cases() -> Vec<(&'static str, &'static str, &'static str, &'static str, &'static str)> {
    vec![
        ("image", "images", "image/png", "image/jpeg", "video/mp4"),
        ("video", "videos", "video/mp4", "video/quicktime", "image/png"),
        ("audio", "audios", "audio/mpeg", "audio/wav", "image/png"),
        ("document", "documents", "application/pdf", "text/plain", "image/png"),
    ]
}

#[test]
fn single_media_constraints_check_shape_and_mime() {
    for (single, _, good, other, foreign) in media_cases() {
        let c = from_json(json!({"type": single, "mime_types": [good]}));
        let valid = json!({"mime_type": good, "url": "https://example.com/a"});
        let invalid = json!({"mime_type": other});
        assert_eq!(ok(&c, valid.clone()), valid);
        // Without a MIME list any artifact of the kind passes.
        let open = from_json(json!({"type": single}));
        assert_eq!(ok(&open, invalid.clone()), invalid);
        assert_eq!(ok(&open, json!({"url": "x"})), json!({"url": "x"}));
        err(&open, json!({"mime_type": foreign}));
        for bad in [json!([valid.clone()]), json!("not an artifact"), invalid.clone(), json!({})] {
            err(&c, bad);
        }
        let e = err(&c, invalid);
        assert_eq!(e.allowed, format!("a single {single} artifact of type {good} (got {other})"));
    }
}

#[test]
fn plural_media_constraints_normalise_to_lists_and_count() {
    for (_, plural, good, other, _) in media_cases() {
        let c = from_json(json!({"type": plural, "max_count": 2, "mime_types": [good]}));
        let first = json!({"mime_type": good, "url": "1"});
        let second = json!({"mime_type": good, "url": "2"});
        assert_eq!(ok(&c, first.clone()), json!([first.clone()]));
        assert_eq!(ok(&c, json!([first.clone(), second.clone()])), json!([first.clone(), second.clone()]));
        assert_eq!(ok(&c, json!([])), json!([]));
        let e = err(&c, json!([first.clone(), second.clone(), first.clone()]));
        assert!(e.allowed.starts_with("at most 2 "), "{}", e.allowed);
        err(&c, json!([first.clone(), "not an artifact"]));
        let e = err(&c, json!([first.clone(), {"mime_type": other}]));
        assert!(e.allowed.ends_with(&format!("2: got {other})")), "{}", e.allowed);
        // Without MIME types only the count is checked.
        let open = from_json(json!({"type": plural}));
        assert_eq!(ok(&open, json!(["anything"])), json!(["anything"]));
    }
}

#[test]
fn media_constraints_declare_their_input_type() {
    let expected = [
        ("image", InputType::Image),
        ("images", InputType::Image),
        ("video", InputType::Video),
        ("videos", InputType::Video),
        ("audio", InputType::Audio),
        ("audios", InputType::Audio),
        ("document", InputType::Document),
        ("documents", InputType::Document),
    ];
    for (kind, input) in expected {
        let c = from_json(json!({"type": kind}));
        assert_eq!(c.input_type(), Some(input), "{kind}");
        assert_eq!(c.kind(), kind);
    }
    // Constraints that take a string declare text, as the reference derives it.
    for c in [
        Constraint::Str { min_length: None, max_length: None },
        from_json(json!({"type": "dimensions"})),
        Constraint::Voice { provider: Provider::OpenAi, voices: None },
    ] {
        assert_eq!(c.input_type(), Some(InputType::Text), "{c:?}");
    }
    assert_eq!(Constraint::choice(["a"]).input_type(), None);
    assert_eq!(Constraint::Int.input_type(), None);
    assert_eq!(Constraint::Schema.input_type(), None);
}

fn tool(t: Tool) -> Value {
    serde_json::to_value(t).unwrap()
}

#[test]
fn tool_support_allows_listed_builtins_and_custom_tools() {
    let c = Constraint::ToolSupport { tools: vec![BuiltinTool::WebSearch], custom_tools: true };
    let function = tool(FunctionTool::new("lookup", "Look up", json!({"type": "object"})).into());
    let value = json!([tool(Tool::WebSearch(Default::default())), function, {"name": "custom"}]);
    assert_eq!(ok(&c, value.clone()), value);
    let e = err(&c, json!([tool(Tool::XSearch)]));
    assert_eq!(e.allowed, "built-in tools web_search; function tools (`x_search` is not supported by this model)");
}

#[test]
fn tool_support_can_reject_custom_tools() {
    let c = Constraint::ToolSupport { tools: vec![BuiltinTool::WebSearch], custom_tools: false };
    let value = json!([tool(Tool::WebSearch(Default::default())), {"type": "mcp", "server_label": "docs"}, tool(Tool::Raw { value: json!({"type": "mcp"}) })]);
    assert_eq!(ok(&c, value.clone()), value);
    let function = tool(FunctionTool::new("lookup", "Look up", json!({"type": "object"})).into());
    for custom in [json!({"name": "lookup"}), json!({"type": "function"}), function] {
        let e = err(&c, json!([custom]));
        assert!(e.allowed.contains("custom function tools are not supported"), "{}", e.allowed);
    }
    let none = Constraint::ToolSupport { tools: vec![], custom_tools: true };
    assert!(err(&none, json!([tool(Tool::CodeExecution)])).allowed.starts_with("no built-in tools"));
}

#[test]
fn tool_choice_support_checks_string_modes_only() {
    let c = from_json(json!({"type": "tool_choice_support", "modes": ["auto", "none"]}));
    let auto = serde_json::to_value(ToolChoice::Auto).unwrap();
    assert_eq!(ok(&c, auto.clone()), auto);
    let named = serde_json::to_value(ToolChoice::Tool("lookup".into())).unwrap();
    assert_eq!(ok(&c, named.clone()), named);
    let e = err(&c, serde_json::to_value(ToolChoice::Required).unwrap());
    assert_eq!(e.allowed, "a tool name or one of: auto, none");
    // The modes default to all three.
    let all = from_json(json!({"type": "tool_choice_support"}));
    ok(&all, json!("required"));
}

#[test]
fn voice_accepts_id_or_name_and_returns_the_id() {
    let c = Constraint::Voice { provider: Provider::OpenAi, voices: None };
    assert_eq!(ok(&c, json!("alloy")), json!("alloy"));
    assert_eq!(ok(&c, json!("Alloy")), json!("alloy"));
    assert_eq!(ok(&c, json!("ALLOY")), json!("alloy"));
    let e = err(&c, json!("nobody"));
    assert!(e.allowed.starts_with("a voice name or id of openai: Alloy (alloy), Ash (ash)"), "{}", e.allowed);
    err(&c, json!(1));

    let el = Constraint::Voice { provider: Provider::ElevenLabs, voices: None };
    let first = &crate::catalog::voices(Provider::ElevenLabs)[0];
    assert_ne!(first.id, first.name);
    assert_eq!(ok(&el, json!(first.name)), json!(first.id));
    assert_eq!(ok(&el, json!(first.id)), json!(first.id));

    let none = Constraint::Voice { provider: Provider::Ollama, voices: None };
    assert!(err(&none, json!("x")).allowed.contains("no voice catalog"));
}

#[test]
fn voice_subset_admits_only_the_listed_voices() {
    // tts-1 offers 9 of OpenAI's voices: marin is in the catalog but not offered.
    let c = from_json(json!({"type": "voice", "provider": "openai", "voices": ["alloy", "ash", "coral"]}));
    assert_eq!(ok(&c, json!("Coral")), json!("coral"));
    assert_eq!(ok(&c, json!("ASH")), json!("ash"));
    assert!(crate::catalog::resolve_voice(Provider::OpenAi, "marin").is_some());
    let e = err(&c, json!("marin"));
    // The error lists the offered voices only, in catalog order.
    assert_eq!(e.allowed, "a voice name or id of openai: Alloy (alloy), Ash (ash), Coral (coral)");
    // A listed id the catalog does not know is never accepted.
    let unknown = from_json(json!({"type": "voice", "provider": "openai", "voices": ["nobody"]}));
    assert!(err(&unknown, json!("nobody")).allowed.contains("none of its catalog is offered"), "{unknown:?}");
}

#[test]
fn errors_name_model_parameter_and_value() {
    let c = Constraint::choice(["low", "medium", "high"]);
    let e = c.check("gpt-5", "thinking_budget", &json!("max")).unwrap_err();
    assert_eq!(
        e,
        ValidationError {
            model: Some("gpt-5".into()),
            parameter: "thinking_budget".into(),
            value: "\"max\"".into(),
            allowed: "one of: low, medium, high".into(),
        }
    );
    assert_eq!(
        e.to_string(),
        "invalid `thinking_budget` = \"max\" for model gpt-5; allowed: one of: low, medium, high"
    );
    assert_eq!(c.check("", "p", &json!(1)).unwrap_err().model, None);
    // Huge values are cut in the message.
    let long = json!("x".repeat(1000));
    assert!(c.check("m", "p", &long).unwrap_err().value.chars().count() < 200);
}

#[test]
fn constraint_json_round_trips_and_is_strict() {
    let samples = [
        json!({"type": "range", "min": 0.0, "max": 2.0, "step": 0.1}),
        json!({"type": "range", "min": 128.0, "max": 32768.0, "special_values": [-1.0]}),
        json!({"type": "choice", "options": ["a", 4]}),
        json!({"type": "str", "max_length": 3}),
        json!({"type": "int"}),
        json!({"type": "float"}),
        json!({"type": "bool"}),
        json!({"type": "dimensions", "min_pixels": 1, "max_pixels": 4, "presets": {"a": "1x1"}, "multiple_of": 1}),
        json!({"type": "dimensions", "min_dimension": 256, "max_dimension": 1440}),
        json!({"type": "schema"}),
        json!({"type": "image", "mime_types": ["image/png"]}),
        json!({"type": "documents", "max_count": 3}),
        json!({"type": "tool_support", "tools": ["web_search", "x_search", "code_execution", "url_context"], "custom_tools": false}),
        json!({"type": "tool_choice_support", "modes": ["auto"]}),
        json!({"type": "voice", "provider": "google"}),
        json!({"type": "voice", "provider": "openai", "voices": ["alloy"]}),
    ];
    for sample in samples {
        let c = from_json(sample.clone());
        assert_eq!(serde_json::to_value(&c).unwrap(), sample);
    }
    for bad in [
        json!({"type": "pattern", "pattern": "a+"}),
        json!({"type": "range", "min": 0, "max": 1, "stp": 0.1}),
        json!({"type": "tool_support", "tools": ["teleport"]}),
        json!({"min": 0, "max": 1}),
    ] {
        assert!(serde_json::from_value::<Constraint>(bad.clone()).is_err(), "{bad}");
    }
}
