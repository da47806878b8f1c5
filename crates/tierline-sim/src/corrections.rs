//! What ERPs post besides facts (docs/scoring.md "Corrections"): receipts posted by
//! three plants, each on its own business day (its time zone), a receipt now and then
//! posted twice by mistake and reversed (SAP movement type 102), and inspections
//! re-posted with a corrected count. Decided from a hash of the event id, so the
//! simulator's own random sequence is unchanged.

use tierline_events::{Date, GoodsReceiptReversed, GoodsReceived, InspectionCompleted, Timestamp};
use uuid::Uuid;

use super::DAY_MS;

/// The receiving plants: site and UTC offset in hours.
pub(crate) const PLANTS: [(&str, i64); 3] = [("plant-us", -6), ("plant-de", 1), ("plant-cn", 8)];

/// The plant that receives a PO (by its number).
pub(crate) fn plant_of(po: &str) -> (&'static str, i64) {
    let h = po
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    PLANTS[(h % 3) as usize]
}

/// An instant `ms_of_day` into the plant's local `day`, and that day (the posting date).
pub(crate) fn local(day: i32, ms_of_day: i64, offset_hours: i64) -> (Timestamp, Date) {
    let ms = ms_of_day.clamp(0, DAY_MS - 1);
    (
        Timestamp(i64::from(day) * DAY_MS + ms - offset_hours * 3_600_000),
        Date(day),
    )
}

/// A number in 0..1000 from an id, for the corrections' chances.
fn per_mille(id: Uuid) -> u64 {
    let (hi, lo) = id.as_u64_pair();
    ((hi ^ lo.rotate_left(17)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54) % 1000
}

/// A receipt posted twice by mistake, then reversed: about 3 in 100.
pub(crate) fn posted_twice(id: Uuid) -> bool {
    per_mille(id) < 30
}

/// An inspection re-posted with a corrected count: about 5 in 100.
pub(crate) fn reposted(id: Uuid) -> bool {
    (per_mille(id) + 500) % 1000 < 50
}

/// The unit of measure of a category's lines (fabric is bought by the metre).
pub(crate) fn unit_of(category: &str) -> &'static str {
    if category == "fabric" { "m" } else { "pcs" }
}

impl super::Simulator {
    /// The receipt posted a second time by mistake under another receipt id, and that
    /// one reversed the next day.
    pub(crate) fn post_twice_and_reverse(&mut self, supplier: usize, rec: &GoodsReceived) {
        let twin = GoodsReceived {
            event_id: self.id(supplier),
            receipt_id: format!("{}-X", rec.receipt_id),
            ..rec.clone()
        };
        let reversal = GoodsReceiptReversed {
            event_id: self.id(supplier),
            source: rec.source.clone(),
            occurred_at: Timestamp(rec.occurred_at.0 + DAY_MS),
            supplier_id: rec.supplier_id.clone(),
            receipt_id: twin.receipt_id.clone(),
            reason: "movement type 102: posted twice".into(),
        };
        self.schedule_as_is(twin.into());
        self.schedule_as_is(reversal.into());
    }

    /// The inspection re-posted two days later with one defective piece more (the lab
    /// recounted), under the same inspection id.
    pub(crate) fn repost(&mut self, supplier: usize, rec: &InspectionCompleted) {
        let defective = (rec.defective_quantity + 1.0).min(rec.inspected_quantity);
        let corrected = InspectionCompleted {
            event_id: self.id(supplier),
            occurred_at: Timestamp(rec.occurred_at.0 + 2 * DAY_MS),
            defective_quantity: defective,
            ..rec.clone()
        };
        self.schedule_as_is(corrected.into());
    }
}
