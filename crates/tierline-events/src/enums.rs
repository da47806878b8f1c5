//! The enums of the records (Avro enums, symbols in schema order; every v2 enum ends
//! with `UNKNOWN`, its default).

use serde::{Deserialize, Serialize};

use crate::value::{AvroField, FieldErr, Val};

macro_rules! avro_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $symbol:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $symbol)] $variant),+
        }

        impl $name {
            /// The Avro symbols, in schema order.
            pub const SYMBOLS: &'static [&'static str] = &[$($symbol),+];
            const VARIANTS: &'static [$name] = &[$($name::$variant),+];

            /// The Avro symbol.
            pub fn symbol(self) -> &'static str {
                match self { $($name::$variant => $symbol),+ }
            }

            /// The value of an Avro symbol, if it is one.
            pub fn from_symbol(s: &str) -> Option<Self> {
                Self::SYMBOLS.iter().position(|x| *x == s).map(|i| Self::VARIANTS[i])
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.symbol())
            }
        }

        impl AvroField for $name {
            #[inline]
            fn from_val(v: &Val<'_>) -> Result<Self, FieldErr> {
                match v {
                    Val::Enum(i) => Self::VARIANTS.get(*i as usize).copied().ok_or(FieldErr::Missing),
                    _ => Err(FieldErr::Missing),
                }
            }
            fn encode(&self, buf: &mut Vec<u8>) {
                let index = Self::VARIANTS.iter().position(|v| v == self).unwrap_or(0);
                crate::binary::put_long(buf, index as i64);
            }
        }
    };
}

avro_enum! {
    /// Who cancelled a PO line.
    CancelledBy { /** The buyer. */ Buyer = "BUYER", /** The supplier. */ Supplier = "SUPPLIER" }
}
avro_enum! {
    /// Outcome of an inspection.
    Disposition {
        /** Lot accepted. */ Accepted = "ACCEPTED",
        /** Lot accepted with deviations. */ ConditionallyAccepted = "CONDITIONALLY_ACCEPTED",
        /** Lot rejected. */ Rejected = "REJECTED",
    }
}
avro_enum! {
    /// Kind of after-sales case.
    CaseKind { /** A return. */ Return = "RETURN", /** A warranty claim. */ WarrantyClaim = "WARRANTY_CLAIM", /** A complaint. */ Complaint = "COMPLAINT" }
}
avro_enum! {
    /// How an after-sales case was resolved.
    Resolution {
        /** Replaced. */ Replaced = "REPLACED", /** Refunded. */ Refunded = "REFUNDED",
        /** Repaired. */ Repaired = "REPAIRED", /** Claim rejected. */ Rejected = "REJECTED",
    }
}
avro_enum! {
    /// Why an alert episode was resolved (`SupplierAlertResolved` v2).
    ResolutionReason {
        /** The value cleared the threshold by the margin. */ Cleared = "CLEARED",
        /** A late event erased the episode: it never existed in the corrected history. */ Retracted = "RETRACTED",
        /** A symbol this version does not know (the enum default). */ Unknown = "UNKNOWN",
    }
}
avro_enum! {
    /// Severity of an alert.
    AlertLevel { /** Warning threshold breached. */ Warning = "WARNING", /** Critical threshold breached. */ Critical = "CRITICAL" }
}

avro_enum! {
    /// How an assessment was made (docs/events.md, docs/scoring.md).
    AssessmentKind {
        /** An audit at the supplier's site. */ OnsiteAudit = "ONSITE_AUDIT",
        /** A buyer's review. */ BuyerReview = "BUYER_REVIEW",
        /** A questionnaire the supplier answered. */ Questionnaire = "QUESTIONNAIRE",
        /** A symbol this version does not know (the enum default; never used in scoring). */ Unknown = "UNKNOWN",
    }
}
avro_enum! {
    /// A certificate's status.
    CertificateStatus {
        /** In force. */ Valid = "VALID",
        /** Suspended by the issuer. */ Suspended = "SUSPENDED",
        /** Withdrawn. */ Withdrawn = "WITHDRAWN",
        /** A symbol this version does not know (the enum default; covers nothing). */ Unknown = "UNKNOWN",
    }
}
avro_enum! {
    /// Severity of a compliance violation.
    ViolationSeverity {
        /** Minor. */ Minor = "MINOR",
        /** Major. */ Major = "MAJOR",
        /** Critical. */ Critical = "CRITICAL",
        /** A symbol this version does not know (the enum default; 0 points). */ Unknown = "UNKNOWN",
    }
}
avro_enum! {
    /// Kind of external risk signal.
    RiskKind {
        /** Financial distress. */ Financial = "FINANCIAL",
        /** Reputation. */ Reputation = "REPUTATION",
        /** Geopolitical. */ Geopolitical = "GEOPOLITICAL",
        /** Natural disaster. */ NaturalDisaster = "NATURAL_DISASTER",
        /** Commodity prices or supply. */ Commodity = "COMMODITY",
        /** Cyber security. */ Cyber = "CYBER",
        /** A symbol this version does not know (the enum default). */ Unknown = "UNKNOWN",
    }
}

avro_enum! {
    /// Why a rectification plan closed (docs/events.md, docs/scoring.md).
    PlanCloseReason {
        /** Withdrawn: never reviewed. */ Withdrawn = "WITHDRAWN",
        /** Replaced by another plan: never reviewed. */ Superseded = "SUPERSEDED",
        /** Completed early: reviewed on the closing date. */ Completed = "COMPLETED",
        /** A symbol this version does not know (the enum default; ignored). */ Unknown = "UNKNOWN",
    }
}
avro_enum! {
    /// A supplier's status, least severe first.
    SupplierStatus {
        /** May be used. */ Approved = "APPROVED",
        /** May be used with care. */ Conditional = "CONDITIONAL",
        /** No new orders. */ Suspended = "SUSPENDED",
        /** Never again. */ Blacklisted = "BLACKLISTED",
        /** A symbol this version does not know (the enum default; ignored). */ Unknown = "UNKNOWN",
    }
}
avro_enum! {
    /// A plan's verdict on its review date.
    PlanOutcome {
        /** The target was met. */ Verified = "VERIFIED",
        /** The target was missed. */ Failed = "FAILED",
        /** The indicator was insufficient or undefined. */ Unverifiable = "UNVERIFIABLE",
        /** A late event erased the outcome published before. */ Retracted = "RETRACTED",
        /** A symbol this version does not know (the enum default). */ Unknown = "UNKNOWN",
    }
}
