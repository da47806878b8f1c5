//! Reads of particular records: certificates of every supplier, one supplier's profile
//! and action records, the suppliers with a kind of record, one event by its key.

use uuid::Uuid;

use super::PgStore;
use crate::StoreError;
use crate::types::{StoredEvent, supplier_records_where, suppliers_with_sql};

impl PgStore {
    /// Every stored certificate record, of every supplier (a partial index serves it).
    pub async fn certificates(&self) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(select_events!(
            "WHERE record_name = 'io.tierline.v1.SupplierCertificateRecorded' ORDER BY supplier_id, position"
        ))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(Self::stored_event)
            .collect::<Result<_, _>>()?)
    }

    /// One supplier's records of these kinds, by (`occurred_at`, position), over the
    /// partial index of profile and action records.
    pub async fn supplier_records(
        &self,
        supplier: &str,
        kinds: &[tierline_events::RecordKind],
    ) -> Result<Vec<StoredEvent>, StoreError> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("{} {}", select_events!(""), supplier_records_where(kinds));
        let rows = sqlx::query(&sql)
            .bind(supplier)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(Self::stored_event)
            .collect::<Result<_, _>>()?)
    }

    /// Suppliers with at least one record of this kind, sorted.
    pub async fn suppliers_with(
        &self,
        kind: tierline_events::RecordKind,
    ) -> Result<Vec<String>, StoreError> {
        let sql = suppliers_with_sql(kind);
        Ok(sqlx::query_scalar(&sql).fetch_all(&self.pool).await?)
    }

    /// The stored event with this dedupe key, if any.
    pub async fn event(
        &self,
        source: &str,
        event_id: Uuid,
    ) -> Result<Option<StoredEvent>, StoreError> {
        let row = sqlx::query(select_events!("WHERE source = $1 AND event_id = $2"))
            .bind(source)
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(Self::stored_event).transpose()?)
    }
}
