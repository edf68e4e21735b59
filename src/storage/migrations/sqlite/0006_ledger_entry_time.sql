-- Version 6: the console's daily reconciliation and statements select ledger entries by time; without this index
-- each report scans the whole journal.
CREATE INDEX ledger_entries_created ON ledger_entries(created_at_ms);
