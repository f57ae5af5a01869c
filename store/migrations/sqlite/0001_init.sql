-- First schema. Every *_us column is a UTC instant in microseconds since the
-- Unix epoch; NULL in an *_us column means "has not happened".

-- events is the source of truth: one row per analytics event.
CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    time_us   INTEGER NOT NULL,
    district  TEXT    NOT NULL,
    center    TEXT    NOT NULL,
    camera    TEXT    NOT NULL,
    type      TEXT    NOT NULL CHECK (type IN ('crossing', 'window', 'alert')),
    kind      TEXT    NOT NULL DEFAULT '',
    line_id   TEXT    NOT NULL DEFAULT '',
    direction TEXT    NOT NULL DEFAULT '',
    track     INTEGER NOT NULL DEFAULT 0,
    window_id TEXT    NOT NULL DEFAULT '',
    state     TEXT    NOT NULL DEFAULT '',
    count     INTEGER,
    frame     INTEGER NOT NULL DEFAULT 0,
    t         REAL    NOT NULL DEFAULT 0
);
CREATE INDEX events_time ON events (time_us);
CREATE INDEX events_center_time ON events (center, time_us);
CREATE INDEX events_camera_time ON events (camera, time_us);
CREATE INDEX events_window_state ON events (camera, window_id, time_us) WHERE type = 'window';

-- crossings_hourly is derived from crossing events in the same transaction
-- that stores them. It outlives the events' retention: planners compare years.
-- hour_start_us and day_start_us are the UTC instants where the local hour and
-- the local calendar day (in zone) begin; local_hour is the wall-clock key.
CREATE TABLE crossings_hourly (
    center        TEXT    NOT NULL,
    camera        TEXT    NOT NULL,
    line_id       TEXT    NOT NULL,
    hour_start_us INTEGER NOT NULL,
    local_hour    TEXT    NOT NULL,
    day_start_us  INTEGER NOT NULL,
    zone          TEXT    NOT NULL,
    district      TEXT    NOT NULL,
    in_count      INTEGER NOT NULL DEFAULT 0,
    out_count     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (center, camera, line_id, hour_start_us)
) WITHOUT ROWID;
CREATE INDEX crossings_hourly_center_hour ON crossings_hourly (center, hour_start_us);
CREATE INDEX crossings_hourly_center_day ON crossings_hourly (center, day_start_us);

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('unstaffed', 'camera_offline')),
    district    TEXT    NOT NULL,
    center      TEXT    NOT NULL,
    camera      TEXT    NOT NULL,
    window_id   TEXT    NOT NULL DEFAULT '',
    raised_us   INTEGER NOT NULL,
    acked_us    INTEGER,
    acked_by    TEXT    NOT NULL DEFAULT '',
    ack_comment TEXT    NOT NULL DEFAULT '',
    resolved_us INTEGER CHECK (resolved_us >= raised_us)
);
CREATE INDEX alerts_raised ON alerts (raised_us);
CREATE INDEX alerts_center_raised ON alerts (center, raised_us);
-- One open alert per condition: a restarted alert manager cannot raise a twin.
CREATE UNIQUE INDEX alerts_one_open ON alerts (kind, camera, window_id) WHERE resolved_us IS NULL;

-- Snapshots live apart so alert listings never read the JPEG bytes, and so
-- retention can drop the image while the alert row stays.
CREATE TABLE alert_snapshots (
    alert_id INTEGER PRIMARY KEY REFERENCES alerts (id) ON DELETE CASCADE,
    jpeg     BLOB    NOT NULL
);

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    display_name         TEXT    NOT NULL DEFAULT '',
    role                 TEXT    NOT NULL CHECK (role IN ('admin', 'district_supervisor', 'center_manager', 'planner')),
    districts            TEXT    NOT NULL DEFAULT '[]', -- JSON array of district ids
    centers              TEXT    NOT NULL DEFAULT '[]', -- JSON array of center ids
    password_hash        TEXT    NOT NULL,
    disabled             INTEGER NOT NULL DEFAULT 0,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    created_us           INTEGER NOT NULL,
    updated_us           INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    created_us   INTEGER NOT NULL,
    expires_us   INTEGER NOT NULL,
    last_seen_us INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_us);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT    NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    created_us   INTEGER NOT NULL,
    last_used_us INTEGER,
    revoked_us   INTEGER,
    UNIQUE (user_id, name)
);

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    time_us     INTEGER NOT NULL,
    user_name   TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT '',
    remote_addr TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_time ON audit (time_us);

-- notifications is the outbox: a row exists until the notifier delivered it.
-- next_attempt_us NULL means the notifier gave up; the row stays for review
-- until retention removes it.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    target          TEXT    NOT NULL,
    payload         BLOB    NOT NULL,
    created_us      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_us INTEGER,
    last_error      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX notifications_due ON notifications (target, next_attempt_us) WHERE next_attempt_us IS NOT NULL;
