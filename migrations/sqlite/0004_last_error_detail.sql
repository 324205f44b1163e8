-- lastError in two forms: `last_error` is what API answers show (a category and a short reason),
-- `last_error_detail` the full story for the log and `signups show` (emails masked).
ALTER TABLE signups ADD COLUMN last_error_detail TEXT;

-- Rows written before this version hold the full detail in `last_error`: keep it as the detail
-- and show senders only that an error was recorded.
UPDATE signups SET last_error_detail = last_error, last_error = 'unknown: recorded by an earlier version'
WHERE last_error IS NOT NULL;
