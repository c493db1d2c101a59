-- The configuration generation (issue 11): a counter bumped, inside the
-- changing transaction, by every change to what ingest matches events with
-- (rules, their destinations, a destination's enabled state) or what the
-- engine sends with (a destination's URL, authentication, headers, signing
-- secrets). Processes keep rules and destinations in memory and read them
-- again only when the counter has moved; a bump commits with the change, so
-- a process that still reads the old value still sees the old rows too.
-- Attempt bookkeeping (health, failing_since) touches none of these columns.
CREATE TABLE config_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO config_generation (id, n) VALUES (1, 0);

CREATE FUNCTION bump_config_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE config_generation SET n = n + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER rules_bump AFTER INSERT OR UPDATE OR DELETE ON rules
    FOR EACH STATEMENT EXECUTE FUNCTION bump_config_generation();
CREATE TRIGGER rule_destinations_bump AFTER INSERT OR UPDATE OR DELETE ON rule_destinations
    FOR EACH STATEMENT EXECUTE FUNCTION bump_config_generation();
CREATE TRIGGER destinations_bump AFTER INSERT OR DELETE OR UPDATE OF
    url, auth_type, auth_header, auth_secret, headers, signing_secret,
    previous_secret, previous_secret_expires_at, enabled, deleted_at
    ON destinations
    FOR EACH STATEMENT EXECUTE FUNCTION bump_config_generation();
