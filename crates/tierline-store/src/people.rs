//! The people directory's rows (table `people`, outside the event table) and the log of
//! erasures. The keys are opaque bytes here: `tierline-people` makes and reads them.

use tierline_events::Timestamp;

use crate::{Store, StoreError};

/// One person in the directory.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PersonRow {
    /// The id events name them by.
    pub person_id: String,
    /// Their name, if given.
    pub name: Option<String>,
    /// How to reach them, if given.
    pub contact: Option<String>,
    /// Their key (wrapped under the master key when `key_wrapped`).
    pub key_material: Vec<u8>,
    /// Whether `key_material` is wrapped.
    pub key_wrapped: bool,
    /// When the entry was made (ms since the epoch).
    pub created_at: i64,
}

/// One erasure.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ErasureRow {
    /// Who was erased.
    pub person_id: String,
    /// When (ms since the epoch).
    pub erased_at: i64,
    /// Who erased them.
    pub erased_by: String,
    /// Whether the directory held an entry for them.
    pub had_entry: bool,
}

/// Runs `$body` with `$p` bound to the pool, whichever the backend.
macro_rules! on_store {
    ($self:expr, $p:ident => $body:expr) => {
        match $self {
            Store::Postgres(s) => {
                let $p = s.pool();
                $body
            }
            Store::Sqlite(s) => {
                let $p = s.pool();
                $body
            }
        }
    };
}

const COLUMNS: &str = "person_id, name, contact, key_material, key_wrapped, created_at";

impl Store {
    /// The directory entries of `ids` (those that exist), in one query.
    pub async fn people(&self, ids: &[&str]) -> Result<Vec<PersonRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(match self {
            Store::Postgres(s) => {
                let sql = format!("SELECT {COLUMNS} FROM people WHERE person_id = ANY($1)");
                sqlx::query_as(&sql).bind(ids).fetch_all(s.pool()).await?
            }
            Store::Sqlite(s) => {
                // SQLite has no arrays: the ids as a JSON array, unpacked by json_each.
                let list =
                    serde_json::to_string(ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let sql = format!(
                    "SELECT {COLUMNS} FROM people WHERE person_id IN (SELECT value FROM json_each($1))"
                );
                sqlx::query_as(&sql).bind(list).fetch_all(s.pool()).await?
            }
        })
    }

    /// Every entry, by id.
    pub async fn all_people(&self) -> Result<Vec<PersonRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM people ORDER BY person_id");
        Ok(on_store!(self, p => sqlx::query_as(&sql).fetch_all(p).await?))
    }

    /// Adds `row` unless its person is there already (a concurrent writer's key wins);
    /// returns the entry that stands.
    pub async fn add_person(&self, row: &PersonRow) -> Result<PersonRow, StoreError> {
        let sql = format!(
            "INSERT INTO people ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (person_id) DO NOTHING"
        );
        on_store!(self, p => {
            sqlx::query(&sql)
                .bind(&row.person_id)
                .bind(&row.name)
                .bind(&row.contact)
                .bind(&row.key_material)
                .bind(row.key_wrapped)
                .bind(row.created_at)
                .execute(p)
                .await
                .map(|_| ())?
        });
        self.people(&[&row.person_id])
            .await?
            .pop()
            .ok_or_else(|| StoreError::Corrupt(format!("person {} vanished", row.person_id)))
    }

    /// Sets a person's name and contact (the entry must exist).
    pub async fn name_person(
        &self,
        id: &str,
        name: Option<&str>,
        contact: Option<&str>,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE people SET name = $2, contact = $3 WHERE person_id = $1";
        let n = on_store!(self, p => sqlx::query(sql).bind(id).bind(name).bind(contact).execute(p).await?.rows_affected());
        Ok(n == 1)
    }

    /// Deletes a person's entry (name, contact, key) and logs the erasure, in one
    /// transaction. Returns whether there was an entry.
    pub async fn erase_person(
        &self,
        id: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let log = "INSERT INTO people_erasures (person_id, erased_at, erased_by, had_entry) VALUES ($1, $2, $3, $4)";
        on_store!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("DELETE FROM people WHERE person_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(log)
                .bind(id)
                .bind(at.0)
                .bind(by)
                .bind(n > 0)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(n > 0)
        })
    }

    /// Every erasure, oldest first.
    pub async fn erasures(&self) -> Result<Vec<ErasureRow>, StoreError> {
        let sql = "SELECT person_id, erased_at, erased_by, had_entry FROM people_erasures ORDER BY erased_at";
        Ok(on_store!(self, p => sqlx::query_as(sql).fetch_all(p).await?))
    }
}
