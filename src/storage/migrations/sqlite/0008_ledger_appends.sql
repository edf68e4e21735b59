-- Version 8: the journal's two append-only tables rebuilt so that each entry writes less (docs/performance.md).
-- ledger_entries drops AUTOINCREMENT, which only added an update of sqlite_sequence to every entry: entries are
-- never deleted, so the next id of a plain INTEGER PRIMARY KEY (the largest plus one) is never a reused one.
-- ledger_postings becomes WITHOUT ROWID, stored by its primary key (entry_id, account): one b-tree per posting
-- instead of two (the table and its key), and postings still land in entry order. The procedure is SQLite's for
-- a changed table (new table, copy, drop, rename, indexes); foreign keys are off while migrations run and checked
-- before the commit.

CREATE TABLE ledger_entries_v8 (
  entry_id      INTEGER PRIMARY KEY,
  kind          TEXT    NOT NULL,
  reference     TEXT    NOT NULL,   -- the order the entry belongs to
  created_at_ms INTEGER NOT NULL
);
INSERT INTO ledger_entries_v8 (entry_id, kind, reference, created_at_ms)
  SELECT entry_id, kind, reference, created_at_ms FROM ledger_entries;

CREATE TABLE ledger_postings_v8 (
  entry_id    INTEGER NOT NULL REFERENCES ledger_entries(entry_id),
  account     TEXT    NOT NULL REFERENCES ledger_accounts(account),
  amount_fen  INTEGER NOT NULL,
  PRIMARY KEY (entry_id, account)
) WITHOUT ROWID;
INSERT INTO ledger_postings_v8 (entry_id, account, amount_fen)
  SELECT entry_id, account, amount_fen FROM ledger_postings;

DROP TABLE ledger_postings;
DROP TABLE ledger_entries;
ALTER TABLE ledger_entries_v8 RENAME TO ledger_entries;
ALTER TABLE ledger_postings_v8 RENAME TO ledger_postings;
CREATE INDEX ledger_entries_reference ON ledger_entries(reference);
CREATE INDEX ledger_entries_created ON ledger_entries(created_at_ms);
CREATE INDEX ledger_postings_account ON ledger_postings(account, entry_id);
