-- Auto-disable (ALERTWIRE_AUTO_DISABLE_AFTER) and operational notifications.

-- Since when every attempt to the destination has failed: set by the first
-- failed attempt, NULL again after any successful one (and on enabling).
ALTER TABLE destinations ADD COLUMN failing_since BIGINT;
-- Why a disabled destination is disabled, and since when; both NULL while enabled.
ALTER TABLE destinations ADD COLUMN disabled_reason TEXT CHECK (disabled_reason IN ('manual', 'auto'));
ALTER TABLE destinations ADD COLUMN disabled_at BIGINT;
-- Destinations disabled before this migration were disabled by a person.
UPDATE destinations SET disabled_reason = 'manual', disabled_at = updated_at
    WHERE NOT enabled AND deleted_at IS NULL;

-- The destinations that receive operational events (destination.disabled):
-- Settings -> Notifications. Deleted destinations are left out when read.
CREATE TABLE notification_destinations (
    destination_id BIGINT PRIMARY KEY REFERENCES destinations (id)
);

-- Deliveries that ended failed, by destination and when: the auto-disable
-- rule's count and the redelivery offered when enabling again.
CREATE INDEX deliveries_failed ON deliveries (destination_id, updated_at) WHERE status = 'failed';
