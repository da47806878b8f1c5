//! Producers that serialise through a Schema Registry (Confluent's serializers,
//! Karapace, Apicurio) frame messages with the registry's ids, not the ids of
//! Tierline's shipped catalog. This crate is the I/O edge that resolves them: it
//! fetches the writer schema of an id (`GET /schemas/ids/{id}`) and records it in the
//! codec's [`RegistryIds`] table, where decoding finds it; it registers Tierline's own
//! schemas for the relay and for `tierline schemas register`.

mod args;
mod client;
#[cfg(feature = "testing")]
pub mod testing;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

pub use args::RegistryArgs;
pub use client::{Auth, Fetched, RegistryClient};
use tierline_events::{Catalog, RegistryIds};
use tracing::{info, warn};

/// Errors of the registry client.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The URL is not usable.
    #[error("invalid schema registry URL {0}")]
    Url(String),
    /// Credentials given in a combination that means nothing.
    #[error(
        "schema registry credentials: give --schema-registry-username with a password, or --schema-registry-token, not both"
    )]
    Credentials,
    /// A password or CA file could not be read.
    #[error("reading {path}: {source}")]
    File {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP client could not be built (e.g. an unreadable CA certificate).
    #[error("schema registry client: {0}")]
    Client(reqwest::Error),
    /// The registry did not answer (refused, timed out, TLS failed).
    #[error("schema registry unreachable at {url}: {source}")]
    Unreachable {
        /// The registry, without credentials.
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// The registry answered with an error status.
    #[error("schema registry answered {status} to {what}: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The request.
        what: String,
        /// The start of its answer.
        body: String,
    },
    /// An outbound message names a schema id the shipped catalog does not hold.
    #[error("no schema with id {0} in the shipped catalog")]
    UnknownCatalogId(u32),
    /// The registry's answer is not what its API says.
    #[error("schema registry's answer to {what} is unreadable: {detail}")]
    BadAnswer {
        /// The request.
        what: String,
        /// The parse error.
        detail: String,
    },
}

impl RegistryError {
    /// Not the message's fault: try again later (a message is never dead-lettered for
    /// it). Everything but a client error status (4xx) and an unusable configuration.
    pub fn is_retriable(&self) -> bool {
        match self {
            RegistryError::Unreachable { .. } | RegistryError::BadAnswer { .. } => true,
            RegistryError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// What [`Resolver::ensure`] did for an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Already resolved: no request.
    Cached,
    /// Fetched and usable.
    Fetched,
    /// The registry does not hold the id: its messages are dead-lettered.
    Missing,
    /// The registry's schema cannot be read as Tierline's: its messages are
    /// dead-lettered with this reason.
    Rejected(String),
}

/// Fills a codec's registry id table from a registry.
#[derive(Debug, Clone)]
pub struct Resolver {
    client: RegistryClient,
    ids: Arc<RegistryIds>,
}

impl Resolver {
    /// Resolves ids through `client` into `ids` (from
    /// [`Codec::registry_ids`](tierline_events::Codec::registry_ids)).
    pub fn new(client: RegistryClient, ids: Arc<RegistryIds>) -> Self {
        Resolver { client, ids }
    }

    /// Whether `id` is resolved already (no request, no await: the per-message check).
    pub fn holds(&self, id: u32) -> bool {
        self.ids.contains(id)
    }

    /// The client.
    pub fn client(&self) -> &RegistryClient {
        &self.client
    }

    /// Makes sure `id` is in the table: fetched once, then answered from memory. A
    /// registry that cannot answer is an error (retry later); an unknown id or an
    /// unusable schema is remembered, and its messages are dead-lettered by the codec.
    pub async fn ensure(&self, id: u32) -> Result<Resolution, RegistryError> {
        if self.ids.contains(id) {
            return Ok(Resolution::Cached);
        }
        let started = Instant::now();
        let fetched = self.client.schema_by_id(id).await?;
        let resolution = match fetched {
            Fetched::Missing => {
                self.ids.learn_unknown(id);
                Resolution::Missing
            }
            Fetched::Schema { schema_type, .. } if !schema_type.eq_ignore_ascii_case("AVRO") => {
                let reason = format!("it is a {schema_type} schema, not Avro");
                self.ids.learn_rejected(id, reason.clone());
                Resolution::Rejected(reason)
            }
            Fetched::Schema { json, .. } => match self.ids.learn(id, &json) {
                Ok(()) => Resolution::Fetched,
                Err(e) => Resolution::Rejected(e.to_string()),
            },
        };
        match &resolution {
            Resolution::Rejected(reason) => {
                warn!(id, %reason, "registry schema rejected: its messages go to the dead-letter topic");
            }
            other => {
                info!(id, outcome = ?other, elapsed = ?started.elapsed(), "registry id resolved")
            }
        }
        Ok(resolution)
    }
}

/// One schema registered by [`register_catalog`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The subject (the record's full name).
    pub subject: String,
    /// The catalog's version of the record's schema.
    pub version: u32,
    /// The catalog's own id.
    pub catalog_id: Option<u32>,
    /// The registry's id.
    pub registry_id: u32,
}

/// Registers every schema of the catalog, each record's versions in order, under the
/// subject of its record's full name (Confluent's `RecordNameStrategy`), so a producer
/// can serialise with `auto.register.schemas` off. Idempotent: a schema already
/// registered gets its existing id back.
pub async fn register_catalog(
    client: &RegistryClient,
    catalog: &Catalog,
) -> Result<Vec<Registered>, RegistryError> {
    let mut schemas: Vec<_> = catalog.schemas().collect();
    schemas.sort_by_key(|s| (s.kind.full_name(), s.version));
    let mut out = Vec::with_capacity(schemas.len());
    for s in schemas {
        let subject = s.kind.full_name().to_owned();
        let registry_id = client.register(&subject, &s.json).await?;
        out.push(Registered {
            subject,
            version: s.version,
            catalog_id: s.id,
            registry_id,
        });
    }
    Ok(out)
}

/// The relay's map from catalog ids to registry ids: each outbound schema is
/// registered (subject by record name) the first time a message of it is published.
#[derive(Debug, Clone)]
pub struct OutboundIds {
    client: RegistryClient,
    catalog: Arc<Catalog>,
    known: Arc<Mutex<HashMap<u32, u32>>>,
}

impl OutboundIds {
    /// Registers into `client` the schemas of `catalog` as they are needed.
    pub fn new(client: RegistryClient, catalog: Arc<Catalog>) -> Self {
        OutboundIds {
            client,
            catalog,
            known: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The registry id of the catalog schema `catalog_id`, registering it once.
    pub async fn registry_id(&self, catalog_id: u32) -> Result<u32, RegistryError> {
        if let Some(id) = self.lock().get(&catalog_id) {
            return Ok(*id);
        }
        let info = self
            .catalog
            .schema_by_id(catalog_id)
            .ok_or(RegistryError::UnknownCatalogId(catalog_id))?;
        let id = self
            .client
            .register(info.kind.full_name(), &info.json)
            .await?;
        info!(
            subject = info.kind.full_name(),
            catalog_id,
            registry_id = id,
            "outbound schema registered"
        );
        self.lock().insert(catalog_id, id);
        Ok(id)
    }

    /// `value` with its Confluent header's catalog id replaced by the registry's
    /// (other framings are returned as they are).
    pub async fn reframe(&self, mut value: Vec<u8>) -> Result<Vec<u8>, RegistryError> {
        if let Some(catalog_id) = tierline_events::Codec::confluent_id(&value) {
            let id = self.registry_id(catalog_id).await?;
            value[1..5].copy_from_slice(&id.to_be_bytes());
        }
        Ok(value)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u32, u32>> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
