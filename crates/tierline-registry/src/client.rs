//! The HTTP client of a Confluent-compatible Schema Registry: `GET /schemas/ids/{id}`
//! and `POST /subjects/{subject}/versions`, with basic or bearer authentication and
//! TLS (the system's roots, or a CA file).

use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::Deserialize;
use tracing::{debug, instrument};

use crate::RegistryError;

/// Confluent's content type for request bodies.
const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// How to authenticate to the registry.
#[derive(Clone, Default)]
pub enum Auth {
    /// No credentials.
    #[default]
    None,
    /// HTTP basic authentication.
    Basic {
        /// User name (Confluent Cloud: the API key).
        username: String,
        /// Password (Confluent Cloud: the API secret).
        password: String,
    },
    /// `Authorization: Bearer` with this token (an OAuth access token).
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

/// A schema the registry holds under an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The schema text and its type (`AVRO` when the registry omits it, as Confluent's
    /// does for Avro).
    Schema {
        /// The schema, as registered.
        json: String,
        /// `AVRO`, `PROTOBUF`, `JSON`.
        schema_type: String,
    },
    /// The registry holds no schema under this id (HTTP 404).
    Missing,
}

#[derive(Deserialize)]
struct SchemaById {
    schema: String,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
}

#[derive(Deserialize)]
struct RegisteredId {
    id: u32,
}

/// A client of one registry. Cheap to clone (one connection pool).
#[derive(Clone)]
pub struct RegistryClient {
    http: reqwest::Client,
    base: Url,
    auth: Auth,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("url", &self.url())
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl RegistryClient {
    /// A client of the registry at `url` (its Confluent API root, e.g.
    /// `https://registry:8081` or Apicurio's `http://host:8080/apis/ccompat/v7`).
    /// `ca_pem`: extra trusted root certificates, PEM.
    pub fn new(
        url: &str,
        auth: Auth,
        ca_pem: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Self, RegistryError> {
        let mut base = Url::parse(url).map_err(|e| RegistryError::Url(format!("{url}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(RegistryError::Url(format!(
                "{}: the scheme must be http or https",
                redacted(&base)
            )));
        }
        // Credentials in the URL become basic authentication (and never reach a log).
        let auth = match (auth, base.username(), base.password()) {
            (Auth::None, user, Some(pass)) if !user.is_empty() => Auth::Basic {
                username: user.to_owned(),
                password: pass.to_owned(),
            },
            (auth, ..) => auth,
        };
        let _ = base.set_username("");
        let _ = base.set_password(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60));
        if let Some(pem) = ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem).map_err(RegistryError::Client)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        Ok(RegistryClient {
            http: builder.build().map_err(RegistryError::Client)?,
            base,
            auth,
        })
    }

    /// The registry's URL, without credentials.
    pub fn url(&self) -> String {
        redacted(&self.base)
    }

    fn endpoint(&self, path: &str) -> Result<Url, RegistryError> {
        self.base
            .join(path)
            .map_err(|e| RegistryError::Url(format!("{}{path}: {e}", self.url())))
    }

    fn authorised(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.auth {
            Auth::None => req,
            Auth::Basic { username, password } => req.basic_auth(username, Some(password)),
            Auth::Bearer(token) => req.bearer_auth(token),
        }
    }

    /// The schema registered under `id`. A registry that cannot be reached or answers
    /// with a server error is an error (retriable); a 404 is [`Fetched::Missing`].
    #[instrument(skip(self), err(level = "warn"))]
    pub async fn schema_by_id(&self, id: u32) -> Result<Fetched, RegistryError> {
        let what = format!("schema id {id}");
        let url = self.endpoint(&format!("schemas/ids/{id}"))?;
        let resp = self
            .authorised(self.http.get(url))
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        if resp.status() == StatusCode::NOT_FOUND {
            debug!(id, "the registry does not hold this id");
            return Ok(Fetched::Missing);
        }
        let body: SchemaById = self.answer(resp, &what).await?;
        Ok(Fetched::Schema {
            json: body.schema,
            schema_type: body.schema_type.unwrap_or_else(|| "AVRO".into()),
        })
    }

    /// Registers an Avro schema under `subject` (or finds it registered) and returns
    /// its id.
    #[instrument(skip(self, schema_json), err(level = "warn"))]
    pub async fn register(&self, subject: &str, schema_json: &str) -> Result<u32, RegistryError> {
        let what = format!("registering under subject {subject}");
        let url = self.endpoint(&format!("subjects/{subject}/versions"))?;
        let body = serde_json::json!({ "schema": schema_json, "schemaType": "AVRO" });
        let resp = self
            .authorised(self.http.post(url))
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let answer: RegisteredId = self.answer(resp, &what).await?;
        Ok(answer.id)
    }

    fn unreachable(&self, source: reqwest::Error) -> RegistryError {
        RegistryError::Unreachable {
            url: self.url(),
            source,
        }
    }

    async fn answer<T: serde::de::DeserializeOwned>(
        &self,
        resp: reqwest::Response,
        what: &str,
    ) -> Result<T, RegistryError> {
        let status = resp.status();
        let text = resp.text().await.map_err(|e| self.unreachable(e))?;
        if !status.is_success() {
            return Err(RegistryError::Status {
                status: status.as_u16(),
                what: what.to_owned(),
                body: text.chars().take(300).collect(),
            });
        }
        serde_json::from_str(&text).map_err(|e| RegistryError::BadAnswer {
            what: what.to_owned(),
            detail: e.to_string(),
        })
    }
}

/// `url` without user name and password.
fn redacted(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}
