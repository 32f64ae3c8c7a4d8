//! Tests of the catalog: constraint contracts, registry semantics, voices, the embedded data and its
//! agreement with the reference registry.

mod constraints;
mod data;
mod reference;
mod registry;
