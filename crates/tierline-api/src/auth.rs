//! API keys: bearer tokens, kept only as SHA-256 digests.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::problem::Problem;

/// The keys that may call `/v1/*`, or none needed (local use).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeys {
    digests: Vec<[u8; 32]>,
    disabled: bool,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys")
            .field("keys", &self.digests.len())
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// A key digest that is not 64 hex digits.
#[derive(Debug, thiserror::Error)]
#[error(
    "API key hash #{index} is not a SHA-256 digest (64 hex digits, optionally prefixed sha256:)"
)]
pub struct BadKeyHash {
    /// 1-based position in the list.
    pub index: usize,
}

/// The SHA-256 of a key, in hex (what `--api-key-hashes` takes).
pub fn hash_key(key: &str) -> String {
    Sha256::digest(key.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl ApiKeys {
    /// No authentication at all (local use only).
    pub fn disabled() -> ApiKeys {
        ApiKeys {
            digests: Vec::new(),
            disabled: true,
        }
    }

    /// Keys given in clear (e.g. read from a mounted secret); only digests are kept.
    pub fn from_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> ApiKeys {
        ApiKeys {
            digests: keys
                .into_iter()
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| Sha256::digest(k.as_bytes()).into())
                .collect(),
            disabled: false,
        }
    }

    /// Keys given as hex SHA-256 digests.
    pub fn from_hashes<'a>(
        hashes: impl IntoIterator<Item = &'a str>,
    ) -> Result<ApiKeys, BadKeyHash> {
        let mut digests = Vec::new();
        for (n, h) in hashes.into_iter().enumerate() {
            let h = h.trim();
            let h = h.strip_prefix("sha256:").unwrap_or(h);
            let mut d = [0u8; 32];
            if h.len() != 64 {
                return Err(BadKeyHash { index: n + 1 });
            }
            for (i, byte) in d.iter_mut().enumerate() {
                *byte = u8::from_str_radix(&h[2 * i..2 * i + 2], 16)
                    .map_err(|_| BadKeyHash { index: n + 1 })?;
            }
            digests.push(d);
        }
        Ok(ApiKeys {
            digests,
            disabled: false,
        })
    }

    /// Adds the keys of `other`.
    pub fn extend(&mut self, other: ApiKeys) {
        self.digests.extend(other.digests);
    }

    /// Whether no key is needed.
    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    /// How many keys are configured.
    pub fn len(&self) -> usize {
        self.digests.len()
    }

    /// Whether no key is configured.
    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    fn accepts(&self, token: &str) -> bool {
        let d: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Compare every digest fully: no early exit on the first differing byte.
        self.digests.iter().fold(false, |found, k| {
            found
                | (k.iter()
                    .zip(d.iter())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0)
        })
    }
}

/// The token of an `Authorization` value of scheme `Bearer` (schemes are
/// case-insensitive, RFC 9110 11.1).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Middleware on `/v1/*`: a valid `Authorization: Bearer <key>` or 401.
pub(crate) async fn require_key(
    State(keys): State<Arc<ApiKeys>>,
    req: Request,
    next: Next,
) -> Response {
    if keys.disabled {
        return next.run(req).await;
    }
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    match token {
        None => Problem::unauthorized("an API key is required: Authorization: Bearer <key>")
            .into_response(),
        Some(t) if keys.accepts(t) => next.run(req).await,
        Some(_) => Problem::unauthorized("the API key is not valid").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for v in ["Bearer k", "bearer k", "BEARER k", "bEaReR   k "] {
            assert_eq!(bearer_token(v), Some("k"), "{v}");
        }
        assert_eq!(bearer_token("Basic k"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearerk"), None);
    }

    #[test]
    fn keys_are_checked_by_digest() {
        let k = ApiKeys::from_keys(["s3cret", "other"]);
        assert!(k.accepts("s3cret") && k.accepts("other") && !k.accepts("s3cre"));
        let h = ApiKeys::from_hashes([format!("sha256:{}", hash_key("s3cret")).as_str()]).unwrap();
        assert!(h.accepts("s3cret") && !h.accepts("x"));
        assert_eq!(ApiKeys::from_hashes(["abc"]).unwrap_err().index, 1);
        assert!(!format!("{k:?}").contains("s3cret"));
    }
}
