-- Version 5: the console. Its users (operators and merchants' logins), their sessions, failed logins (the login
-- rate limit) and the audit log; and a merchant's IP allowlist for API calls. Times are Unix milliseconds.
--
-- Sessions live here, not in a process, so any node serves any session. The cookie's token is never stored: only
-- its SHA-256 (hex), so a copy of the database opens no session.

ALTER TABLE merchants ADD COLUMN api_ip_allowlist TEXT NOT NULL DEFAULT '';  -- comma-separated addresses or CIDR
                                                                            -- ranges; empty: any address

CREATE TABLE console_users (
  user_id          INTEGER PRIMARY KEY AUTOINCREMENT,
  name             TEXT    NOT NULL UNIQUE,
  role             TEXT    NOT NULL CHECK (role = 'admin' OR role = 'support' OR role = 'merchant'),
  merchant_id      INTEGER REFERENCES merchants(merchant_id),   -- the merchant a merchant login belongs to
  password_hash    TEXT    NOT NULL,                            -- libsodium argon2id string
  enabled          INTEGER NOT NULL DEFAULT 1 CHECK (enabled = 0 OR enabled = 1),
  created_at_ms    INTEGER NOT NULL,
  updated_at_ms    INTEGER NOT NULL,
  last_login_at_ms INTEGER NOT NULL DEFAULT 0,
  CHECK ((role = 'merchant' AND merchant_id IS NOT NULL) OR (role <> 'merchant' AND merchant_id IS NULL))
);

CREATE TABLE console_sessions (
  token_hash      TEXT    PRIMARY KEY,   -- SHA-256 hex of the cookie's token
  user_id         INTEGER NOT NULL REFERENCES console_users(user_id),
  csrf_token      TEXT    NOT NULL,
  remote_ip       TEXT    NOT NULL,
  user_agent      TEXT    NOT NULL,
  created_at_ms   INTEGER NOT NULL,
  last_seen_at_ms INTEGER NOT NULL,
  expires_at_ms   INTEGER NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions(user_id);
CREATE INDEX console_sessions_expiry ON console_sessions(expires_at_ms);

CREATE TABLE console_login_failures (
  failure_id INTEGER PRIMARY KEY AUTOINCREMENT,
  name       TEXT    NOT NULL,
  remote_ip  TEXT    NOT NULL,
  at_ms      INTEGER NOT NULL
);
CREATE INDEX console_login_failures_name ON console_login_failures(name, at_ms);
CREATE INDEX console_login_failures_ip ON console_login_failures(remote_ip, at_ms);

CREATE TABLE audit_log (
  audit_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms         INTEGER NOT NULL,
  actor_user_id INTEGER,                 -- NULL for the CLI
  actor_name    TEXT    NOT NULL,        -- the console user, or cli:<unix user>
  actor_role    TEXT    NOT NULL,        -- admin, support, merchant or cli
  action        TEXT    NOT NULL,        -- e.g. merchant.update, order.resolve, payout.approve
  target_type   TEXT    NOT NULL,        -- merchant, order, user, product, channel, ...
  target_id     TEXT    NOT NULL,
  before_json   TEXT    NOT NULL,        -- JSON object; '{}' when the target is new
  after_json    TEXT    NOT NULL,
  remote_ip     TEXT    NOT NULL,
  request_id    TEXT    NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at_ms);
CREATE INDEX audit_log_target ON audit_log(target_type, target_id, at_ms);
CREATE INDEX audit_log_actor ON audit_log(actor_name, at_ms);
