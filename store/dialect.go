package store

import (
	"strconv"
	"strings"
)

// dialect is what differs between the SQL databases the store runs on.
// Queries are written once, in the SQL both understand, with ? for
// parameters; only the schema files and these few settings differ.
type dialect struct {
	name string // "sqlite" or "postgres": also the migrations directory
	// dollar numbers parameters $1, $2… (PostgreSQL) instead of ?.
	dollar bool
	// lockMigrations, when set, runs first in the migration transaction
	// and keeps other processes out until it ends (several hallwatch nodes
	// may start at once on one PostgreSQL database). SQLite's BEGIN
	// IMMEDIATE does this by itself.
	lockMigrations string
}

var (
	sqliteDialect   = &dialect{name: DriverSQLite}
	postgresDialect = &dialect{name: DriverPostgres, dollar: true,
		lockMigrations: "SELECT pg_advisory_xact_lock(7418812202)"} // any constant; hallwatch's own
)

// rebind rewrites the ? parameters of query for the dialect. A ? inside a
// quoted literal or identifier stays as it is.
func (d *dialect) rebind(query string) string {
	if !d.dollar || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte // ' or " while inside one
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
