//! Who may call what (docs/api.md "Keys and roles"): a bearer token becomes an
//! [`Identity`] (`keys`), and [`authorize`] is the one place roles are checked, so a
//! second source of identity (people signing in) only has to produce an `Identity`.

use std::sync::Arc;

use crate::keys::{ApiKeys, Identity, Role};
use crate::problem::Problem;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The token of an `Authorization` value of scheme `Bearer` (schemes are
/// case-insensitive, RFC 9110 11.1).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Which sub-resources of its own supplier a supplier key may read.
const SUPPLIER_READS: &[&str] = &[
    "scorecard",
    "history",
    "evaluations",
    "plans",
    "events",
    "status",
    "credit",
    "gate",
];

/// Which sub-resources of a supplier a supplier key may write: progress on its plans
/// and answers to its evaluations (`plans/{id}/progress`, `evaluations/{p}/...`).
fn supplier_may_post(rest: &[&str]) -> bool {
    matches!(
        rest,
        ["plans", _, "progress"] | ["evaluations", _, "acknowledge" | "dispute"]
    )
}

/// The least role a write needs (by the path after `/v1/suppliers/{id}/`).
fn write_role(rest: &[&str]) -> Role {
    match rest {
        ["status"] => Role::Admin,
        _ => Role::Editor,
    }
}

/// Whether `identity` may make this call: the one place roles are checked. `Ok` or the
/// problem to answer (403 outside the role; 404 for another supplier's data asked with
/// a supplier key, so ids cannot be probed).
pub(crate) fn authorize(identity: &Identity, method: &Method, path: &str) -> Result<(), Problem> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let Some(("v1", rest)) = parts.split_first().map(|(a, b)| (*a, b)) else {
        return Ok(());
    };
    let forbidden = || {
        Problem::forbidden(format!(
            "the key {} (role {}) may not {method} {path}",
            identity.name,
            identity.role.name()
        ))
    };
    let reading = method == Method::GET || method == Method::HEAD;
    let admin_only = matches!(rest.first(), Some(&"subscriptions" | &"keys"));
    match identity.role {
        Role::Admin => Ok(()),
        Role::Supplier => {
            let own = identity.supplier_id.as_deref().unwrap_or_default();
            match rest {
                ["suppliers", id, sub @ ..] if !sub.is_empty() => {
                    if *id != own {
                        return Err(Problem::unknown_supplier(id));
                    }
                    let allowed = if reading {
                        sub.first().is_some_and(|s| SUPPLIER_READS.contains(s))
                    } else {
                        supplier_may_post(sub)
                    };
                    if allowed { Ok(()) } else { Err(forbidden()) }
                }
                ["suppliers", id] if *id != own => Err(Problem::unknown_supplier(id)),
                // Its own alerts: the alert list narrowed to its supplier (see `scope`).
                ["alerts"] | ["plans"] | ["me"] if reading => Ok(()),
                _ => Err(forbidden()),
            }
        }
        Role::Viewer | Role::Editor if admin_only => Err(forbidden()),
        Role::Viewer if reading => Ok(()),
        Role::Viewer => Err(forbidden()),
        Role::Editor if reading => Ok(()),
        Role::Editor => match rest {
            ["suppliers", _, sub @ ..] if write_role(sub) <= Role::Editor => Ok(()),
            _ => Err(forbidden()),
        },
    }
}

/// For a supplier key, narrows `/v1/alerts` and `/v1/plans` to its own supplier: a `supplier_id`
/// naming another supplier is a 404; none gets its own.
fn scope(identity: &Identity, req: &mut Request) -> Result<(), Problem> {
    let (Role::Supplier, Some(own)) = (identity.role, identity.supplier_id.as_deref()) else {
        return Ok(());
    };
    if !["/v1/alerts", "/v1/plans"].contains(&req.uri().path().trim_end_matches('/')) {
        return Ok(());
    }
    let query = req.uri().query().unwrap_or_default();
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    match pairs.iter().find(|(k, _)| k == "supplier_id") {
        Some((_, v)) if v != own => return Err(Problem::unknown_supplier(v)),
        Some(_) => return Ok(()),
        None => pairs.push(("supplier_id".into(), own.to_owned())),
    }
    let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    if let Ok(uri) = format!("{}?{q}", req.uri().path()).parse() {
        *req.uri_mut() = uri;
    }
    Ok(())
}

/// Middleware on `/v1/*`: a valid `Authorization: Bearer <key>` (or 401), a call the
/// key's role allows (or 403/404); the [`Identity`] goes into the request extensions.
pub(crate) async fn require_key(
    State(keys): State<Arc<ApiKeys>>,
    mut req: Request,
    next: Next,
) -> Response {
    let identity = if keys.is_disabled() {
        Identity {
            name: "anonymous".into(),
            role: Role::Admin,
            supplier_id: None,
        }
    } else {
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token);
        match token.map(|t| keys.identify(t)) {
            None => {
                return Problem::unauthorized(
                    "an API key is required: Authorization: Bearer <key>",
                )
                .into_response();
            }
            Some(None) => {
                return Problem::unauthorized("the API key is not valid").into_response();
            }
            Some(Some(identity)) => identity.clone(),
        }
    };
    let path = req.uri().path().to_owned();
    if let Err(p) =
        authorize(&identity, req.method(), &path).and_then(|()| scope(&identity, &mut req))
    {
        return p.into_response();
    }
    req.extensions_mut().insert(identity);
    next.run(req).await
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
    fn roles_decide_in_one_place() {
        let id = |role, s: Option<&str>| Identity {
            name: "k".into(),
            role,
            supplier_id: s.map(str::to_owned),
        };
        let (get, post) = (Method::GET, Method::POST);
        let viewer = id(Role::Viewer, None);
        let editor = id(Role::Editor, None);
        let admin = id(Role::Admin, None);
        let acme = id(Role::Supplier, Some("ACME"));
        let status = |p: Result<(), Problem>| p.err().map_or(200, |p| p.status);
        assert_eq!(
            status(authorize(&viewer, &get, "/v1/suppliers/X/scorecard")),
            200
        );
        assert_eq!(
            status(authorize(&viewer, &post, "/v1/suppliers/X/assessments")),
            403
        );
        assert_eq!(status(authorize(&viewer, &get, "/v1/keys")), 403);
        assert_eq!(
            status(authorize(&editor, &post, "/v1/suppliers/X/assessments")),
            200
        );
        assert_eq!(
            status(authorize(&editor, &post, "/v1/suppliers/X/status")),
            403
        );
        assert_eq!(
            status(authorize(&admin, &post, "/v1/suppliers/X/status")),
            200
        );
        assert_eq!(status(authorize(&admin, &get, "/v1/keys")), 200);
        assert_eq!(
            status(authorize(&acme, &get, "/v1/suppliers/ACME/scorecard")),
            200
        );
        assert_eq!(
            status(authorize(&acme, &get, "/v1/suppliers/OTHER/scorecard")),
            404
        );
        assert_eq!(
            status(authorize(&acme, &get, "/v1/suppliers/OTHER/assessments")),
            404
        );
        assert_eq!(
            status(authorize(&acme, &get, "/v1/suppliers/ACME/assessments")),
            403
        );
        assert_eq!(status(authorize(&acme, &get, "/v1/suppliers")), 403);
        assert_eq!(status(authorize(&acme, &get, "/v1/tiers")), 403);
        assert_eq!(status(authorize(&acme, &get, "/v1/policy")), 403);
        assert_eq!(
            status(authorize(&acme, &post, "/v1/suppliers/ACME/assessments")),
            403
        );
        assert_eq!(
            status(authorize(
                &acme,
                &post,
                "/v1/suppliers/ACME/plans/P1/progress"
            )),
            200
        );
        assert_eq!(
            status(authorize(
                &acme,
                &post,
                "/v1/suppliers/OTHER/plans/P1/progress"
            )),
            404
        );
        assert_eq!(status(authorize(&acme, &get, "/v1/alerts")), 200);
    }
}
