-- Certificates of every supplier (the expiring-certificates list) without a scan.
CREATE INDEX events_certificates ON events (supplier_id, position)
    WHERE record_name = 'io.tierline.v1.SupplierCertificateRecorded';
