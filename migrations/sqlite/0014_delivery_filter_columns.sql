-- The Deliveries tab's filters read only `deliveries` (issue 10, "Speed"):
-- the alert's rule, the event's type and the asset's qualified name are kept
-- on the delivery, written with it at ingest, so each filter walks an index
-- newest first and stops at a page instead of joining the whole history.
ALTER TABLE deliveries ADD COLUMN rule_id BIGINT REFERENCES rules (id) ON DELETE SET NULL;
ALTER TABLE deliveries ADD COLUMN event_type TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN asset_name TEXT NOT NULL DEFAULT '';
-- Rebuilt wider below; dropped first so the backfill does not update them.
DROP INDEX deliveries_by_status;
DROP INDEX deliveries_by_destination;
UPDATE deliveries SET rule_id = a.rule_id, event_type = e.type, asset_name = e.qualified_name
  FROM alerts a JOIN events e ON e.id = a.event_id WHERE a.id = deliveries.alert_id;

-- One index per filter, (column, id, then every other filter column): a
-- filter walks its leading column's index newest first and tests the other
-- filters in the index alone (`store/deliveries.rs::filter_sql` picks the
-- lead), so a combination that matches nothing reads the index entries of
-- one value, never the table. The status and destination indexes grow the
-- same columns.
CREATE INDEX deliveries_by_status ON deliveries (status, id, retry, destination_id, rule_id, event_type, created_at);
CREATE INDEX deliveries_by_event_type ON deliveries (event_type, id, status, retry, destination_id, rule_id, created_at);
CREATE INDEX deliveries_by_asset ON deliveries (asset_name, id, status, retry, destination_id, rule_id, event_type, created_at);
CREATE INDEX deliveries_by_rule ON deliveries (rule_id, id, status, retry, destination_id, event_type, created_at);
CREATE INDEX deliveries_by_destination ON deliveries (destination_id, id, status, retry, rule_id, event_type, created_at);
