-- Recording: the index of the video segments on disk, alert clips, and
-- alert kinds beyond the first two (storage_full). Kinds are now checked
-- in Go (checkAlert), so a new kind needs no table rebuild.

-- alerts is rebuilt without the kind list. Its snapshots are moved aside
-- first: dropping a parent table with foreign keys on would delete them.
CREATE TABLE alerts_new (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind <> ''),
    district    TEXT    NOT NULL,
    center      TEXT    NOT NULL,
    camera      TEXT    NOT NULL,
    window_id   TEXT    NOT NULL DEFAULT '',
    raised_us   INTEGER NOT NULL,
    acked_us    INTEGER,
    acked_by    TEXT    NOT NULL DEFAULT '',
    ack_comment TEXT    NOT NULL DEFAULT '',
    resolved_us INTEGER CHECK (resolved_us >= raised_us),
    verdict        TEXT NOT NULL DEFAULT '' CHECK (verdict IN ('', 'confirmed', 'false_alarm')),
    verdict_reason TEXT NOT NULL DEFAULT '' CHECK (verdict_reason IN ('', 'clerk_present', 'view_blocked', 'zone_wrong', 'other'))
);
INSERT INTO alerts_new SELECT id, kind, district, center, camera, window_id, raised_us, acked_us, acked_by,
    ack_comment, resolved_us, verdict, verdict_reason FROM alerts;
CREATE TABLE snapshots_moving AS SELECT alert_id, jpeg FROM alert_snapshots;
DROP TABLE alert_snapshots;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
CREATE INDEX alerts_raised ON alerts (raised_us);
CREATE INDEX alerts_center_raised ON alerts (center, raised_us);
CREATE UNIQUE INDEX alerts_one_open ON alerts (kind, camera, window_id) WHERE resolved_us IS NULL;
CREATE TABLE alert_snapshots (
    alert_id INTEGER PRIMARY KEY REFERENCES alerts (id) ON DELETE CASCADE,
    jpeg     BLOB    NOT NULL
);
INSERT INTO alert_snapshots SELECT alert_id, jpeg FROM snapshots_moving;
DROP TABLE snapshots_moving;

-- recordings indexes the fragmented MP4 segments of continuous recording.
-- root is the storage path (the unit of a disk budget), path the file
-- relative to it. closed = 0 while the segment is being written: end_us and
-- bytes then lag the file by a few seconds, and after a crash the file is
-- scanned to find them.
CREATE TABLE recordings (
    id       INTEGER PRIMARY KEY,
    camera   TEXT    NOT NULL,
    root     TEXT    NOT NULL,
    path     TEXT    NOT NULL,
    codec    TEXT    NOT NULL,
    start_us INTEGER NOT NULL,
    end_us   INTEGER NOT NULL CHECK (end_us >= start_us),
    bytes    INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    closed   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (root, path)
);
CREATE INDEX recordings_camera_start ON recordings (camera, start_us);
CREATE INDEX recordings_root_start ON recordings (root, start_us);

-- clips are alert video cut from the recording (MP4 files under root),
-- kept for retention.clips. A row with bytes = 0 and path '' records that
-- there was no video to cut (or that retention removed it).
CREATE TABLE clips (
    alert_id   INTEGER PRIMARY KEY REFERENCES alerts (id) ON DELETE CASCADE,
    camera     TEXT    NOT NULL,
    root       TEXT    NOT NULL,
    path       TEXT    NOT NULL DEFAULT '',
    start_us   INTEGER NOT NULL,
    end_us     INTEGER NOT NULL CHECK (end_us >= start_us),
    bytes      INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    created_us INTEGER NOT NULL
);
CREATE INDEX clips_root ON clips (root) WHERE bytes > 0;
