-- queue_minutes are the people waiting in each queue zone, a row per zone
-- and minute (minute_us, its start): the most at once and the mean.
-- Purged with the events.
CREATE TABLE queue_minutes (
    id          INTEGER PRIMARY KEY,
    minute_us   INTEGER NOT NULL,
    district    TEXT    NOT NULL,
    center      TEXT    NOT NULL,
    camera      TEXT    NOT NULL,
    zone        TEXT    NOT NULL,
    max_people  INTEGER NOT NULL CHECK (max_people >= 0),
    mean_people REAL    NOT NULL CHECK (mean_people >= 0)
);
CREATE INDEX queue_minutes_center_minute ON queue_minutes (center, minute_us);
CREATE INDEX queue_minutes_minute ON queue_minutes (minute_us);

-- waits are the visitors' waits in queue zones, from entering the zone
-- (start_us) to reaching a window's service zone (end_us). estimated: the
-- track was lost on the way and the wait is the people ahead over the
-- service rate (window_id is then ''). Purged with the events.
CREATE TABLE waits (
    id        INTEGER PRIMARY KEY,
    start_us  INTEGER NOT NULL,
    end_us    INTEGER NOT NULL CHECK (end_us >= start_us),
    district  TEXT    NOT NULL,
    center    TEXT    NOT NULL,
    camera    TEXT    NOT NULL,
    zone      TEXT    NOT NULL,
    window_id TEXT    NOT NULL DEFAULT '',
    track     INTEGER NOT NULL DEFAULT 0,
    estimated INTEGER NOT NULL DEFAULT 0 CHECK (estimated IN (0, 1))
);
CREATE INDEX waits_center_start ON waits (center, start_us);
CREATE INDEX waits_start ON waits (start_us);
