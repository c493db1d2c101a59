-- SQLite only (issue 11, "Speed"): recording an attempt changes a delivery's
-- `status` and `retry`, and SQLite moves the delivery's entry in every index
-- that holds either, so migration 0014's five wide indexes cost each recorded
-- attempt five index moves. Three of them lose the two columns here; the
-- status index keeps them (it leads on status), and so does the asset index
-- (a prefix search over many names tests the status in its entries: read
-- from the rows it took 60 ms at 1,000,000 deliveries). A status other than
-- `delivered` now leads a filter on SQLite (`store/deliveries.rs`,
-- `Lead::of`), and a `delivered` filter behind another lead reads the row.
-- PostgreSQL keeps the wide indexes: its update writes a new row version and
-- an entry in every index whatever changed (unless HOT), so narrowing them
-- saves it nothing and cost its filters up to 25 ms (BENCHMARKS.md).
DROP INDEX deliveries_by_event_type;
DROP INDEX deliveries_by_rule;
DROP INDEX deliveries_by_destination;
CREATE INDEX deliveries_by_event_type ON deliveries (event_type, id, destination_id, rule_id, created_at);
CREATE INDEX deliveries_by_rule ON deliveries (rule_id, id, destination_id, event_type, created_at);
CREATE INDEX deliveries_by_destination ON deliveries (destination_id, id, rule_id, event_type, created_at);
