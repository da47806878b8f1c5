//! Tierline's event contract (`docs/events.md`) in code: one Rust type per
//! Avro record, the schema catalog shipped in `schemas/`, both wire framings,
//! writer-to-reader schema resolution compiled once per writer schema, and every
//! field rule. Nothing here does I/O.
//!
//! ```
//! use tierline_events::{Codec, Framing};
//! let codec = Codec::default();
//! # let record = tierline_events::sample::goods_received();
//! let bytes = codec.to_bytes(&record, Framing::Confluent).unwrap();
//! assert_eq!(codec.decode(&bytes).unwrap().record, record);
//! ```

mod binary;
mod catalog;
mod codec;
mod enums;
mod error;
mod plan;
mod records;
mod registry_ids;
pub mod sample;
mod schema;
mod sealed;
mod validate;
mod value;

pub use catalog::{Catalog, SchemaInfo};
pub use codec::{CeHeaders, Codec, DEFAULT_MAX_MESSAGE_BYTES, Decoded, Framing, Meta};
pub use error::{CatalogError, DatumError, DecodeError, Rule, ValidationError};
pub use records::*;
pub use registry_ids::RegistryIds;
pub use sealed::{SEALED_MAX_CHARS, SEALED_PREFIX, Sealed};
pub use validate::{is_supplier_id, validate};
pub use value::{Date, Timestamp};
