//! RFC 9457 `application/problem+json` errors.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// An error as the API reports it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong in this request.
    pub detail: String,
    /// The query parameter at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// The body field at fault and the rule it breaks (a write), when there is one.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Box<Fault>>,
}

/// The body field a write got wrong.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Fault {
    /// The field, e.g. `criteria` or `valid_until`.
    pub field: String,
    /// The rule it breaks: a stable code (as in dead letters), e.g. `length`.
    pub rule: String,
}

impl Problem {
    fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("https://tierline.dev/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            parameter: None,
            fault: None,
        }
    }

    /// 400: a request body that is not a valid record (the field and rule named).
    pub fn bad_body(field: &str, rule: &str, detail: impl Into<String>) -> Problem {
        Problem {
            fault: Some(Box::new(Fault {
                field: field.to_owned(),
                rule: rule.to_owned(),
            })),
            ..Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-body",
                "Invalid request body",
                detail,
            )
        }
    }

    /// 403: the key's role does not allow the call.
    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    /// 409: the `Idempotency-Key` was used for another request.
    pub fn conflict(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }

    /// 415: the body is not JSON.
    pub fn unsupported_media(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            detail,
        )
    }

    /// 400: a query parameter is missing a valid value, unknown or repeated.
    pub fn bad_parameter(name: &str, detail: impl Into<String>) -> Problem {
        Problem {
            parameter: Some(name.to_owned()),
            ..Problem::new(
                StatusCode::BAD_REQUEST,
                "bad-parameter",
                "Bad request parameter",
                detail,
            )
        }
    }

    /// 404: no such supplier.
    pub fn unknown_supplier(id: &str) -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-supplier",
            "Unknown supplier",
            format!("no supplier with id {id:?} has any stored event"),
        )
    }

    /// 404: no such route.
    pub fn not_found(path: &str) -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("no resource at {path}"),
        )
    }

    /// 401: no or a wrong API key.
    pub fn unauthorized(detail: &str) -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            detail,
        )
    }

    /// 503: the database did not answer (details go to the log, not to the client).
    pub fn unavailable() -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            "the database is not reachable; retry later",
        )
    }

    /// 500: a bug or corrupted data (details go to the log).
    pub fn internal() -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the request failed; the server log has the details",
        )
    }

    /// 503: the request took longer than the configured timeout (the server's fault or
    /// load, not the client's: a 408 would invite an immediate retry of the request).
    pub fn timeout() -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "Request timed out",
            "the request took longer than the server allows; try again later",
        )
    }

    /// 413: the request body is over the limit.
    pub fn too_large(limit: usize) -> Problem {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Request body too large",
            format!("request bodies are limited to {limit} bytes"),
        )
    }

    /// 405.
    pub fn method_not_allowed() -> Problem {
        Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            "this method is not allowed on this resource",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_string(&self).unwrap_or_default();
        let mut res = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"tierline\""),
            );
        }
        res
    }
}

impl From<tierline_projections::ProjectionsError> for Problem {
    fn from(e: tierline_projections::ProjectionsError) -> Problem {
        if e.is_transient() {
            tracing::warn!(error = %e, "database unavailable");
            Problem::unavailable()
        } else {
            tracing::error!(error = %e, "read model error");
            Problem::internal()
        }
    }
}

impl From<tierline_store::StoreError> for Problem {
    fn from(e: tierline_store::StoreError) -> Problem {
        if e.is_transient() {
            tracing::warn!(error = %e, "event store unavailable");
            Problem::unavailable()
        } else {
            tracing::error!(error = %e, "event store error");
            Problem::internal()
        }
    }
}

/// A failure of the people directory: the database's like any other, a key that does
/// not unwrap a configuration error (logged, 500).
pub(crate) fn people(e: tierline_people::PeopleError) -> Problem {
    match e {
        tierline_people::PeopleError::Store(e) => e.into(),
        e => {
            tracing::error!(error = %e, "people directory");
            Problem::internal()
        }
    }
}
