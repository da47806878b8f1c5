//! Query parameters: only the documented ones, each parsed with an error that names it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tierline_events::Date;

use crate::problem::Problem;

/// The windows a client may ask for.
pub(crate) const WINDOWS: [u32; 3] = tierline_scoring::WINDOWS;

/// The parsed query string of one request.
#[derive(Debug)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parses `query`, refusing names outside `allowed` and repeated names.
    pub(crate) fn parse(query: Option<&str>, allowed: &[&str]) -> Result<Params, Problem> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|e| Problem::bad_parameter("query", format!("malformed query string: {e}")))?;
        let mut unknown: Vec<&str> = pairs
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !allowed.contains(k))
            .collect();
        unknown.dedup();
        if let Some(first) = unknown.first() {
            let expected = if allowed.is_empty() {
                "this endpoint takes no parameters".to_owned()
            } else {
                format!("expected: {}", allowed.join(", "))
            };
            return Err(Problem::bad_parameter(
                first,
                format!(
                    "unknown query parameter(s): {}; {expected}",
                    unknown.join(", ")
                ),
            ));
        }
        for (i, (k, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(k2, _)| k2 == k) {
                return Err(Problem::bad_parameter(
                    k,
                    format!("{k} is given more than once"),
                ));
            }
        }
        Ok(Params { pairs })
    }

    /// The raw value; an empty value counts as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// A `YYYY-MM-DD` date.
    pub(crate) fn date(&self, name: &str) -> Result<Option<Date>, Problem> {
        self.get(name)
            .map(|v| {
                chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .ok()
                    .filter(|_| v.len() == 10)
                    .map(Date::from_naive)
                    .filter(|d| (Date::MIN..=Date::MAX).contains(d))
                    .ok_or_else(|| {
                        Problem::bad_parameter(
                            name,
                            format!("{name} must be a date YYYY-MM-DD, got {v:?}"),
                        )
                    })
            })
            .transpose()
    }

    /// `window`: 30, 90 or 365 (default 90).
    pub(crate) fn window(&self) -> Result<u32, Problem> {
        match self.get("window") {
            None => Ok(90),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|w| WINDOWS.contains(w))
                .ok_or_else(|| {
                    Problem::bad_parameter(
                        "window",
                        format!("window must be one of 30, 90, 365, got {v:?}"),
                    )
                }),
        }
    }

    /// `page_size`: default 50; values above `max` are lowered to `max`.
    pub(crate) fn page_size(&self, max: usize) -> Result<usize, Problem> {
        match self.get("page_size") {
            None => Ok(50.min(max)),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .map(|n| n.min(max))
                .ok_or_else(|| {
                    Problem::bad_parameter(
                        "page_size",
                        format!("page_size must be a whole number from 1 to {max}, got {v:?}"),
                    )
                }),
        }
    }

    /// One of `options`.
    pub(crate) fn one_of(&self, name: &str, options: &[&str]) -> Result<Option<&str>, Problem> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if options.contains(&v) => Ok(Some(v)),
            Some(v) => Err(Problem::bad_parameter(
                name,
                format!("{name} must be one of {}, got {v:?}", options.join(", ")),
            )),
        }
    }

    /// `page_token`, as issued by [`token`].
    pub(crate) fn page_token<T: DeserializeOwned>(&self) -> Result<Option<T>, Problem> {
        self.get("page_token")
            .map(|v| {
                URL_SAFE_NO_PAD
                    .decode(v)
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .ok_or_else(|| {
                        Problem::bad_parameter(
                            "page_token",
                            "page_token is not one this service issued (use next_page_token as given)",
                        )
                    })
            })
            .transpose()
    }
}

/// An opaque page token for a keyset position.
pub(crate) fn token<T: Serialize>(key: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// One page of `rows` read with a limit of `page_size + 1`: the extra row, if any, is
/// cut off and says there is a next page, whose token is `key` of the page's last row.
/// Every list pages this way.
pub(crate) fn page<T, K: Serialize>(
    mut rows: Vec<T>,
    page_size: usize,
    key: impl FnOnce(&T) -> K,
) -> (Vec<T>, Option<String>) {
    if rows.len() <= page_size {
        return (rows, None);
    }
    rows.truncate(page_size);
    let next = rows.last().map(|r| token(&key(r)));
    (rows, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_repeated_parameters_are_named() {
        let e = Params::parse(Some("window=90&colour=red&size=2"), &["window"]).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.parameter.as_deref(), Some("colour"));
        assert!(e.detail.contains("colour, size"), "{}", e.detail);
        let e = Params::parse(Some("window=90&window=30"), &["window"]).unwrap_err();
        assert_eq!(e.parameter.as_deref(), Some("window"));
    }

    #[test]
    fn values_are_checked() {
        let p = Params::parse(
            Some("window=31&as_of=2026-02-30&page_size=0"),
            &["window", "as_of", "page_size"],
        )
        .unwrap();
        assert_eq!(p.window().unwrap_err().parameter.as_deref(), Some("window"));
        assert_eq!(
            p.date("as_of").unwrap_err().parameter.as_deref(),
            Some("as_of")
        );
        assert_eq!(
            p.page_size(500).unwrap_err().parameter.as_deref(),
            Some("page_size")
        );
        let p = Params::parse(
            Some("page_size=9999&as_of=2026-02-28"),
            &["page_size", "as_of"],
        )
        .unwrap();
        assert_eq!(p.page_size(500).unwrap(), 500);
        assert_eq!(p.date("as_of").unwrap(), Date::from_ymd(2026, 2, 28));
        assert_eq!(p.window().unwrap(), 90);
    }

    #[test]
    fn tokens_round_trip_and_foreign_ones_are_refused() {
        let t = token(&("S1", 12.5_f64));
        let p = Params::parse(Some(&format!("page_token={t}")), &["page_token"]).unwrap();
        assert_eq!(
            p.page_token::<(String, f64)>().unwrap(),
            Some(("S1".into(), 12.5))
        );
        let p = Params::parse(Some("page_token=abc"), &["page_token"]).unwrap();
        assert_eq!(
            p.page_token::<(String, f64)>()
                .unwrap_err()
                .parameter
                .as_deref(),
            Some("page_token")
        );
    }
}
