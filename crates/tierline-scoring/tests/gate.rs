//! The order gate's rules, each worked by hand (docs/scoring.md "The gate"): which
//! reasons hold, their order, each one's decision per action, the most severe one wins,
//! and a policy can turn a rule off or make it block.

#![allow(clippy::unwrap_used)]

use tierline_events::SupplierStatus;
use tierline_scoring::{GateAction, GateDecision, GateFacts, GatePolicy, GateRule, Policy, gate};

fn clean() -> GateFacts {
    GateFacts {
        seen: true,
        status: SupplierStatus::Approved,
        status_reason: String::new(),
        tier: Some("PREFERRED".into()),
        credit: Some((100.0, "A")),
        critical_open: Vec::new(),
        failed_plans: Vec::new(),
    }
}

fn codes(f: &GateFacts, action: GateAction) -> (GateDecision, Vec<&'static str>) {
    let a = gate(&GatePolicy::default(), action, f);
    (a.decision, a.reasons.iter().map(|r| r.0).collect())
}

#[test]
fn a_clean_supplier_is_allowed_without_reasons() {
    let a = gate(&GatePolicy::default(), GateAction::Po, &clean());
    assert_eq!((a.decision, a.reasons.len()), (GateDecision::Allow, 0));
}

#[test]
fn each_status_rule_decides_per_action() {
    use GateDecision::{Block, Warn};
    for (status, po, rfq, code) in [
        (
            SupplierStatus::Blacklisted,
            Block,
            Block,
            "status_blacklisted",
        ),
        (SupplierStatus::Suspended, Block, Warn, "status_suspended"),
        (
            SupplierStatus::Conditional,
            Warn,
            Warn,
            "status_conditional",
        ),
    ] {
        let f = GateFacts {
            status,
            status_reason: "audit failed".into(),
            ..clean()
        };
        assert_eq!(codes(&f, GateAction::Po), (po, vec![code]), "{status:?} po");
        assert_eq!(
            codes(&f, GateAction::Rfq),
            (rfq, vec![code]),
            "{status:?} rfq"
        );
        let a = gate(&GatePolicy::default(), GateAction::Po, &f);
        assert!(a.reasons[0].1.contains("audit failed"), "{:?}", a.reasons);
    }
}

#[test]
fn each_warning_rule_warns_and_they_are_listed_in_the_gate_order() {
    let cases: [(GateFacts, &str); 5] = [
        (
            GateFacts {
                tier: Some("AT_RISK".into()),
                ..clean()
            },
            "tier_at_risk",
        ),
        (
            GateFacts {
                credit: Some((59.0, "D")),
                ..clean()
            },
            "credit_class_d",
        ),
        (
            GateFacts {
                critical_open: vec!["defect_ppm".into()],
                ..clean()
            },
            "critical_alert_open",
        ),
        (
            GateFacts {
                failed_plans: vec![("P-1".into(), "otif_rate".into(), "2026-05-01".into())],
                ..clean()
            },
            "plan_failed",
        ),
        (
            GateFacts {
                seen: false,
                tier: None,
                credit: None,
                ..clean()
            },
            "not_evaluated",
        ),
    ];
    for (f, code) in &cases {
        for action in [GateAction::Po, GateAction::Rfq] {
            assert_eq!(
                codes(f, action),
                (GateDecision::Warn, vec![*code]),
                "{code}"
            );
        }
    }
    // Credit class C (60) is not D; the tier PREFERRED is not AT_RISK.
    let c = GateFacts {
        credit: Some((60.0, "C")),
        ..clean()
    };
    assert_eq!(codes(&c, GateAction::Po), (GateDecision::Allow, vec![]));
    // All at once, with a suspension: BLOCK for a PO, WARN for an RFQ, every reason in
    // the order of the gate's list.
    let all = GateFacts {
        status: SupplierStatus::Suspended,
        tier: Some("AT_RISK".into()),
        credit: Some((10.0, "D")),
        critical_open: vec!["otif_rate".into()],
        failed_plans: vec![("P-1".into(), "otif_rate".into(), "2026-05-01".into())],
        ..clean()
    };
    let order = vec![
        "status_suspended",
        "tier_at_risk",
        "credit_class_d",
        "critical_alert_open",
        "plan_failed",
    ];
    assert_eq!(
        codes(&all, GateAction::Po),
        (GateDecision::Block, order.clone())
    );
    assert_eq!(codes(&all, GateAction::Rfq), (GateDecision::Warn, order));
}

#[test]
fn the_policy_turns_a_rule_off_or_makes_it_block_and_keeps_the_others() {
    let text = format!(
        "{}\n[gate.rules.tier_at_risk]\npo = \"ALLOW\"\nrfq = \"ALLOW\"\n\n[gate.rules.critical_alert_open]\npo = \"BLOCK\"\nrfq = \"WARN\"\n",
        Policy::default().to_toml().split("[gate]").next().unwrap()
    );
    let policy = Policy::from_toml(&text).unwrap();
    let f = GateFacts {
        tier: Some("AT_RISK".into()),
        critical_open: vec!["defect_ppm".into()],
        status: SupplierStatus::Blacklisted,
        ..clean()
    };
    let a = gate(&policy.gate, GateAction::Po, &f);
    let got: Vec<_> = a.reasons.iter().map(|r| (r.0, r.2)).collect();
    assert_eq!(
        got,
        vec![
            // Left out of the file: keeps its default.
            ("status_blacklisted", GateDecision::Block),
            ("critical_alert_open", GateDecision::Block),
        ]
    );
    assert_eq!(
        policy.gate.rules.get("critical_alert_open"),
        Some(&GateRule {
            po: GateDecision::Block,
            rfq: GateDecision::Warn
        })
    );
    let bad = format!("{text}\n[gate.rules.tier_is_purple]\npo = \"WARN\"\nrfq = \"WARN\"\n");
    let err = Policy::from_toml(&bad).unwrap_err().to_string();
    assert!(err.contains("gate.rules.tier_is_purple"), "{err}");
}
