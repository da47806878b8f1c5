//! Argument groups shared by several commands, declared once.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tierline_clock::{Clock, FileClock, FixedClock, SystemClock};
use tierline_events::{Codec, Timestamp};
use tierline_store::{EventStore, Store};

/// The event store.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct StoreArgs {
    /// Event store URL: `postgres://user:pass@host/db` (production) or `sqlite://path`
    /// (embedded, created if missing). The read model lives in the same database.
    #[arg(
        long,
        env = "TIERLINE_STORE",
        default_value = "sqlite://data/tierline.db"
    )]
    pub(crate) store: String,
}

impl StoreArgs {
    /// Opens the store (creating an SQLite file's folder) and brings its schema and the
    /// read model's up to date, once per process (the services then share it).
    pub(crate) async fn open(&self, codec: Codec) -> Result<Store> {
        let url = &self.store;
        if let Some(path) = url.strip_prefix("sqlite://")
            && let Some(dir) = std::path::Path::new(path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let shown = tierline_store::redact(url);
        let store = Store::connect(url, codec)
            .await
            .with_context(|| format!("connecting to {shown}"))?;
        store
            .migrate()
            .await
            .with_context(|| format!("migrating {shown}"))?;
        tierline_projections::Projections::of(&store)
            .migrate()
            .await
            .with_context(|| format!("creating the read model in {shown}"))?;
        Ok(store)
    }

    /// The URL without its password.
    pub(crate) fn shown(&self) -> String {
        tierline_store::redact(&self.store)
    }
}

/// The scoring policy.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct PolicyArgs {
    /// Scoring policy file (TOML); the defaults of docs/scoring.md when absent.
    #[arg(long, env = "TIERLINE_POLICY")]
    pub(crate) policy: Option<PathBuf>,
}

impl PolicyArgs {
    pub(crate) fn load(&self) -> Result<Arc<tierline_scoring::Policy>> {
        let policy = match &self.policy {
            None => tierline_scoring::Policy::default(),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading policy {}", p.display()))?;
                tierline_scoring::Policy::from_toml(&text)
                    .with_context(|| format!("policy {}", p.display()))?
            }
        };
        Ok(Arc::new(policy))
    }
}

/// What "now" is.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct ClockArgs {
    /// Evaluate as of noon (UTC) of this date instead of now (replays), `YYYY-MM-DD`.
    #[arg(long, env = "TIERLINE_PIN_DATE", conflicts_with = "clock_file")]
    pub(crate) pin_date: Option<String>,
    /// For tests: read "now" from this file (one RFC 3339 instant), re-read on every
    /// use, so a test moves the clock of every process sharing the file.
    #[arg(long, env = "TIERLINE_CLOCK_FILE", hide = true)]
    pub(crate) clock_file: Option<PathBuf>,
}

impl ClockArgs {
    /// The clock the store records appended events by: the test clock only (a pinned
    /// date evaluates as of a day; it does not change when events are recorded).
    pub(crate) fn recording_clock(&self) -> Option<tierline_clock::SharedClock> {
        self.clock_file
            .as_ref()
            .map(|path| tierline_clock::SharedClock(Arc::new(FileClock::new(path))))
    }

    pub(crate) fn clock(&self) -> Result<Arc<dyn Clock>> {
        if let Some(path) = &self.clock_file {
            tracing::warn!(path = %path.display(), "test clock: now is read from a file");
            return Ok(Arc::new(FileClock::new(path)));
        }
        match &self.pin_date {
            None => Ok(Arc::new(SystemClock)),
            Some(d) => {
                let t = Timestamp::parse_rfc3339(&format!("{d}T12:00:00Z"))
                    .with_context(|| format!("--pin-date {d} is not YYYY-MM-DD"))?;
                Ok(Arc::new(FixedClock(t)))
            }
        }
    }
}

/// The projector's service settings.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct ProjectorArgs {
    /// Most events per projection transaction (a live page is as small as what arrived;
    /// a backlog is projected in pages this large, each supplier written once per page).
    #[arg(long, env = "TIERLINE_PROJECT_BATCH", default_value_t = 100_000)]
    pub(crate) batch: usize,
    /// How long the projector's lease lasts unless renewed, in milliseconds: how soon a
    /// standby projector takes over after the active one died.
    #[arg(long, env = "TIERLINE_PROJECT_LEASE_MS", default_value_t = 5_000)]
    pub(crate) lease_ms: u64,
    /// How often an idle projector looks for new events, in milliseconds.
    #[arg(long, env = "TIERLINE_PROJECT_POLL_MS", default_value_t = 200)]
    pub(crate) poll_ms: u64,
    /// Address of the projector's /livez, /readyz and /metrics.
    #[arg(long, env = "TIERLINE_PROJECT_HTTP", default_value = "0.0.0.0:9102")]
    pub(crate) project_http: SocketAddr,
}

impl ProjectorArgs {
    pub(crate) fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms.max(100))
    }
}

/// The relay's service settings.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct RelayArgs {
    /// The alerts topic.
    #[arg(
        long,
        env = "TIERLINE_TOPIC_ALERTS",
        default_value = "srm.supplier-alerts.v1"
    )]
    pub(crate) alerts_topic: String,
    /// Address of the relay's /livez, /readyz and /metrics.
    #[arg(long, env = "TIERLINE_RELAY_HTTP", default_value = "0.0.0.0:9103")]
    pub(crate) relay_http: SocketAddr,
}

/// The read API's settings.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct ApiArgs {
    /// Address of the API and dashboard.
    #[arg(long, env = "TIERLINE_API_HTTP", default_value = "0.0.0.0:8080")]
    pub(crate) api_http: SocketAddr,
    /// Accepted API keys as SHA-256 hex digests, comma-separated (`tierline hash-key`
    /// prints one); keys themselves are never configured in clear here.
    #[arg(long, env = "TIERLINE_API_KEY_HASHES", value_delimiter = ',')]
    pub(crate) api_key_hashes: Vec<String>,
    /// A keys file (e.g. a mounted Secret): lines `name role [supplier_id] sha256hex`
    /// (roles viewer, editor, admin, supplier), or one v1 key in clear per line (a
    /// viewer named key-N); only digests are kept.
    #[arg(long, env = "TIERLINE_API_KEYS_FILE")]
    pub(crate) api_keys_file: Option<PathBuf>,
    /// Serve /v1 without authentication (local use only).
    #[arg(long, env = "TIERLINE_API_NO_AUTH")]
    pub(crate) no_auth: bool,
    /// Requests taking longer get a 503 (problem type `timeout`), in milliseconds.
    #[arg(long, env = "TIERLINE_API_TIMEOUT_MS", default_value_t = 10_000)]
    pub(crate) timeout_ms: u64,
    /// Do not cache responses (on PostgreSQL they are cached until the projector's next
    /// commit, which it announces with NOTIFY).
    #[arg(long, env = "TIERLINE_API_NO_CACHE")]
    pub(crate) no_cache: bool,
    /// Bytes of responses the cache holds at most (it starts afresh when full).
    #[arg(long, env = "TIERLINE_API_CACHE_MAX_BYTES", default_value_t = 64 << 20)]
    pub(crate) cache_max_bytes: usize,
    /// Largest page size (larger requests are lowered to it).
    #[arg(long, env = "TIERLINE_API_MAX_PAGE_SIZE", default_value_t = 500)]
    pub(crate) max_page_size: usize,
    /// The master key of the people directory (free text is sealed under per-person keys
    /// it wraps).
    #[command(flatten)]
    pub(crate) secrets: tierline_people::SecretsArgs,
}
