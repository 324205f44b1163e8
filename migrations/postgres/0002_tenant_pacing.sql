-- A tenant's next free call slot under `max_rate_per_tenant` (Unix ms), shared by every
-- instance on the database.
CREATE TABLE tenant_pacing (
    tenant       TEXT PRIMARY KEY NOT NULL,
    next_slot_ms BIGINT NOT NULL
);
