package store

import "testing"

func TestNumberPlaceholdersSkipsQuotedText(t *testing.T) {
	got, n := numberPlaceholders(`SELECT ? FROM "odd?name" WHERE a = '?' AND b IN (?, ?) AND c = 'it''s?'`)
	want := `SELECT $1 FROM "odd?name" WHERE a = '?' AND b IN ($2, $3) AND c = 'it''s?'`
	if got != want || n != 3 {
		t.Fatalf("numberPlaceholders = %q, %d; want %q, 3", got, n, want)
	}
}
