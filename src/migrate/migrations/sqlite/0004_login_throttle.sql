-- Failed-login counters (issue 22), shared by every instance and kept over
-- a restart.  key is a SHA-256 (hex) of what is counted: a client address,
-- an account, or an account from one address; nothing in clear.  Instants
-- are seconds since the epoch.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    blocked_until INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX login_throttle_window_start_idx ON login_throttle (window_start);
