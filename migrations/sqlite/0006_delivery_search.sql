-- The Deliveries tab's filters: a time range, a webhook-id, an asset name prefix.
CREATE INDEX deliveries_by_time ON deliveries (created_at, id);
CREATE INDEX deliveries_by_msg_id ON deliveries (msg_id);
-- Byte order (SQLite's BINARY collation), so a prefix is a range on it.
CREATE INDEX events_by_name ON events (qualified_name);
