-- Verdicts from the field: acknowledging an alert says whether it was
-- right (confirmed) or a false alarm, and why (verdict_reason). And a new
-- kind, camera_blocked: the camera streams but shows nothing analysis can
-- use. SQLite cannot change a CHECK constraint in place, so the alerts
-- table is rebuilt; the snapshots are moved to a rebuilt table first, as
-- dropping the old alerts table would cascade to them.
CREATE TABLE alerts_v2 (
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL CHECK (kind IN ('unstaffed', 'camera_offline', 'camera_blocked')),
    district       TEXT    NOT NULL,
    center         TEXT    NOT NULL,
    camera         TEXT    NOT NULL,
    window_id      TEXT    NOT NULL DEFAULT '',
    raised_us      INTEGER NOT NULL,
    acked_us       INTEGER,
    acked_by       TEXT    NOT NULL DEFAULT '',
    ack_comment    TEXT    NOT NULL DEFAULT '',
    resolved_us    INTEGER CHECK (resolved_us >= raised_us),
    verdict        TEXT    NOT NULL DEFAULT '' CHECK (verdict IN ('', 'confirmed', 'false_alarm')),
    verdict_reason TEXT    NOT NULL DEFAULT '' CHECK (verdict_reason IN ('', 'clerk_present', 'view_blocked', 'zone_wrong', 'other'))
);
INSERT INTO alerts_v2 (id, kind, district, center, camera, window_id, raised_us, acked_us, acked_by, ack_comment, resolved_us)
    SELECT id, kind, district, center, camera, window_id, raised_us, acked_us, acked_by, ack_comment, resolved_us FROM alerts;
CREATE TABLE alert_snapshots_v2 (
    alert_id INTEGER PRIMARY KEY REFERENCES alerts_v2 (id) ON DELETE CASCADE,
    jpeg     BLOB    NOT NULL
);
INSERT INTO alert_snapshots_v2 (alert_id, jpeg) SELECT alert_id, jpeg FROM alert_snapshots;
DROP TABLE alert_snapshots;
DROP TABLE alerts;
ALTER TABLE alerts_v2 RENAME TO alerts;
ALTER TABLE alert_snapshots_v2 RENAME TO alert_snapshots;
CREATE INDEX alerts_raised ON alerts (raised_us);
CREATE INDEX alerts_center_raised ON alerts (center, raised_us);
-- One open alert per condition: a restarted alert manager cannot raise a twin.
CREATE UNIQUE INDEX alerts_one_open ON alerts (kind, camera, window_id) WHERE resolved_us IS NULL;
