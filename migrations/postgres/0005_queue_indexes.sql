-- migrations/sqlite/0011_queue_indexes.sql in PostgreSQL's dialect: the leases a tenant holds
-- and the next due time, read on every worker wake, without walking the backlog.
CREATE INDEX signups_leased ON signups (tenant, lease_until) WHERE status = 'pending';
CREATE INDEX signups_pending_next ON signups (next_attempt_at) WHERE status = 'pending';
