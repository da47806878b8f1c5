//! The people directory, for showing names where records hold ids (docs/api.md
//! "People").

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{RawQuery, State};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::params::Params;
use crate::problem::Problem;

/// A person records name by id.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PersonJson {
    /// The id records hold (`assessor`, `decided_by`, `owner`, the API key's name).
    pub person_id: String,
    /// Their name (`[erased]` once erased; null if never given).
    pub name: Option<String>,
    /// How to reach them (null if not given or erased).
    pub contact: Option<String>,
    /// Whether they were erased (`tierline erase`).
    pub erased: bool,
}

/// Everyone in the directory, and everyone erased from it, by id.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PeopleList {
    /// By `person_id`.
    pub items: Vec<PersonJson>,
}

/// The people directory: names for the ids records hold. Erased people are listed with
/// the name `[erased]`. Not for supplier keys.
#[utoipa::path(get, path = "/v1/people", tag = "people",
    responses(
        (status = 200, body = PeopleList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn people(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Json<PeopleList>, Problem> {
    Params::parse(q.as_deref(), &[])?;
    let mut by_id: BTreeMap<String, PersonJson> = BTreeMap::new();
    for e in s.people.erasures().await.map_err(crate::problem::people)? {
        by_id.insert(
            e.person_id.clone(),
            PersonJson {
                person_id: e.person_id,
                name: Some(tierline_people::ERASED.to_owned()),
                contact: None,
                erased: true,
            },
        );
    }
    // A person who wrote again after an erasure has an entry again.
    for p in s.people.list().await.map_err(crate::problem::people)? {
        by_id.insert(
            p.person_id.clone(),
            PersonJson {
                person_id: p.person_id,
                name: p.name,
                contact: p.contact,
                erased: false,
            },
        );
    }
    Ok(Json(PeopleList {
        items: by_id.into_values().collect(),
    }))
}
