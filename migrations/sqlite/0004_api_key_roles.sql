-- What each API key may do; keys made before roles existed keep working as admin.
ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'
    CHECK (role IN ('ingest', 'viewer', 'editor', 'admin'));
