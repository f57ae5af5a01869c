-- The editor's geometry versions and run-time settings, as in
-- ../sqlite/0002_geometry.sql (read the comments there).
CREATE TABLE camera_geometry (
    camera    TEXT    NOT NULL,
    version   INTEGER NOT NULL CHECK (version >= 1),
    saved_us  BIGINT  NOT NULL,
    user_name TEXT    NOT NULL,
    geometry  TEXT    NOT NULL DEFAULT '',
    changes   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (camera, version)
);
CREATE INDEX camera_geometry_saved ON camera_geometry (camera, saved_us);

CREATE TABLE settings (
    name       TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_us BIGINT  NOT NULL,
    user_name  TEXT    NOT NULL
);
