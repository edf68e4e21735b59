-- Version 5: the console, the same tables, columns and meaning as sqlite/0005_console.sql. Its users (operators
-- and merchants' logins), their sessions, failed logins (the login rate limit) and the audit log; and a
-- merchant's IP allowlist for API calls. Times are Unix milliseconds; text compares bytewise (COLLATE "C").
-- Flags are SMALLINT 0/1 here (not BOOLEAN) so the console's portable SQL compares them the same on both engines.
--
-- Sessions live here, not in a process, so any node serves any session. The cookie's token is never stored: only
-- its SHA-256 (hex), so a copy of the database opens no session.

ALTER TABLE merchants ADD COLUMN api_ip_allowlist TEXT COLLATE "C" NOT NULL DEFAULT '';

CREATE TABLE console_users (
  user_id          BIGINT   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name             TEXT     COLLATE "C" NOT NULL UNIQUE,
  role             TEXT     COLLATE "C" NOT NULL CHECK (role IN ('admin', 'support', 'merchant')),
  merchant_id      BIGINT   REFERENCES merchants(merchant_id),
  password_hash    TEXT     COLLATE "C" NOT NULL,
  enabled          SMALLINT NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  created_at_ms    BIGINT   NOT NULL,
  updated_at_ms    BIGINT   NOT NULL,
  last_login_at_ms BIGINT   NOT NULL DEFAULT 0,
  CHECK ((role = 'merchant' AND merchant_id IS NOT NULL) OR (role <> 'merchant' AND merchant_id IS NULL))
);

CREATE TABLE console_sessions (
  token_hash      TEXT   COLLATE "C" PRIMARY KEY,
  user_id         BIGINT NOT NULL REFERENCES console_users(user_id),
  csrf_token      TEXT   COLLATE "C" NOT NULL,
  remote_ip       TEXT   COLLATE "C" NOT NULL,
  user_agent      TEXT   COLLATE "C" NOT NULL,
  created_at_ms   BIGINT NOT NULL,
  last_seen_at_ms BIGINT NOT NULL,
  expires_at_ms   BIGINT NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions(user_id);
CREATE INDEX console_sessions_expiry ON console_sessions(expires_at_ms);

CREATE TABLE console_login_failures (
  failure_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       TEXT   COLLATE "C" NOT NULL,
  remote_ip  TEXT   COLLATE "C" NOT NULL,
  at_ms      BIGINT NOT NULL
);
CREATE INDEX console_login_failures_name ON console_login_failures(name, at_ms);
CREATE INDEX console_login_failures_ip ON console_login_failures(remote_ip, at_ms);

CREATE TABLE audit_log (
  audit_id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at_ms         BIGINT NOT NULL,
  actor_user_id BIGINT,
  actor_name    TEXT   COLLATE "C" NOT NULL,
  actor_role    TEXT   COLLATE "C" NOT NULL,
  action        TEXT   COLLATE "C" NOT NULL,
  target_type   TEXT   COLLATE "C" NOT NULL,
  target_id     TEXT   COLLATE "C" NOT NULL,
  before_json   TEXT   COLLATE "C" NOT NULL,
  after_json    TEXT   COLLATE "C" NOT NULL,
  remote_ip     TEXT   COLLATE "C" NOT NULL,
  request_id    TEXT   COLLATE "C" NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at_ms);
CREATE INDEX audit_log_target ON audit_log(target_type, target_id, at_ms);
CREATE INDEX audit_log_actor ON audit_log(actor_name, at_ms);
