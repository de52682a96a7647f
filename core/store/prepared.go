package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// PostgreSQL spends more time parsing and planning the engine's short write
// statements than running them. Statements registered here are prepared by
// name (PREPARE, session-level) on every PostgreSQL connection the store
// opens, and the write path sends "EXECUTE name(args)" instead of the
// statement: still plain SQL text, so several statements keep travelling in
// one simple-query message. See RATIONALE.md.

// PreparedStatement is one registered statement: Name, the query with "?"
// placeholders, and how many it has.
type PreparedStatement struct {
	Name   string
	Query  string
	Params int
	// Types, when not empty, are the parameters' PostgreSQL types, for
	// statements whose types PostgreSQL cannot infer.
	Types []string
	// Execute runs the statement, with "?" placeholders for its arguments:
	// "EXECUTE name(?, ?)".
	Execute string
	sql     string // the PREPARE statement
}

var (
	preparedMu     sync.Mutex
	preparedByName = map[string]*PreparedStatement{}
	preparedList   []*PreparedStatement
	// preparedFrozen is set once a database opened: registering later would
	// leave connections without the statement.
	preparedFrozen atomic.Bool
)

// RegisterPostgresStatement registers query (with "?" placeholders) under
// name, to be prepared on every PostgreSQL connection; types optionally give
// each parameter's type. It must be called at package initialisation,
// before any database is opened (it panics otherwise, or on a name used
// twice). Names are SQL identifiers.
func RegisterPostgresStatement(name, query string, types ...string) *PreparedStatement {
	if preparedFrozen.Load() {
		panic("store: RegisterPostgresStatement " + name + " after a database was opened")
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			panic("store: prepared statement name " + strconv.Quote(name) + " is not a lower-case identifier")
		}
	}
	numbered, n := numberPlaceholders(query)
	if len(types) != 0 && len(types) != n {
		panic(fmt.Sprintf("store: prepared statement %s has %d parameters but %d types", name, n, len(types)))
	}
	head := "PREPARE " + name
	if len(types) != 0 {
		head += "(" + strings.Join(types, ", ") + ")"
	}
	exec := "EXECUTE " + name
	if n > 0 {
		exec += "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	}
	s := &PreparedStatement{Name: name, Query: query, Params: n, Types: types, Execute: exec, sql: head + " AS " + numbered}
	preparedMu.Lock()
	defer preparedMu.Unlock()
	if _, dup := preparedByName[name]; dup {
		panic("store: prepared statement " + name + " registered twice")
	}
	preparedByName[name] = s
	preparedList = append(preparedList, s)
	return s
}

// PostgresStatements lists the registered statements, in registration order.
func PostgresStatements() []*PreparedStatement {
	preparedMu.Lock()
	defer preparedMu.Unlock()
	return append([]*PreparedStatement(nil), preparedList...)
}

// numberPlaceholders turns the "?" placeholders of query into $1..$n,
// leaving quoted strings and identifiers alone.
func numberPlaceholders(query string) (string, int) {
	var b strings.Builder
	n := 0
	var quote byte
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
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String(), n
}

// preparingConnector opens PostgreSQL connections and, once armed (after
// migrations, when the tables the statements name exist), prepares every
// registered statement on each new one, in one message.
type preparingConnector struct {
	driver.Connector
	armed atomic.Bool
}

func (c *preparingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil || !c.armed.Load() {
		return conn, err
	}
	var all strings.Builder
	for _, s := range PostgresStatements() {
		all.WriteString(s.sql)
		all.WriteString(";\n")
	}
	if all.Len() == 0 {
		return conn, nil
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("PostgreSQL driver connection %T cannot run statements", conn)
	}
	if _, err := ex.ExecContext(ctx, all.String(), nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("prepare statements: %w", err)
	}
	return conn, nil
}
