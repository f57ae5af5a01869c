-- wall_views: a user's live-wall layouts, kept by the server so they follow
-- the user to any browser. The view named '' is the wall as its user last
-- left it (restored on the next visit); others are saved by name.
CREATE TABLE wall_views (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    layout     INTEGER NOT NULL CHECK (layout IN (1, 4, 9, 16)),
    cameras    TEXT    NOT NULL DEFAULT '[]', -- JSON array of camera ids, in tile order
    updated_us INTEGER NOT NULL,
    UNIQUE (user_id, name)
);

-- camera_coverage: when each camera's analysis first stored an event.
-- Reports start there: days before a camera was installed are not zeros.
-- Kept by AppendEvents; never purged (like crossings_hourly).
CREATE TABLE camera_coverage (
    camera   TEXT    PRIMARY KEY,
    first_us INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO camera_coverage (camera, first_us)
    SELECT camera, MIN(t) FROM (
        SELECT camera, MIN(time_us) AS t FROM events GROUP BY camera
        UNION ALL
        SELECT camera, MIN(hour_start_us) AS t FROM crossings_hourly GROUP BY camera) AS firsts
    GROUP BY camera;
