//! Hand-worked examples of docs/scoring.md "Assessments, compliance and external risk" and the leading indicators of
//! docs/scoring.md "Leading indicators": validity edges, amendments, retractions, precedence,
//! certificate status changes and expiry, violation windows, risk signals.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]

mod common;

use common::*;
use tierline_events::{AssessmentKind, CertificateStatus, ViolationSeverity};
use tierline_scoring::*;

fn crit(name: &str) -> Indicator {
    Indicator::from_name(name).unwrap()
}

/// (value, samples) of an indicator as of a day (the window does not matter for states).
fn at(l: &SupplierLedger, i: Indicator, day: &str) -> (Option<f64>, u64) {
    let v = indicator_value(l.policy(), i, &l.window(i, d(day), 30));
    for w in [90, 365] {
        assert_eq!(
            indicator_value(l.policy(), i, &l.window(i, d(day), w)).value,
            v.value,
            "{i} is a state: the window does not matter"
        );
    }
    (v.value, v.samples)
}

#[test]
fn an_assessment_is_valid_from_its_date_for_validity_days_or_until_valid_until() {
    let mut l = ledger();
    // 8/10 = 0.8 for cooperation, no valid_until: 365 days, 2026-03-10 ..= 2027-03-09.
    l.apply(&assessed(
        "A1",
        "2026-03-10T09:00",
        AssessmentKind::OnsiteAudit,
        &[("cooperation", 8.0), ("not_in_policy", 3.0)],
        None,
    ));
    let c = crit("cooperation");
    assert_eq!(at(&l, c, "2026-03-09"), (None, 0));
    assert_eq!(at(&l, c, "2026-03-10"), (Some(0.8), 1));
    assert_eq!(at(&l, c, "2027-03-09"), (Some(0.8), 1));
    assert_eq!(at(&l, c, "2027-03-10"), (None, 0), "ended after 365 days");
    // Subscore: 100 x (0.8 - 0.4) / (0.9 - 0.4).
    let sc = l.scorecard(d("2026-06-01"), 90);
    assert_eq!(
        sc.indicators[&c].subscore,
        Some(100.0 * ((0.8 - 0.4) / (0.9 - 0.4)))
    );
    // Capability = the one sufficient criterion's subscore; other criteria insufficient.
    assert_eq!(
        sc.dimensions[&Dimension::Capability],
        sc.indicators[&c].subscore
    );
    assert_eq!(sc.indicators[&crit("rnd_strength")].value, None);
    // A criterion the policy does not list is not an indicator.
    assert!(!sc.indicators.contains_key(&crit("not_in_policy")));
    // An amendment (a later record, same id) with valid_until: it now ends 2026-04-01,
    // its date stays the first record's.
    l.apply(&assessed(
        "A1",
        "2026-03-20",
        AssessmentKind::OnsiteAudit,
        &[("cooperation", 6.0)],
        Some("2026-04-01"),
    ));
    assert_eq!(
        at(&l, c, "2026-03-10"),
        (Some(0.6), 1),
        "latest record, every date"
    );
    assert_eq!(at(&l, c, "2026-04-01"), (Some(0.6), 1));
    assert_eq!(at(&l, c, "2026-04-02"), (None, 0));
    // A retraction voids it for every date, whenever it occurred.
    l.apply(&assessment_retracted("A1", "2026-12-01"));
    assert_eq!(at(&l, c, "2026-03-15"), (None, 0));
}

#[test]
fn buyer_reviews_average_while_an_onsite_audit_outranks_them() {
    let mut l = ledger();
    let c = crit("cooperation");
    l.apply(&assessed(
        "R1",
        "2026-01-05",
        AssessmentKind::BuyerReview,
        &[("cooperation", 7.0)],
        None,
    ));
    l.apply(&assessed(
        "R2",
        "2026-01-10",
        AssessmentKind::BuyerReview,
        &[("cooperation", 9.0)],
        None,
    ));
    l.apply(&assessed(
        "Q1",
        "2026-01-02",
        AssessmentKind::Questionnaire,
        &[("cooperation", 2.0)],
        None,
    ));
    // Questionnaire alone on the 2nd..4th; one review from the 5th; both from the 10th.
    assert_eq!(at(&l, c, "2026-01-04"), (Some(0.2), 1));
    assert_eq!(at(&l, c, "2026-01-07"), (Some(0.7), 1));
    let (v, n) = at(&l, c, "2026-01-10");
    assert_eq!(
        (v, n),
        (Some(fsum([0.7, 0.9]) / 2.0), 2),
        "the mean of the valid reviews"
    );
    let win = l.window(c, d("2026-01-10"), 30);
    assert_eq!(
        (win.numerator(), win.denominator()),
        (fsum([0.7, 0.9]), 2.0)
    );
    // An onsite audit outranks them from its date; the latest audit counts.
    l.apply(&assessed(
        "AUD1",
        "2026-02-01",
        AssessmentKind::OnsiteAudit,
        &[("cooperation", 5.0)],
        None,
    ));
    l.apply(&assessed(
        "AUD2",
        "2026-02-03",
        AssessmentKind::OnsiteAudit,
        &[("cooperation", 4.0)],
        Some("2026-02-05"),
    ));
    assert_eq!(at(&l, c, "2026-01-31"), (Some(fsum([0.7, 0.9]) / 2.0), 2));
    assert_eq!(at(&l, c, "2026-02-02"), (Some(0.5), 1));
    assert_eq!(
        at(&l, c, "2026-02-04"),
        (Some(0.4), 1),
        "the latest valid audit"
    );
    assert_eq!(
        at(&l, c, "2026-02-06"),
        (Some(0.5), 1),
        "AUD2 expired: AUD1 again"
    );
    // A kind the policy's precedence leaves out is never used.
    let mut p = Policy::default();
    p.assessments.precedence = vec![AssessmentKind::BuyerReview];
    let mut only_reviews = ledger_with(p);
    only_reviews.apply(&assessed(
        "AUD1",
        "2026-02-01",
        AssessmentKind::OnsiteAudit,
        &[("cooperation", 5.0)],
        None,
    ));
    assert_eq!(at(&only_reviews, c, "2026-02-02"), (None, 0));
    let mut unknown = ledger();
    unknown.apply(&assessed(
        "U1",
        "2026-02-01",
        AssessmentKind::Unknown,
        &[("cooperation", 5.0)],
        None,
    ));
    assert_eq!(
        at(&unknown, c, "2026-02-02"),
        (None, 0),
        "UNKNOWN is never used"
    );
}

#[test]
fn a_supplier_with_an_audit_and_no_transactions_is_unrated_by_default_and_rated_with_enough_weight()
{
    let audit = assessed(
        "AUD",
        "2026-03-02",
        AssessmentKind::OnsiteAudit,
        &[
            ("rnd_strength", 9.0),
            ("cooperation", 8.0),
            ("risk_resilience", 7.0),
            ("technical_support", 6.5),
            ("regional_advantage", 5.0),
        ],
        None,
    );
    let cert = certificate(
        "C1",
        "2026-03-01",
        "ISO 9001:2015",
        CertificateStatus::Valid,
        "2026-01-01",
        "2027-12-31",
    );
    let required = Policy {
        required_certificates: vec!["ISO9001".into()],
        ..Policy::default()
    };
    let mut l = ledger_with(required.clone());
    l.apply(&audit);
    l.apply(&cert);
    let sc = l.scorecard(d("2026-04-01"), 90);
    let values = [1.0, 0.8, 0.7, 0.65, 0.5];
    let subs: Vec<f64> = values
        .iter()
        .map(|v: &f64| 100.0 * ((v - 0.4) / (0.9 - 0.4)).clamp(0.0, 1.0))
        .collect();
    let weights = [0.25, 0.25, 0.20, 0.20, 0.10];
    let capability = fsum(weights.iter().zip(&subs).map(|(w, s)| w * s)) / fsum(weights);
    assert_eq!(sc.dimensions[&Dimension::Capability], Some(capability));
    assert_eq!(sc.dimensions[&Dimension::Compliance], Some(100.0));
    assert_eq!(sc.coverage, fsum([0.10, 0.05]));
    assert_eq!(sc.composite, None, "coverage 0.15 < 0.5: UNRATED");
    assert_eq!(l.tier_on(d("2026-04-01")), Tier::Unrated);
    // Without required certificates compliance is insufficient.
    let mut plain = ledger();
    plain.apply(&audit);
    assert_eq!(
        plain.scorecard(d("2026-04-01"), 90).dimensions[&Dimension::Compliance],
        None
    );
    // A policy whose weights give them enough coverage rates the supplier.
    let mut heavy = required;
    heavy.dimensions.insert(Dimension::Capability, 0.4);
    heavy.dimensions.insert(Dimension::Compliance, 0.2);
    let mut rated = ledger_with(heavy);
    rated.apply(&audit);
    rated.apply(&cert);
    let sc = rated.scorecard(d("2026-04-01"), 90);
    assert_eq!(sc.coverage, fsum([0.4, 0.2]));
    let composite = fsum([0.4 * capability, 0.2 * 100.0]) / fsum([0.4, 0.2]);
    assert_eq!(sc.composite, Some(composite));
    assert_eq!(
        rated.tier_on(d("2026-04-01")),
        Tier::raw(rated.policy(), composite)
    );
}

#[test]
fn certificate_coverage_follows_status_changes_and_expiry() {
    let p = Policy {
        required_certificates: vec![
            "ISO 9001".into(),
            "iatf16949:2016".into(),
            "ISO9001:2015".into(),
        ],
        ..Policy::default()
    };
    let mut l = ledger_with(p);
    let cov = Indicator::CertificateCoverage;
    // First day 2026-01-01 (a PO line): two required standards (ISO9001 listed twice).
    l.apply(&placed("P", "2026-01-01", 10.0, "2026-02-01", None));
    assert_eq!(at(&l, cov, "2025-12-31"), (None, 0), "before the first day");
    assert_eq!(
        at(&l, cov, "2026-01-01"),
        (Some(0.0), 2),
        "sufficient, uncovered"
    );
    l.apply(&certificate(
        "C1",
        "2026-01-10",
        "ISO 9001:2015",
        CertificateStatus::Valid,
        "2026-01-05",
        "2026-06-30",
    ));
    l.apply(&certificate(
        "C2",
        "2026-01-20",
        "IATF 16949",
        CertificateStatus::Valid,
        "2026-01-01",
        "2026-12-31",
    ));
    // A record describes the certificate from its own date on.
    assert_eq!(at(&l, cov, "2026-01-09"), (Some(0.0), 2));
    assert_eq!(at(&l, cov, "2026-01-10"), (Some(0.5), 2));
    assert_eq!(at(&l, cov, "2026-01-20"), (Some(1.0), 2));
    // Suspended from 2026-03-01, valid again from 2026-04-01.
    l.apply(&certificate(
        "C2",
        "2026-03-01",
        "IATF 16949",
        CertificateStatus::Suspended,
        "2026-01-01",
        "2026-12-31",
    ));
    l.apply(&certificate(
        "C2",
        "2026-04-01",
        "IATF 16949",
        CertificateStatus::Valid,
        "2026-01-01",
        "2026-12-31",
    ));
    assert_eq!(at(&l, cov, "2026-02-28"), (Some(1.0), 2));
    assert_eq!(at(&l, cov, "2026-03-15"), (Some(0.5), 2));
    assert_eq!(at(&l, cov, "2026-04-01"), (Some(1.0), 2));
    // C1 expires after 2026-06-30.
    assert_eq!(at(&l, cov, "2026-06-30"), (Some(1.0), 2));
    assert_eq!(at(&l, cov, "2026-07-01"), (Some(0.5), 2));
    // An UNKNOWN status covers nothing.
    l.apply(&certificate(
        "C2",
        "2026-08-01",
        "IATF 16949",
        CertificateStatus::Unknown,
        "2026-01-01",
        "2026-12-31",
    ));
    assert_eq!(at(&l, cov, "2026-08-01"), (Some(0.0), 2));
    // The alert rule: below 1.0 is a WARNING, below 0.5 CRITICAL, state indicators walk daily.
    let episodes = l.alert_episodes(d("2026-08-10"));
    let critical: Vec<_> = episodes
        .iter()
        .filter(|e| e.rule == "certificate_coverage" && e.level == Level::Critical)
        .map(|e| (e.started_on, e.ended_on))
        .collect();
    assert_eq!(
        critical,
        [
            (d("2026-01-01"), Some(d("2026-01-10"))),
            (d("2026-08-01"), None)
        ]
    );
}

#[test]
fn violation_points_count_the_compliance_window_and_retractions_void() {
    let mut l = ledger();
    let vp = Indicator::ViolationPoints;
    l.apply(&placed("P", "2026-01-01", 10.0, "2026-02-01", None));
    assert_eq!(
        at(&l, vp, "2026-01-01"),
        (Some(0.0), 0),
        "0 from the first day"
    );
    l.apply(&violation("V1", "2026-02-01", ViolationSeverity::Major));
    l.apply(&violation("V2", "2026-02-10", ViolationSeverity::Minor));
    l.apply(&violation("V3", "2026-02-11", ViolationSeverity::Unknown));
    assert_eq!(at(&l, vp, "2026-02-01"), (Some(3.0), 1));
    assert_eq!(
        at(&l, vp, "2026-02-11"),
        (Some(4.0), 3),
        "UNKNOWN: a sample, 0 points"
    );
    // A violation leaves the 365-day window on its date + 365.
    assert_eq!(at(&l, vp, "2027-01-31"), (Some(4.0), 3));
    assert_eq!(at(&l, vp, "2027-02-01"), (Some(1.0), 2));
    // Amended to CRITICAL: severity from the latest record, date from the earliest.
    l.apply(&violation("V2", "2026-03-01", ViolationSeverity::Critical));
    assert_eq!(at(&l, vp, "2026-02-10"), (Some(13.0), 2));
    l.apply(&violation_retracted("V1", "2026-01-01T00:00"));
    assert_eq!(
        at(&l, vp, "2026-02-11"),
        (Some(10.0), 2),
        "V1 void for every date"
    );
    // Above 9 is CRITICAL.
    let critical = l
        .alert_episodes(d("2026-03-01"))
        .into_iter()
        .filter(|e| e.rule == "violation_points" && e.level == Level::Critical)
        .count();
    assert_eq!(critical, 1);
}

#[test]
fn external_risk_is_the_highest_valid_signal() {
    let mut l = ledger();
    let r = Indicator::ExternalRisk;
    l.apply(&placed("P", "2026-01-01", 10.0, "2026-02-01", None));
    l.apply(&risk("S1", "2026-01-10", 40.0, "2026-01-31"));
    l.apply(&risk("S2", "2026-01-15", 85.0, "2026-01-20"));
    assert_eq!(at(&l, r, "2026-01-09"), (Some(0.0), 0));
    assert_eq!(at(&l, r, "2026-01-10"), (Some(40.0), 1));
    assert_eq!(at(&l, r, "2026-01-15"), (Some(85.0), 2));
    assert_eq!(
        at(&l, r, "2026-01-21"),
        (Some(40.0), 1),
        "S2 ended on the 20th"
    );
    assert_eq!(at(&l, r, "2026-02-01"), (Some(0.0), 0));
    // A later record of S1 describes it from its own date on.
    l.apply(&risk("S1", "2026-01-25", 60.0, "2026-03-01"));
    assert_eq!(at(&l, r, "2026-01-24"), (Some(40.0), 1));
    assert_eq!(at(&l, r, "2026-02-01"), (Some(60.0), 1));
    let opened: Vec<_> = l
        .alert_episodes(d("2026-03-10"))
        .into_iter()
        .filter(|e| e.rule == "external_risk")
        .map(|e| (e.level, e.started_on, e.ended_on))
        .collect();
    // Warning above 50 from the 15th; it clears at <= 45 (margin 5) on the 21st (40),
    // opens again on the 25th (60) and clears when S1 ends (0 on 2026-03-02).
    assert_eq!(
        opened,
        [
            (Level::Warning, d("2026-01-15"), Some(d("2026-01-21"))),
            (Level::Warning, d("2026-01-25"), Some(d("2026-03-02"))),
            (Level::Critical, d("2026-01-15"), Some(d("2026-01-21"))),
        ]
    );
}

#[test]
fn late_promise_rate_looks_two_weeks_ahead_and_promise_slips_add_up() {
    let mut l = ledger();
    let late = Indicator::LatePromiseRate;
    // Five lines due 2026-02-15, placed 2026-01-02; two confirmed late on 2026-02-05.
    for n in 0..5 {
        l.apply(&placed(
            &format!("P{n}"),
            "2026-01-02",
            10.0,
            "2026-02-15",
            Some("2026-02-15"),
        ));
    }
    for n in 0..2 {
        l.apply(&confirmed(&format!("P{n}"), "2026-02-05", "2026-02-20"));
    }
    // Not yet within 14 days on 2026-01-31; from 2026-02-01 (due in d+1..=d+14).
    assert_eq!(at(&l, late, "2026-01-31"), (None, 0));
    assert_eq!(at(&l, late, "2026-02-01"), (Some(0.0), 5));
    assert_eq!(
        at(&l, late, "2026-02-04"),
        (Some(0.0), 5),
        "the confirmations are dated later"
    );
    assert_eq!(at(&l, late, "2026-02-05"), (Some(0.4), 5));
    assert_eq!(at(&l, late, "2026-02-14"), (Some(0.4), 5));
    assert_eq!(
        at(&l, late, "2026-02-15"),
        (None, 0),
        "due today: no longer ahead"
    );
    // A line received in full leaves; one with fewer than min_samples is insufficient.
    l.apply(&received("P4", "2026-02-10", 10.0));
    assert_eq!(at(&l, late, "2026-02-09"), (Some(0.4), 5));
    assert_eq!(at(&l, late, "2026-02-10"), (None, 4));
    // promise_slip_days: P0 and P1 moved the promise 5 days later on 2026-02-05; a
    // confirmation earlier than the promise before it counts 0.
    l.apply(&confirmed("P2", "2026-02-06", "2026-02-10"));
    let slip = l.window(Indicator::PromiseSlipDays, d("2026-02-28"), 30);
    assert_eq!(
        (slip.numerator(), slip.denominator(), slip.samples),
        (10.0, 3.0, 3)
    );
    let slip_value = indicator_value(l.policy(), Indicator::PromiseSlipDays, &slip);
    assert_eq!(slip_value.value, None, "3 samples < min_samples");
    // Neither is scored.
    assert_eq!(
        indicator_value(l.policy(), late, &l.window(late, d("2026-02-05"), 30)).subscore,
        None
    );
}

#[test]
fn status_follows_the_latest_decision_in_force() {
    use tierline_events::SupplierStatus::*;
    let t = |s: &str| common::t(s);
    let decision = |n: u128, at: &str, status, until: Option<&str>| Decision {
        occurred_at: t(at),
        event_id: uuid::Uuid::from_u128(n),
        source: "api:root".into(),
        status,
        reason: format!("r{n}"),
        valid_until: until.map(d),
    };
    let line = StatusLine::new(
        vec![
            decision(3, "2026-03-01", Suspended, Some("2026-03-31")),
            decision(1, "2026-01-10", Conditional, None),
            decision(4, "2026-05-01", Unknown, None),
            decision(5, "2026-06-01", Blacklisted, Some("2026-05-01")),
        ],
        |ts| Policy::default().day_of(ts),
    );
    let on = |day: &str| line.on(d(day)).status;
    assert_eq!(on("2026-01-09"), Approved, "no decision yet");
    assert_eq!(on("2026-01-10"), Conditional);
    assert_eq!(on("2026-03-15"), Suspended);
    assert_eq!(
        on("2026-04-01"),
        Conditional,
        "an expired decision gives way to the earlier one"
    );
    assert_eq!(on("2026-05-02"), Conditional, "UNKNOWN is ignored");
    assert_eq!(
        on("2026-06-02"),
        Conditional,
        "valid_until before its own date: never in force"
    );
    assert_eq!(line.since(d("2026-03-15")), Some(d("2026-03-01")));
    assert_eq!(line.since(d("2026-04-15")), Some(d("2026-04-01")));
    assert_eq!(line.reason(d("2026-04-15")), "r1");
    // An expiry that leaves nothing in force: back to APPROVED, reason expired:{id}.
    let alone = StatusLine::new(
        vec![decision(9, "2026-02-01", Suspended, Some("2026-02-10"))],
        |ts| Policy::default().day_of(ts),
    );
    assert_eq!(alone.on(d("2026-02-11")).status, Approved);
    assert_eq!(
        alone.reason(d("2026-02-11")),
        format!("expired:{}", uuid::Uuid::from_u128(9))
    );
    assert_eq!(alone.since(d("2026-02-11")), Some(d("2026-02-11")));
    assert_eq!(
        alone.since(d("2026-01-15")),
        None,
        "approved from the start"
    );
}
