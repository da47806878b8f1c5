-- The read API's supplier list: pages in score order without sorting every row.
CREATE INDEX scorecards_by_score ON scorecards (window_days, composite DESC NULLS LAST, supplier_id COLLATE "C");
