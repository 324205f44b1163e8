-- A tenant's 429 pause, kept so a restart inside its Retry-After window waits it out for new
-- signups too (pending signups already carry it in `next_attempt_at`). One row per tenant,
-- holding the latest end of a pause in Unix ms; a past value means no pause.
CREATE TABLE tenant_holds (
    tenant TEXT PRIMARY KEY NOT NULL,
    until_ms INTEGER NOT NULL
);
