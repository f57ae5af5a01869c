// Package store persists hallwatch's events, alerts, users, sessions, API
// tokens, audit log, notification outbox and the index of recordings in an
// embedded SQLite database.
//
// All SQL lives here. The API speaks Go types only (time.Time, not SQLite
// integers), so a PostgreSQL backend could implement the same methods;
// consumers declare small interfaces with the subset they use.
//
// Decisions worth knowing:
//
//   - Events are the source of truth. AppendEvents stores a batch and updates
//     the hourly crossing counts in the same transaction; when it returns nil
//     the batch is on disk (WAL, synchronous=FULL), on error none of it is.
//   - Time: instants are stored as UTC microseconds (PostgreSQL's precision).
//     Crossings are bucketed at insert by the center's zone (EventRecord.Loc):
//     each hourly row keeps the UTC start of its local hour and of its local
//     day, so Counts needs no time-zone arithmetic and DST days come out with
//     23 or 25 hours.
//   - Retention: Purge drops old events, snapshots (the alert rows stay),
//     audit entries and given-up notifications. Hourly counts are never
//     purged: they are tiny and planners compare years. Counts therefore read
//     the aggregates, not the events.
//   - Staffing reports: the store supplies the window state changes (Events
//     with Types window, and LastWindowStates for the state at the start of
//     the day); the arithmetic against opening hours lives with the config.
//   - Recording: the store indexes video segments and alert clips (files
//     under a storage path, written and deleted by package record); it never
//     holds video. Alert.HasVideo says whether a clip or recording covers an
//     alert. Segment queries by time rely on MaxSegmentSpan.
//   - Scope: an empty Centers list in a query means all centers. Callers that
//     enforce a user's scope must always pass the user's centers.
//   - Not-found, conflict and invalid-input errors match ErrNotFound,
//     ErrConflict and ErrInvalid with errors.Is.
package store
