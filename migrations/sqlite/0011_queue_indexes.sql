-- The worker's per-wake queries stay independent of the backlog (issue 23): the leases a
-- tenant holds are counted inside the claim's write transaction, and the next due time is
-- read before every nap; without these, both walked every pending signup.
CREATE INDEX signups_leased ON signups (tenant, lease_until) WHERE status = 'pending';
CREATE INDEX signups_pending_next ON signups (next_attempt_at) WHERE status = 'pending';
