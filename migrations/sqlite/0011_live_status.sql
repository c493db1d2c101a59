-- Live status: each server process that has a live page open polls for the
-- deliveries changed since its last look (`updated_at` is set by every write
-- to a delivery). Without this index that poll would scan the whole table.
CREATE INDEX deliveries_by_update ON deliveries (updated_at, id);
