-- A supplier's assessments, certificates, violations, risk signals, plans and status
-- decisions (few among its events) without reading all its events; also the suppliers
-- that have plans (the plans board).
CREATE INDEX events_profile ON events (supplier_id, position)
    WHERE record_name IN (
        'io.tierline.v1.SupplierAssessmentCompleted',
        'io.tierline.v1.SupplierAssessmentRetracted',
        'io.tierline.v1.SupplierCertificateRecorded',
        'io.tierline.v1.SupplierComplianceViolationRecorded',
        'io.tierline.v1.SupplierComplianceViolationRetracted',
        'io.tierline.v1.SupplierRiskSignalRecorded',
        'io.tierline.v1.RectificationPlanOpened',
        'io.tierline.v1.RectificationProgressReported',
        'io.tierline.v1.RectificationPlanClosed',
        'io.tierline.v1.SupplierStatusDecided'
    );
