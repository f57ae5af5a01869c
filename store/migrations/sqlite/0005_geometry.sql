-- camera_geometry keeps every version of the geometry drawn in the web
-- editor (lines, zones, window names and backups), per camera, numbered
-- 1, 2, 3…; the newest is in force. geometry is the editor's JSON, or ''
-- for "the configuration file's again" (a revert). changes says what
-- differs from the version before, for people. Kept forever: tiny, and
-- playback shows the geometry of its time.
CREATE TABLE camera_geometry (
    camera    TEXT    NOT NULL,
    version   INTEGER NOT NULL CHECK (version >= 1),
    saved_us  INTEGER NOT NULL,
    user_name TEXT    NOT NULL,
    geometry  TEXT    NOT NULL DEFAULT '',
    changes   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (camera, version)
) WITHOUT ROWID;
CREATE INDEX camera_geometry_saved ON camera_geometry (camera, saved_us);

-- settings are values admins change at run time, by name.
CREATE TABLE settings (
    name       TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_us INTEGER NOT NULL,
    user_name  TEXT    NOT NULL
) WITHOUT ROWID;

-- services are the visitors served at windows: present in a window's
-- service zone for at least its service_min, from start to end (the
-- departure). Purged with the events.
CREATE TABLE services (
    id        INTEGER PRIMARY KEY,
    start_us  INTEGER NOT NULL,
    end_us    INTEGER NOT NULL CHECK (end_us >= start_us),
    district  TEXT    NOT NULL,
    center    TEXT    NOT NULL,
    camera    TEXT    NOT NULL,
    window_id TEXT    NOT NULL,
    track     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX services_center_start ON services (center, start_us);
CREATE INDEX services_start ON services (start_us);
