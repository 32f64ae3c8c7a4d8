//! Tests of the catalog: constraint contracts, registry semantics, voices and the embedded data.

mod constraints;
mod data;
mod registry;
