//! Free text typed by people, sealed: the form it takes in stored events when the API
//! encrypts it under its author's key in the people directory (the `tierline-people`
//! crate does the cryptography; this module only knows the shape), so erasing a
//! person (deleting the key) makes their text unreadable without touching an event.
//!
//! `tierline:sealed:v1:{base64url nonce ‖ ciphertext ‖ tag}:{person id}`

use crate::records::Record;

/// What every sealed text starts with.
pub const SEALED_PREFIX: &str = "tierline:sealed:v1:";

/// Longest sealed text: 4,000 characters of up to 4 bytes, with nonce and tag, in
/// base64, the prefix and a person id of up to 128 characters.
pub const SEALED_MAX_CHARS: usize = 21_600;

/// A sealed text's parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sealed<'a> {
    /// The author's id in the people directory.
    pub person: &'a str,
    /// base64url (no padding) of nonce ‖ ciphertext ‖ tag.
    pub payload: &'a str,
}

impl<'a> Sealed<'a> {
    /// The parts of `text`, if it is sealed.
    pub fn parse(text: &'a str) -> Option<Sealed<'a>> {
        let rest = text.strip_prefix(SEALED_PREFIX)?;
        let (payload, person) = rest.split_once(':')?;
        let b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        (!payload.is_empty() && payload.chars().all(b64) && !person.is_empty())
            .then_some(Sealed { person, payload })
    }

    /// The text form.
    pub fn format(person: &str, payload: &str) -> String {
        format!("{SEALED_PREFIX}{payload}:{person}")
    }
}

impl Record {
    /// The free text typed by people this record carries (comments, reasons, notes,
    /// descriptions, summaries, measures), for sealing.
    pub fn free_texts_mut(&mut self) -> Vec<&mut String> {
        match self {
            Record::GoodsReceiptReversed(r) => vec![&mut r.reason],
            Record::SupplierAssessmentCompleted(r) => r.comment.iter_mut().collect(),
            Record::SupplierAssessmentRetracted(r) => vec![&mut r.reason],
            Record::SupplierComplianceViolationRecorded(r) => vec![&mut r.description],
            Record::SupplierComplianceViolationRetracted(r) => vec![&mut r.reason],
            Record::SupplierRiskSignalRecorded(r) => vec![&mut r.summary],
            Record::RectificationPlanOpened(r) => r.measures.iter_mut().collect(),
            Record::RectificationProgressReported(r) => vec![&mut r.note],
            Record::RectificationPlanClosed(r) => r.note.iter_mut().collect(),
            Record::SupplierStatusDecided(r) => vec![&mut r.reason],
            _ => Vec::new(),
        }
    }

    /// The person the record names as the author of its act (`assessor`, `decided_by`),
    /// if it names one.
    pub fn author(&self) -> Option<&str> {
        match self {
            Record::SupplierAssessmentCompleted(r) => Some(&r.assessor),
            Record::SupplierStatusDecided(r) => Some(&r.decided_by),
            _ => None,
        }
    }
}
