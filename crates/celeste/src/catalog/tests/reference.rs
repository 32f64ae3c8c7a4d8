//! The embedded catalog against the reference library's registry dump (`reference-1.0.0-models.json`),
//! read at test time: same models in the same order, and model by model the same provider, display
//! name, operations, streaming flag, input types and constraints. The reference's pydantic constraint
//! dump is mapped to [`Constraint`] here, independently of `scripts/catalog-from-reference`, so a
//! mistake in the script (or a hand edit of a data file) shows up as a difference.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::catalog::data;
use crate::catalog::{BuiltinTool, Constraint, Model, voices};
use crate::types::enums::{InputType, Modality, Operation, Provider};

const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference/reference-1.0.0-models.json");

/// The reference dump's models, or `None` when the file is absent and `CELESTE_SKIP_REFERENCE` is set.
fn reference_models() -> Option<Vec<Value>> {
    reference_models_at(REFERENCE)
}

fn reference_models_at(path: &str) -> Option<Vec<Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if std::env::var_os("CELESTE_SKIP_REFERENCE").is_some() => {
            eprintln!("skipping the reference comparison: {path}: {e}");
            return None;
        }
        Err(e) => panic!(
            "cannot read the reference registry {path}: {e}. The catalog is compared with it; set \
             CELESTE_SKIP_REFERENCE=1 to skip the comparison where the reference is not checked out."
        ),
    };
    let dump: Value = serde_json::from_str(&text).expect("the reference registry is JSON");
    let models = dump["models"].as_array().expect("`models` is a list").clone();
    assert_eq!(dump["count"].as_u64(), Some(models.len() as u64), "the dump's count");
    Some(models)
}

fn str_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("`{key}` is not a string in {v}"))
}

/// The fields of a reference constraint besides `type` and `description` (prose for humans, which
/// our format does not carry), failing on any field not in `known` so a new bound in the reference
/// cannot be ignored silently.
fn fields<'a>(c: &'a Map<String, Value>, known: &[&str]) -> Result<BTreeMap<&'a str, &'a Value>, String> {
    let mut out = BTreeMap::new();
    for (k, v) in c {
        match k.as_str() {
            "type" | "description" => {}
            k if known.contains(&k) => {
                if !v.is_null() {
                    out.insert(k, v);
                }
            }
            k => return Err(format!("unmapped field `{k}` of {}", c["type"])),
        }
    }
    Ok(out)
}

fn f64_of(v: Option<&&Value>) -> Option<f64> {
    v.map(|v| v.as_f64().expect("a number"))
}

fn u64_of(v: Option<&&Value>) -> Option<u64> {
    v.map(|v| v.as_u64().expect("a non-negative integer"))
}

fn strings(v: Option<&&Value>) -> Option<Vec<String>> {
    v.map(|v| v.as_array().expect("a list").iter().map(|s| s.as_str().expect("a string").to_string()).collect())
}

/// The constraint the reference's dump describes, except voice constraints (compared by their voices,
/// see [`compare_voices`]).
fn expected_constraint(c: &Map<String, Value>) -> Result<Constraint, String> {
    let kind = c["type"].as_str().ok_or("no type")?;
    let media = |known: &[&str]| fields(c, known);
    Ok(match kind {
        "Range" => {
            let f = fields(c, &["min", "max", "step", "special_values"])?;
            Constraint::Range {
                min: f64_of(f.get("min")).ok_or("Range without min")?,
                max: f64_of(f.get("max")).ok_or("Range without max")?,
                step: f64_of(f.get("step")),
                special_values: f
                    .get("special_values")
                    .map(|v| v.as_array().expect("a list").iter().map(|x| x.as_f64().expect("a number")).collect())
                    .unwrap_or_default(),
            }
        }
        "Choice" => {
            let f = fields(c, &["options"])?;
            Constraint::Choice { options: f["options"].as_array().ok_or("options")?.clone() }
        }
        "Str" => {
            let f = fields(c, &["min_length", "max_length"])?;
            Constraint::Str {
                min_length: u64_of(f.get("min_length")).map(|n| n as usize),
                max_length: u64_of(f.get("max_length")).map(|n| n as usize),
            }
        }
        "Int" | "Float" | "Bool" | "Schema" => {
            fields(c, &[])?;
            match kind {
                "Int" => Constraint::Int,
                "Float" => Constraint::Float,
                "Bool" => Constraint::Bool,
                _ => Constraint::Schema,
            }
        }
        "Dimensions" => {
            let f = fields(
                c,
                &[
                    "min_pixels",
                    "max_pixels",
                    "min_aspect_ratio",
                    "max_aspect_ratio",
                    "presets",
                    "multiple_of",
                    "min_dimension",
                    "max_dimension",
                ],
            )?;
            let side = |k: &str| u64_of(f.get(k)).map(|n| u32::try_from(n).expect("a side fits u32"));
            Constraint::Dimensions {
                min_pixels: u64_of(f.get("min_pixels")),
                max_pixels: u64_of(f.get("max_pixels")),
                min_aspect_ratio: f64_of(f.get("min_aspect_ratio")),
                max_aspect_ratio: f64_of(f.get("max_aspect_ratio")),
                presets: f.get("presets").map(|p| {
                    p.as_object()
                        .expect("presets are a map")
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().expect("a size").to_string()))
                        .collect()
                }),
                multiple_of: side("multiple_of"),
                min_dimension: side("min_dimension"),
                max_dimension: side("max_dimension"),
            }
        }
        "ImageConstraint" | "VideoConstraint" | "AudioConstraint" | "DocumentConstraint" => {
            let f = media(&["supported_mime_types"])?;
            let mime_types = strings(f.get("supported_mime_types"));
            match kind {
                "ImageConstraint" => Constraint::Image { mime_types },
                "VideoConstraint" => Constraint::Video { mime_types },
                "AudioConstraint" => Constraint::Audio { mime_types },
                _ => Constraint::Document { mime_types },
            }
        }
        "ImagesConstraint" | "VideosConstraint" | "AudiosConstraint" | "DocumentsConstraint" => {
            let f = media(&["supported_mime_types", "max_count"])?;
            let mime_types = strings(f.get("supported_mime_types"));
            let max_count = u64_of(f.get("max_count")).map(|n| n as usize);
            match kind {
                "ImagesConstraint" => Constraint::Images { max_count, mime_types },
                "VideosConstraint" => Constraint::Videos { max_count, mime_types },
                "AudiosConstraint" => Constraint::Audios { max_count, mime_types },
                _ => Constraint::Documents { max_count, mime_types },
            }
        }
        "ToolSupport" => {
            let f = fields(c, &["tools", "custom_tools"])?;
            let tools = strings(f.get("tools"))
                .ok_or("ToolSupport without tools")?
                .iter()
                .map(|class| match class.as_str() {
                    "WebSearch" => Ok(BuiltinTool::WebSearch),
                    "XSearch" => Ok(BuiltinTool::XSearch),
                    "CodeExecution" => Ok(BuiltinTool::CodeExecution),
                    "UrlContext" => Ok(BuiltinTool::UrlContext),
                    other => Err(format!("unknown tool class {other}")),
                })
                .collect::<Result<_, _>>()?;
            let custom_tools = f.get("custom_tools").map(|v| v.as_bool().expect("a bool")).ok_or("custom_tools")?;
            Constraint::ToolSupport { tools, custom_tools }
        }
        "ToolChoiceSupport" => {
            let f = fields(c, &["modes"])?;
            Constraint::ToolChoiceSupport { modes: strings(f.get("modes")).ok_or("modes")? }
        }
        other => return Err(format!("constraint type {other} has no mapping")),
    })
}

/// A voice constraint: the same provider, and exactly the reference's voices (ids and names) offered.
fn compare_voices(at: &str, provider: Provider, ours: &Constraint, reference: &Map<String, Value>) -> Vec<String> {
    if let Err(e) = fields(reference, &["voices"]) {
        return vec![format!("{at}: {e}")];
    }
    let Constraint::Voice { provider: voice_provider, voices: offered } = ours else {
        return vec![format!("{at}: a voice constraint in the reference, {} here", ours.kind())];
    };
    let mut diffs = Vec::new();
    if *voice_provider != provider {
        diffs.push(format!("{at}: voices of {voice_provider}, not {provider}"));
    }
    let want: BTreeSet<(String, String)> = reference["voices"]
        .as_array()
        .expect("voices are a list")
        .iter()
        .map(|v| (str_field(v, "id").to_string(), str_field(v, "name").to_string()))
        .collect();
    let got: BTreeSet<(String, String)> = voices(*voice_provider)
        .iter()
        .filter(|v| offered.as_ref().is_none_or(|ids| ids.contains(&v.id)))
        .map(|v| (v.id.clone(), v.name.clone()))
        .collect();
    if got != want {
        let missing: Vec<_> = want.difference(&got).collect();
        let extra: Vec<_> = got.difference(&want).collect();
        diffs.push(format!("{at}: voices differ; missing {missing:?}, extra {extra:?}"));
    }
    diffs
}

/// Every difference between one embedded model and its reference entry.
fn compare_model(ours: &Model, reference: &Value) -> Vec<String> {
    let at = format!("{} {}", ours.provider, ours.id);
    let mut diffs = Vec::new();
    if ours.display_name != str_field(reference, "display_name") {
        diffs.push(format!("{at}: display name {:?} vs {}", ours.display_name, reference["display_name"]));
    }
    let want_ops: BTreeMap<Modality, BTreeSet<Operation>> =
        serde_json::from_value(reference["operations"].clone()).expect("reference operations parse");
    if ours.operations != want_ops {
        diffs.push(format!("{at}: operations {:?} vs {want_ops:?}", ours.operations));
    }
    if Some(ours.streaming) != reference["streaming"].as_bool() {
        diffs.push(format!("{at}: streaming {} vs {}", ours.streaming, reference["streaming"]));
    }
    let want_inputs: BTreeSet<InputType> =
        serde_json::from_value(reference["optional_input_types"].clone()).expect("reference input types parse");
    if ours.optional_input_types() != want_inputs {
        diffs.push(format!("{at}: input types {:?} vs {want_inputs:?}", ours.optional_input_types()));
    }
    let want = reference["parameter_constraints"].as_object().expect("parameter_constraints is a map");
    let ours_names: BTreeSet<&String> = ours.constraints.keys().collect();
    let want_names: BTreeSet<&String> = want.keys().collect();
    if ours_names != want_names {
        diffs.push(format!("{at}: parameters {ours_names:?} vs {want_names:?}"));
    }
    for (name, c) in want {
        let Some(mine) = ours.constraints.get(name) else { continue };
        let c = c.as_object().expect("a constraint is an object");
        let at = format!("{at} `{name}`");
        if c["type"] == "VoiceConstraint" {
            diffs.extend(compare_voices(&at, ours.provider, mine, c));
            continue;
        }
        match expected_constraint(c) {
            Ok(expected) if &expected == mine => {}
            Ok(expected) => diffs.push(format!("{at}: {mine:?} vs the reference's {expected:?}")),
            Err(e) => diffs.push(format!("{at}: {e}")),
        }
    }
    diffs
}

#[test]
fn the_embedded_catalog_is_the_reference_registry() {
    let Some(reference) = reference_models() else { return };
    let ours = data::try_builtin_models().unwrap_or_else(|e| panic!("built-in catalog must parse: {e}"));

    // The same models in the same order: the first model of a modality is its default.
    let key = |m: &Value| (str_field(m, "provider").to_string(), str_field(m, "id").to_string());
    let want: Vec<(String, String)> = reference.iter().map(key).collect();
    let got: Vec<(String, String)> = ours.iter().map(|m| (m.provider.to_string(), m.id.clone())).collect();
    if got != want {
        let missing: Vec<_> = want.iter().filter(|k| !got.contains(k)).collect();
        let extra: Vec<_> = got.iter().filter(|k| !want.contains(k)).collect();
        let first_out_of_order = got.iter().zip(&want).position(|(a, b)| a != b);
        panic!(
            "the catalog's models differ from the reference's ({} here, {} there): missing {missing:?}, \
             extra {extra:?}, first difference in order at {first_out_of_order:?}",
            got.len(),
            want.len()
        );
    }

    let diffs: Vec<String> = ours.iter().zip(&reference).flat_map(|(m, r)| compare_model(m, r)).collect();
    assert!(
        diffs.is_empty(),
        "{} differences from the reference (regenerate with scripts/catalog-from-reference):\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn the_comparison_sees_a_changed_bound() {
    // The comparison itself must notice a perturbed constraint, or the test above proves nothing.
    let Some(reference) = reference_models() else { return };
    let ours = data::try_builtin_models().unwrap_or_else(|e| panic!("built-in catalog must parse: {e}"));
    let (i, mut model) = ours
        .iter()
        .enumerate()
        .find(|(_, m)| matches!(m.constraints.get("max_tokens"), Some(Constraint::Range { .. })))
        .map(|(i, m)| (i, m.clone()))
        .expect("a model with a max_tokens range");
    assert!(compare_model(&model, &reference[i]).is_empty());
    if let Some(Constraint::Range { max, .. }) = model.constraints.get_mut("max_tokens") {
        *max += 1.0;
    }
    let diffs = compare_model(&model, &reference[i]);
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert!(diffs[0].contains("`max_tokens`"), "{diffs:?}");
}

#[test]
fn a_missing_reference_fails_unless_skipped() {
    let missing = concat!(env!("CARGO_MANIFEST_DIR"), "/no-such-reference.json");
    if std::env::var_os("CELESTE_SKIP_REFERENCE").is_some() {
        assert!(reference_models_at(missing).is_none());
        return;
    }
    let panic = std::panic::catch_unwind(|| reference_models_at(missing)).expect_err("a missing file fails");
    let message = panic.downcast_ref::<String>().expect("a formatted message");
    assert!(message.contains("no-such-reference.json") && message.contains("CELESTE_SKIP_REFERENCE"), "{message}");
}
