//! The registry flags shared by `ingest`, `relay`, `run` and `schemas register`, each
//! also an environment variable. Secrets are hidden from `--help` and from `Debug`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::RegistryError;
use crate::client::{Auth, RegistryClient};

/// Schema Registry flags.
#[derive(Clone, Args, Default)]
pub struct RegistryArgs {
    /// Confluent-compatible Schema Registry (its API root, e.g. `https://registry:8081`
    /// or Apicurio's `http://host:8080/apis/ccompat/v7`). When set, every
    /// Confluent-framed message's schema id is resolved through it, never through the
    /// shipped catalog.
    #[arg(
        id = "schema_registry_url",
        long = "schema-registry-url",
        env = "TIERLINE_SCHEMA_REGISTRY_URL"
    )]
    pub url: Option<String>,
    /// User name for basic authentication (Confluent Cloud: the API key).
    #[arg(
        id = "schema_registry_username",
        long = "schema-registry-username",
        env = "TIERLINE_SCHEMA_REGISTRY_USERNAME"
    )]
    pub username: Option<String>,
    /// Password for basic authentication (prefer the environment or a file).
    #[arg(
        id = "schema_registry_password",
        long = "schema-registry-password",
        env = "TIERLINE_SCHEMA_REGISTRY_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,
    /// File holding that password (e.g. a mounted Kubernetes secret).
    #[arg(
        id = "schema_registry_password_file",
        long = "schema-registry-password-file",
        env = "TIERLINE_SCHEMA_REGISTRY_PASSWORD_FILE"
    )]
    pub password_file: Option<PathBuf>,
    /// Bearer token (OAuth access token), instead of basic authentication.
    #[arg(
        id = "schema_registry_token",
        long = "schema-registry-token",
        env = "TIERLINE_SCHEMA_REGISTRY_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// CA certificate(s) to verify an https registry, PEM (default: the system's).
    #[arg(
        id = "schema_registry_ca",
        long = "schema-registry-ca",
        env = "TIERLINE_SCHEMA_REGISTRY_CA"
    )]
    pub ca: Option<PathBuf>,
    /// Most registry ids held resolved in memory.
    #[arg(
        id = "schema_registry_cache",
        long = "schema-registry-cache",
        env = "TIERLINE_SCHEMA_REGISTRY_CACHE",
        default_value_t = 10_000
    )]
    pub cache: usize,
    /// Timeout of one registry request, in milliseconds.
    #[arg(
        id = "schema_registry_timeout_ms",
        long = "schema-registry-timeout-ms",
        env = "TIERLINE_SCHEMA_REGISTRY_TIMEOUT_MS",
        default_value_t = 5_000
    )]
    pub timeout_ms: u64,
    /// Relay: register the outbound schemas (subjects by record name) and publish with
    /// the registry's ids, so consumers with standard deserializers read them.
    #[arg(
        id = "schema_registry_register",
        long = "schema-registry-register",
        env = "TIERLINE_SCHEMA_REGISTRY_REGISTER"
    )]
    pub register: bool,
}

impl std::fmt::Debug for RegistryArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryArgs")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("password_file", &self.password_file)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("ca", &self.ca)
            .field("cache", &self.cache)
            .field("register", &self.register)
            .finish_non_exhaustive()
    }
}

impl RegistryArgs {
    /// Flags for a registry at `url` with no credentials (tests, tools).
    pub fn at(url: impl Into<String>) -> Self {
        RegistryArgs {
            url: Some(url.into()),
            cache: 10_000,
            timeout_ms: 5_000,
            ..RegistryArgs::default()
        }
    }

    /// The client these flags describe, or `None` without `--schema-registry-url`.
    pub fn client(&self) -> Result<Option<RegistryClient>, RegistryError> {
        let Some(url) = &self.url else {
            return Ok(None);
        };
        let password = match (&self.password, &self.password_file) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .map_err(|source| RegistryError::File {
                        path: path.clone(),
                        source,
                    })?
                    .trim_end()
                    .to_owned(),
            ),
            (None, None) => None,
        };
        let auth = match (&self.token, &self.username, password) {
            (Some(token), None, None) => Auth::Bearer(token.clone()),
            (None, Some(username), Some(password)) => Auth::Basic {
                username: username.clone(),
                password,
            },
            (None, None, None) => Auth::None,
            _ => return Err(RegistryError::Credentials),
        };
        let ca = match &self.ca {
            Some(path) => Some(std::fs::read(path).map_err(|source| RegistryError::File {
                path: path.clone(),
                source,
            })?),
            None => None,
        };
        RegistryClient::new(
            url,
            auth,
            ca.as_deref(),
            Duration::from_millis(self.timeout_ms.max(1)),
        )
        .map(Some)
    }
}
