//! The parity table: every (modality, operation, provider) of the catalog with whether this build
//! serves it, written into `ARCHITECTURE.md` and kept true by a test that rebuilds it from the
//! catalog and the dispatch tables.

use std::collections::BTreeMap;

use crate::types::enums::{Modality, Operation, Provider};

/// Whether this build can send `operation` of `modality` for `provider`'s models.
pub(crate) fn served(modality: Modality, operation: Operation, provider: Provider, model: &str) -> bool {
    match modality {
        Modality::Text => crate::providers::route_for(provider, modality).is_some_and(|r| r.wire.is_implemented()),
        Modality::Images => {
            crate::providers::image_api(provider).is_some_and(|api| api.path(operation, model).is_some())
        }
        Modality::Videos => {
            crate::providers::video_api(provider, model).is_some_and(|api| api.path(operation, model).is_some())
        }
        Modality::Embeddings => crate::providers::embeddings_api(provider).is_some(),
        Modality::Decision => crate::providers::decision_api(provider).is_some(),
        Modality::Live => crate::wire::live::LiveApi::of(provider).is_some(),
        Modality::Segmentation => crate::providers::segmentation_api(provider).is_some(),
        _ => false,
    }
}

/// The table as Markdown rows: `| modality | operation | provider | models | served |`, in catalog
/// order of modality, then operation and provider names.
pub(crate) fn table() -> String {
    let mut rows: BTreeMap<(usize, String, String), (usize, usize)> = BTreeMap::new();
    // The built-in catalog, not the registry: tests elsewhere register models of their own.
    for m in crate::catalog::data::builtin_models() {
        for (modality, ops) in &m.operations {
            let rank = crate::catalog::data::MODALITY_ORDER.iter().position(|x| x == modality).unwrap_or(usize::MAX);
            for op in ops {
                let key = (rank, format!("{modality} {op}"), m.provider.to_string());
                let e = rows.entry(key).or_insert((0, 0));
                e.0 += 1;
                if served(*modality, *op, m.provider, &m.id) {
                    e.1 += 1;
                }
            }
        }
    }
    let mut out = String::from("| modality and operation | provider | models | served here |\n|---|---|---|---|\n");
    for ((_, what, provider), (models, served)) in rows {
        let state = match (served, models) {
            (0, _) => "not yet".to_string(),
            (s, m) if s == m => "yes".to_string(),
            (s, m) => format!("{s} of {m}"),
        };
        out.push_str(&format!("| {what} | {provider} | {models} | {state} |\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    /// `ARCHITECTURE.md` holds the table between its markers, exactly as the catalog and the dispatch
    /// tables give it (with every provider compiled in).
    #[cfg_attr(not(feature = "all-providers"), ignore = "needs every provider compiled in")]
    #[test]
    fn the_parity_table_in_architecture_md_is_true() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ARCHITECTURE.md");
        let doc = std::fs::read_to_string(path).expect("ARCHITECTURE.md beside the workspace");
        let (start, end) = ("<!-- parity:start -->\n", "<!-- parity:end -->");
        let from = doc.find(start).expect("the parity start marker") + start.len();
        let to = doc[from..].find(end).expect("the parity end marker") + from;
        let expected = super::table();
        assert!(doc[from..to] == expected, "ARCHITECTURE.md's parity table is stale; replace it with:\n{expected}");
    }
}
