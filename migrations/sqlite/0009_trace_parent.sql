-- The W3C traceparent of a signup's intake span (SPEC §19): its delivery runs join that trace.
ALTER TABLE signups ADD COLUMN trace_parent TEXT;
