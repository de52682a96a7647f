package main

// The one output style of every command: human text or tables by default,
// and with --json exactly one JSON value on one line, for scripts.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// jsonFlag is the name of the root's persistent flag; groups that keep their
// own --json (profile, shopify) shadow it with the same meaning.
const jsonFlag = "json"

// printer writes one command's result.
type printer struct {
	out  io.Writer
	json bool
}

// newPrinter reads --json (wherever it was declared) from c.
func newPrinter(c *cobra.Command) printer {
	j, _ := c.Flags().GetBool(jsonFlag)
	return printer{out: c.OutOrStdout(), json: j}
}

// result prints v with --json, else the human text.
func (p printer) result(v any, human func(w io.Writer)) error {
	if p.json {
		return p.printJSON(v)
	}
	human(p.out)
	return nil
}

// printJSON writes v as one line of JSON. Raw JSON (signed bodies, the
// server's answers of unknown shape) is written with its bytes unchanged
// apart from whitespace, and HTML characters are never escaped, so a signed
// memo prints exactly as it was signed.
func (p printer) printJSON(v any) error {
	var b bytes.Buffer
	switch x := v.(type) {
	case json.RawMessage:
		if err := json.Compact(&b, x); err != nil {
			return fmt.Errorf("the server's answer is not JSON: %w", err)
		}
		b.WriteByte('\n')
	default:
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	_, err := p.out.Write(b.Bytes())
	return err
}

// emit prints v as one line of JSON with --json, else the human text (the
// offline commands' form of printer.result).
func emit(c *cobra.Command, v any, human func(w io.Writer)) error {
	return newPrinter(c).result(v, human)
}
