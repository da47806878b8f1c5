//! API keys (docs/api.md "Keys and roles"): bearer tokens kept only as SHA-256
//! digests, each with a name, a role and an optional supplier scope, from the flags or a
//! keys file.

use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Every `GET` but subscriptions, deliveries and keys.
    Viewer,
    /// Viewer, plus assessments, certificates, violations, risk signals, categories,
    /// plans, acknowledgements on a supplier's behalf.
    Editor,
    /// Editor, plus status decisions, webhook subscriptions, listing keys.
    Admin,
    /// One supplier's own results, progress on its plans, answers to its evaluations.
    Supplier,
}

impl Role {
    /// By name (`viewer`, `editor`, `admin`, `supplier`).
    pub fn from_name(s: &str) -> Option<Role> {
        Some(match s {
            "viewer" => Role::Viewer,
            "editor" => Role::Editor,
            "admin" => Role::Admin,
            "supplier" => Role::Supplier,
            _ => return None,
        })
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
            Role::Supplier => "supplier",
        }
    }
}

/// Who is calling: the key's name (recorded as `source` = `api:{name}` on every write),
/// its role, and for a supplier key its supplier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Identity {
    /// The key's name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The supplier a `supplier` key is scoped to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier_id: Option<String>,
}

impl Identity {
    /// The audit trail of a write: `api:{key name}`.
    pub fn source(&self) -> String {
        format!("api:{}", self.name)
    }
}

#[derive(Clone, PartialEq, Eq)]
struct Key {
    identity: Identity,
    digest: [u8; 32],
}

/// The keys that may call `/v1/*`, or none needed (`--no-auth`: every call is an admin
/// named `anonymous`).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeys {
    keys: Vec<Key>,
    disabled: bool,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys")
            .field("keys", &self.keys.len())
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

/// A line of a keys file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("keys file line {line}: {problem}")]
pub struct BadKeyLine {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong (never the key or its digest).
    pub problem: String,
}

/// The SHA-256 of a key, in hex (what `--api-key-hashes` and keys files take).
pub fn hash_key(key: &str) -> String {
    Sha256::digest(key.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn parse_digest(h: &str) -> Option<[u8; 32]> {
    let h = h.trim();
    let h = h.strip_prefix("sha256:").unwrap_or(h);
    if h.len() != 64 {
        return None;
    }
    let mut d = [0u8; 32];
    for (i, byte) in d.iter_mut().enumerate() {
        *byte = u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(d)
}

/// A key name: 1..64 of `[A-Za-z0-9._:-]` (it becomes part of `source`).
fn valid_name(name: &str) -> bool {
    tierline_events::is_supplier_id(name)
}

impl ApiKeys {
    /// No authentication at all (local use only): every call is an admin `anonymous`.
    pub fn disabled() -> ApiKeys {
        ApiKeys {
            keys: Vec::new(),
            disabled: true,
        }
    }

    fn viewer(&mut self, digest: [u8; 32]) {
        let name = format!("key-{}", self.keys.len() + 1);
        self.keys.push(Key {
            identity: Identity {
                name,
                role: Role::Viewer,
                supplier_id: None,
            },
            digest,
        });
    }

    /// v1 keys given in clear (one per line of a v1 keys file): viewers named
    /// `key-1`, `key-2`, ...; only digests are kept.
    pub fn from_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> ApiKeys {
        let mut out = ApiKeys {
            keys: Vec::new(),
            disabled: false,
        };
        for k in keys.into_iter().map(str::trim).filter(|k| !k.is_empty()) {
            out.viewer(Sha256::digest(k.as_bytes()).into());
        }
        out
    }

    /// v1 keys given as hex SHA-256 digests: viewers named `key-1`, `key-2`, ...
    pub fn from_hashes<'a>(
        hashes: impl IntoIterator<Item = &'a str>,
    ) -> Result<ApiKeys, BadKeyHash> {
        let mut out = ApiKeys {
            keys: Vec::new(),
            disabled: false,
        };
        for (n, h) in hashes.into_iter().enumerate() {
            out.viewer(parse_digest(h).ok_or(BadKeyHash { index: n + 1 })?);
        }
        Ok(out)
    }

    /// A key with a name, a role and (for `supplier`) its supplier, by digest.
    pub fn with_key(
        mut self,
        name: &str,
        role: Role,
        supplier_id: Option<&str>,
        digest_hex: &str,
    ) -> Result<ApiKeys, BadKeyLine> {
        let bad = |problem: &str| BadKeyLine {
            line: 0,
            problem: problem.to_owned(),
        };
        if !valid_name(name) {
            return Err(bad("the name must be 1..64 of [A-Za-z0-9._:-]"));
        }
        if self.keys.iter().any(|k| k.identity.name == name) {
            return Err(bad(&format!("the name {name} is used twice")));
        }
        match (role, supplier_id) {
            (Role::Supplier, Some(s)) if tierline_events::is_supplier_id(s) => {}
            (Role::Supplier, _) => return Err(bad("a supplier key names its supplier_id")),
            (_, Some(_)) => return Err(bad("only a supplier key takes a supplier_id")),
            (_, None) => {}
        }
        let digest = parse_digest(digest_hex)
            .ok_or_else(|| bad("the digest is not 64 hex digits (sha256 of the key)"))?;
        self.keys.push(Key {
            identity: Identity {
                name: name.to_owned(),
                role,
                supplier_id: supplier_id.map(str::to_owned),
            },
            digest,
        });
        Ok(self)
    }

    /// A keys file: lines `name role [supplier_id] sha256hex` (v2), or a key in clear
    /// per line (v1: viewers `key-N`). Blank lines and `#` comments are skipped.
    pub fn from_file(text: &str) -> Result<ApiKeys, BadKeyLine> {
        let mut out = ApiKeys {
            keys: Vec::new(),
            disabled: false,
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let at = |e: BadKeyLine| BadKeyLine {
                line: n + 1,
                problem: e.problem,
            };
            out = match words.as_slice() {
                [key] => {
                    out.viewer(Sha256::digest(key.as_bytes()).into());
                    out
                }
                [name, role, rest @ ..] if (1..=2).contains(&rest.len()) => {
                    let role = Role::from_name(role).ok_or_else(|| BadKeyLine {
                        line: n + 1,
                        problem: format!("unknown role `{role}` (viewer, editor, admin, supplier)"),
                    })?;
                    let (supplier, digest) = match rest {
                        [s, d] => (Some(*s), *d),
                        [d] => (None, *d),
                        _ => (None, ""),
                    };
                    out.with_key(name, role, supplier, digest).map_err(at)?
                }
                _ => {
                    return Err(BadKeyLine {
                        line: n + 1,
                        problem: "expected `name role [supplier_id] sha256hex` or one key".into(),
                    });
                }
            };
        }
        Ok(out)
    }

    /// Adds the keys of `other` (v1 viewers are renumbered after the keys before them).
    pub fn extend(&mut self, other: ApiKeys) {
        for k in other.keys {
            if k.identity.role == Role::Viewer && k.identity.name.starts_with("key-") {
                self.viewer(k.digest);
            } else {
                self.keys.push(k);
            }
        }
    }

    /// Whether no key is needed.
    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    /// How many keys are configured.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is configured.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Every key's identity (names and roles, never digests), for `GET /v1/keys`.
    pub fn identities(&self) -> Vec<Identity> {
        self.keys.iter().map(|k| k.identity.clone()).collect()
    }

    /// The identity of a bearer token, if it is a configured key.
    pub(crate) fn identify(&self, token: &str) -> Option<&Identity> {
        let d: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Compare every digest fully: no early exit on the first differing byte.
        let mut found = None;
        for k in &self.keys {
            let same = k
                .digest
                .iter()
                .zip(d.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
            if same && found.is_none() {
                found = Some(&k.identity);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_by_digest() {
        let k = ApiKeys::from_keys(["s3cret", "other"]);
        assert_eq!(k.identify("s3cret").map(|i| i.name.as_str()), Some("key-1"));
        assert_eq!(k.identify("other").map(|i| i.name.as_str()), Some("key-2"));
        assert!(k.identify("s3cre").is_none());
        let h = ApiKeys::from_hashes([format!("sha256:{}", hash_key("s3cret")).as_str()]).unwrap();
        assert!(h.identify("s3cret").is_some() && h.identify("x").is_none());
        assert_eq!(ApiKeys::from_hashes(["abc"]).unwrap_err().index, 1);
        assert!(!format!("{k:?}").contains("s3cret"));
    }

    #[test]
    fn a_keys_file_names_roles_and_scopes() {
        let text = format!(
            "# people\nalice editor {}\n\nbob admin sha256:{}\nacme supplier ACME-01 {}\nlegacy-clear-key\n",
            hash_key("a"),
            hash_key("b"),
            hash_key("c")
        );
        let k = ApiKeys::from_file(&text).unwrap();
        let who = |t: &str| k.identify(t).cloned().unwrap();
        assert_eq!(
            (who("a").name, who("a").role),
            ("alice".into(), Role::Editor)
        );
        assert_eq!(who("b").role, Role::Admin);
        assert_eq!(who("c").supplier_id.as_deref(), Some("ACME-01"));
        assert_eq!(who("legacy-clear-key").name, "key-4");
        assert_eq!(who("legacy-clear-key").role, Role::Viewer);
        for (bad, line) in [
            (format!("x boss {}", hash_key("a")), 1),
            (format!("x supplier {}", hash_key("a")), 1),
            (format!("x viewer ACME {}", hash_key("a")), 1),
            ("\nx viewer 1234".to_owned(), 2),
            (format!("x viewer {h}\nx editor {h}", h = hash_key("a")), 2),
        ] {
            let e = ApiKeys::from_file(&bad).unwrap_err();
            assert_eq!(e.line, line, "{bad}: {e}");
            assert!(!e.to_string().contains(&hash_key("a")), "{e}");
        }
    }
}
