//! The people directory and what keeps personal data erasable (design.md "Decisions",
//! docs/operations.md "People and erasure").
//!
//! Events name people by id; names and contacts live in the directory (table `people`,
//! outside the event table). Free text people type through the API (comments, reasons,
//! notes, measures) is sealed under its author's key before it is stored
//! ([`People::seal_record`]); the API opens it on the way out ([`People::unseal_json`]).
//! Erasing a person deletes their entry and key ([`People::erase`]): their text reads
//! `[erased]` from then on, nothing in the event table changes, and the projections,
//! which never read free text, rebuild the same.
//!
//! Keys are wrapped under a master key read from a file or the environment
//! ([`SecretsArgs`]); without one they are stored as they are (still erasable).

mod crypto;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tierline_events::{Record, Sealed, Timestamp};
use tierline_store::{ErasureRow, PersonRow, Store, StoreError};

pub use crypto::{Key, open, seal};

/// What sealed text of an erased person (or one whose key is gone) reads as.
pub const ERASED: &str = "[erased]";

/// Errors of the directory and of sealing.
#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    /// The directory's database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// OpenSSL failed (out of entropy, or a broken build).
    #[error("cryptography failed: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
    /// The master key given is not 32 bytes (raw, 64 hex digits or base64).
    #[error("the secrets key must be 32 bytes: raw, 64 hex digits or base64")]
    BadMasterKey,
    /// A stored key does not unwrap: another master key, or none given.
    #[error(
        "the people directory's keys are wrapped under a master key this service was not given \
         (set --secrets-key-file or TIERLINE_SECRETS_KEY to the key the directory was written with)"
    )]
    WrongMasterKey,
    /// The master key file cannot be read.
    #[error("cannot read the secrets key file {path}: {source}")]
    KeyFile {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Where the master key comes from (flags with environment fallbacks; never logged).
#[derive(Clone, Default, clap::Args)]
pub struct SecretsArgs {
    /// File holding the 32-byte key that wraps the people directory's keys (raw, 64 hex
    /// digits or base64). Without it (and without --secrets-key) keys are stored unwrapped.
    #[arg(long, env = "TIERLINE_SECRETS_KEY_FILE", id = "secrets_key_file")]
    pub secrets_key_file: Option<std::path::PathBuf>,
    /// The key itself (64 hex digits or base64); prefer the file.
    #[arg(
        long,
        env = "TIERLINE_SECRETS_KEY",
        hide_env_values = true,
        id = "secrets_key"
    )]
    pub secrets_key: Option<String>,
}

impl std::fmt::Debug for SecretsArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsArgs")
            .field("secrets_key_file", &self.secrets_key_file)
            .field(
                "secrets_key",
                &self.secrets_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl SecretsArgs {
    /// The master key, if one is configured.
    pub fn load(&self) -> Result<Option<Key>, PeopleError> {
        if let Some(path) = &self.secrets_key_file {
            let bytes = std::fs::read(path).map_err(|source| PeopleError::KeyFile {
                path: path.display().to_string(),
                source,
            })?;
            return Key::parse(&bytes).map(Some);
        }
        // An empty value (an unset Secret key) means none.
        self.secrets_key
            .as_deref()
            .filter(|k| !k.trim().is_empty())
            .map(|k| Key::parse(k.as_bytes()))
            .transpose()
    }
}

/// One directory entry, without its key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Person {
    /// The id events name them by.
    pub person_id: String,
    /// Name, if given.
    pub name: Option<String>,
    /// Contact, if given.
    pub contact: Option<String>,
    /// When the entry was made.
    pub created_at: Timestamp,
}

/// How long a person's key is remembered for opening text: an erasure shows everywhere
/// within this (keys not found are never remembered, so new people show at once).
pub const KEY_CACHE: Duration = Duration::from_secs(1);

/// The directory on a store's database, with the master key.
#[derive(Debug, Clone)]
pub struct People {
    store: Store,
    master: Option<Key>,
    /// Keys found lately, by person, with when they were read ([`KEY_CACHE`]).
    keys: Arc<Mutex<HashMap<String, (Key, Instant)>>>,
}

impl People {
    /// The directory in `store`'s database (its tables come with the store's
    /// migrations); `master` wraps new keys and unwraps stored ones.
    pub fn new(store: Store, master: Option<Key>) -> People {
        People {
            store,
            master,
            keys: Arc::default(),
        }
    }

    /// Whether keys are wrapped under a master key.
    pub fn has_master_key(&self) -> bool {
        self.master.is_some()
    }

    fn key_of(&self, row: &PersonRow) -> Result<Key, PeopleError> {
        if !row.key_wrapped {
            return <[u8; 32]>::try_from(row.key_material.as_slice())
                .map(Key)
                .map_err(|_| StoreError::Corrupt(format!("person {}: key", row.person_id)).into());
        }
        match &self.master {
            Some(m) => crypto::unwrap(m, &row.person_id, &row.key_material),
            None => Err(PeopleError::WrongMasterKey),
        }
    }

    /// `person`'s entry, made (with a fresh key) if there is none.
    async fn entry(&self, person: &str, now: Timestamp) -> Result<PersonRow, PeopleError> {
        if let Some(row) = self.store.people(&[person]).await?.pop() {
            return Ok(row);
        }
        let key = Key::random()?;
        let (key_material, key_wrapped) = match &self.master {
            Some(m) => (crypto::wrap(m, person, &key)?, true),
            None => (key.0.to_vec(), false),
        };
        let row = PersonRow {
            person_id: person.to_owned(),
            name: None,
            contact: None,
            key_material,
            key_wrapped,
            created_at: now.0,
        };
        Ok(self.store.add_person(&row).await?)
    }

    /// Seals the record's free text under its author's key: the person it names
    /// (`assessor`, `decided_by`), else `caller` (the API key's name). Text already
    /// sealed is left as it is.
    pub async fn seal_record(
        &self,
        record: &mut Record,
        caller: &str,
        now: Timestamp,
    ) -> Result<(), PeopleError> {
        let author = record.author().unwrap_or(caller).to_owned();
        if record
            .free_texts_mut()
            .iter()
            .all(|t| Sealed::parse(t).is_some())
        {
            return Ok(());
        }
        let key = self.key_of(&self.entry(&author, now).await?)?;
        for text in record.free_texts_mut() {
            if Sealed::parse(text).is_none() {
                *text = seal(&key, &author, text)?;
            }
        }
        Ok(())
    }

    /// Opens every sealed text in `value` (any depth; a string that is one or ends with
    /// one): its text, or [`ERASED`] when its author's key is gone. Returns how many it
    /// opened or erased.
    pub async fn unseal_json(&self, value: &mut serde_json::Value) -> Result<usize, PeopleError> {
        let mut persons = BTreeSet::new();
        visit(value, &mut |s| {
            if let Some((_, p)) = sealed_in(s) {
                persons.insert(p.person.to_owned());
            }
        });
        if persons.is_empty() {
            return Ok(0);
        }
        let keys = self.keys_of(&persons).await?;
        let mut n = 0;
        visit_mut(value, &mut |s| {
            if let Some((at, p)) = sealed_in(s) {
                let text = keys
                    .get(p.person)
                    .and_then(|k| open(k, &p))
                    .unwrap_or_else(|| ERASED.to_owned());
                *s = format!("{}{text}", &s[..at]);
                n += 1;
            }
        });
        Ok(n)
    }

    /// The keys of `persons` that exist: remembered ones younger than [`KEY_CACHE`],
    /// the rest read in one query.
    async fn keys_of(
        &self,
        persons: &BTreeSet<String>,
    ) -> Result<HashMap<String, Key>, PeopleError> {
        let now = Instant::now();
        let mut keys = HashMap::new();
        {
            let cache = self.keys.lock().unwrap_or_else(|p| p.into_inner());
            for p in persons {
                if let Some((k, _)) = cache
                    .get(p)
                    .filter(|(_, at)| now.duration_since(*at) < KEY_CACHE)
                {
                    keys.insert(p.clone(), k.clone());
                }
            }
        }
        let missing: Vec<&str> = persons
            .iter()
            .filter(|p| !keys.contains_key(*p))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            return Ok(keys);
        }
        let mut fresh = Vec::new();
        for row in self.store.people(&missing).await? {
            fresh.push((row.person_id.clone(), self.key_of(&row)?));
        }
        let mut cache = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: a response names a handful of people; old entries go first.
        if cache.len() > 10_000 {
            cache.retain(|_, (_, at)| now.duration_since(*at) < KEY_CACHE);
        }
        for (p, k) in fresh {
            cache.insert(p.clone(), (k.clone(), now));
            keys.insert(p, k);
        }
        Ok(keys)
    }

    /// Adds or renames a person (their key is made with the entry).
    pub async fn set(
        &self,
        person: &str,
        name: Option<&str>,
        contact: Option<&str>,
        now: Timestamp,
    ) -> Result<(), PeopleError> {
        self.entry(person, now).await?;
        self.store.name_person(person, name, contact).await?;
        Ok(())
    }

    /// Every entry, by id (keys left out).
    pub async fn list(&self) -> Result<Vec<Person>, PeopleError> {
        Ok(self
            .store
            .all_people()
            .await?
            .into_iter()
            .map(|r| Person {
                person_id: r.person_id,
                name: r.name,
                contact: r.contact,
                created_at: Timestamp(r.created_at),
            })
            .collect())
    }

    /// Erases `person`: deletes their entry (name, contact, key) and logs who did it.
    /// Returns whether there was an entry. Idempotent (each call is logged).
    pub async fn erase(&self, person: &str, by: &str, now: Timestamp) -> Result<bool, PeopleError> {
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(person);
        Ok(self.store.erase_person(person, by, now).await?)
    }

    /// Every erasure, oldest first.
    pub async fn erasures(&self) -> Result<Vec<ErasureRow>, PeopleError> {
        Ok(self.store.erasures().await?)
    }
}

/// A sealed text that is, or ends, `s` (a derived text such as the gate's
/// `suspended: {reason}` ends with the sealed reason), and where it starts.
fn sealed_in(s: &str) -> Option<(usize, Sealed<'_>)> {
    let at = s.find(tierline_events::SEALED_PREFIX)?;
    Sealed::parse(&s[at..]).map(|p| (at, p))
}

fn visit(v: &serde_json::Value, f: &mut impl FnMut(&str)) {
    match v {
        serde_json::Value::String(s) => f(s),
        serde_json::Value::Array(a) => a.iter().for_each(|x| visit(x, f)),
        serde_json::Value::Object(o) => o.values().for_each(|x| visit(x, f)),
        _ => {}
    }
}

fn visit_mut(v: &mut serde_json::Value, f: &mut impl FnMut(&mut String)) {
    match v {
        serde_json::Value::String(s) => f(s),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| visit_mut(x, f)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|x| visit_mut(x, f)),
        _ => {}
    }
}
