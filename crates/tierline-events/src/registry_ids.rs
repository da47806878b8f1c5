//! Writer schemas learned from a Schema Registry, by the registry's ids. With a
//! registry configured, a Confluent id means what the registry says, never what the
//! shipped catalog says (the catalog's ids 1001 on may collide with the registry's).
//! The table is filled by the I/O edge (`tierline-registry`); decoding only reads it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, PoisonError, RwLock};

use crate::catalog::{Catalog, Entry};
use crate::error::CatalogError;

/// What a registry id resolved to.
#[derive(Debug)]
pub(crate) enum Learned {
    /// A usable writer schema. `foreign` when it is none of the catalog's versions:
    /// such events are stored re-encoded with the latest catalog schema.
    Schema { entry: Entry, foreign: bool },
    /// The registry does not know the id.
    Unknown,
    /// The registry's schema cannot be read as Tierline's reader schema.
    Rejected(String),
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<u32, Arc<Learned>>,
    /// Insertion order, for eviction when full.
    order: VecDeque<u32>,
}

/// A bounded table from registry id to resolved writer schema, shared by every clone
/// of a [`Codec`](crate::Codec) it is attached to. When full, the oldest id is
/// forgotten (and fetched again if it comes back).
#[derive(Debug)]
pub struct RegistryIds {
    inner: RwLock<Inner>,
    capacity: usize,
    catalog: Arc<Catalog>,
}

impl RegistryIds {
    /// An empty table holding at most `capacity` ids (at least one), resolving to the
    /// reader schemas of `catalog`.
    pub fn new(catalog: Arc<Catalog>, capacity: usize) -> Self {
        RegistryIds {
            inner: RwLock::new(Inner::default()),
            capacity: capacity.max(1),
            catalog,
        }
    }

    /// Whether the id has been resolved (to a schema, or to a rejection).
    pub fn contains(&self, id: u32) -> bool {
        self.read().map.contains_key(&id)
    }

    /// How many ids are held.
    pub fn len(&self) -> usize {
        self.read().map.len()
    }

    /// Whether no id is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records the schema the registry holds under `id`. A schema that is one of the
    /// catalog's versions (same Parsing Canonical Form) decodes exactly as the catalog's;
    /// another version of a known record is compiled against the reader schema. An
    /// unusable schema is remembered as rejected (its messages are dead-lettered) and
    /// its error returned.
    pub fn learn(&self, id: u32, schema_json: &str) -> Result<(), CatalogError> {
        let (learned, result) = match self.catalog.resolve_writer(schema_json) {
            Ok((entry, foreign)) => (Learned::Schema { entry, foreign }, Ok(())),
            Err(e) => (Learned::Rejected(e.to_string()), Err(e)),
        };
        self.insert(id, learned);
        result
    }

    /// Records that the registry has no schema under `id`.
    pub fn learn_unknown(&self, id: u32) {
        self.insert(id, Learned::Unknown);
    }

    /// Records that the registry's schema under `id` cannot be used, and why.
    pub fn learn_rejected(&self, id: u32, reason: String) {
        self.insert(id, Learned::Rejected(reason));
    }

    pub(crate) fn get(&self, id: u32) -> Option<Arc<Learned>> {
        self.read().map.get(&id).cloned()
    }

    fn insert(&self, id: u32, learned: Learned) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if inner.map.insert(id, Arc::new(learned)).is_none() {
            inner.order.push_back(id);
        }
        while inner.map.len() > self.capacity {
            match inner.order.pop_front() {
                Some(old) => {
                    inner.map.remove(&old);
                }
                None => break,
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        // Every update is a whole insert or removal: a poisoned lock holds no half-state.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }
}
