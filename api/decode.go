package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"
)

// maxBodyBytes bounds every request body.
const maxBodyBytes = 1 << 20

func limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
	}
	c.Next()
}

// bindJSON decodes the request body into dst and checks the fields tagged
// `required:"true"` are present (encoding/json alone cannot tell a missing
// field from a zero one, so required fields are pointers). Failures are
// 400 (413 over the limit) with the reference's "Json deserialize error" text,
// never 500.
func bindJSON(c *gin.Context, dst any) *Error {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Msg: msgBodyTooLarge}
		}
		return errInvalidBody(err.Error())
	}
	return decodeJSON(body, dst)
}

func decodeJSON(body []byte, dst any) *Error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return &Error{Status: http.StatusBadRequest, Msg: "Json deserialize error: " + cleanJSONError(err)}
	}
	if dec.More() {
		return &Error{Status: http.StatusBadRequest, Msg: "Json deserialize error: trailing characters"}
	}
	if fc, ok := dst.(fieldChecker); ok {
		for _, k := range topLevelKeys(body) {
			if err := fc.checkField(k); err != nil {
				return &Error{Status: http.StatusBadRequest, Msg: "Json deserialize error: " + err.Error()}
			}
		}
	}
	if missing := missingRequired(dst); missing != "" {
		return &Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf("Json deserialize error: missing field `%s`", missing)}
	}
	if hasNUL(reflect.ValueOf(dst)) {
		return &Error{Status: http.StatusBadRequest, Msg: msgNULInBody}
	}
	return nil
}

// fieldChecker is a request body whose field values have checks beyond
// their JSON type (an address that must parse, a signature of 128 hex
// characters). decodeJSON runs them in the order the body gives its fields,
// before it looks for missing ones, so the error names the first offending
// field in document order, as the reference's serde derive does.
type fieldChecker interface {
	// checkField checks the value decoded for the JSON key name (a no-op
	// for keys it does not know).
	checkField(name string) error
}

// topLevelKeys lists the keys of a JSON object in document order (none
// for anything else; the body already decoded, so it is valid JSON).
func topLevelKeys(body []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		k, _ := t.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return keys
		}
	}
	return keys
}

// msgNULInBody: neither database can store a NUL character in text (SQLite
// statements end at it, PostgreSQL refuses it), so it is bad input, not a 500.
const msgNULInBody = "Json deserialize error: a string contains a NUL character"

// hasNUL reports whether any string reachable from v contains a NUL byte.
func hasNUL(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return strings.IndexByte(v.String(), 0) >= 0
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && hasNUL(v.Elem())
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if hasNUL(v.Field(i)) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return false // raw bytes (json.RawMessage) are not stored as text
		}
		for i := 0; i < v.Len(); i++ {
			if hasNUL(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if hasNUL(it.Key()) || hasNUL(it.Value()) {
				return true
			}
		}
	}
	return false
}

// rejectNUL answers 400 when a path parameter or query value holds a NUL
// character (%00), which no database accepts in text.
func rejectNUL(c *gin.Context) {
	bad := false
	for _, p := range c.Params {
		bad = bad || strings.IndexByte(p.Value, 0) >= 0
	}
	if !bad && strings.Contains(c.Request.URL.RawQuery, "%00") {
		for k, vs := range c.Request.URL.Query() {
			bad = bad || strings.IndexByte(k, 0) >= 0
			for _, v := range vs {
				bad = bad || strings.IndexByte(v, 0) >= 0
			}
		}
	}
	if bad {
		e := errInvalidPath("a parameter contains a NUL character")
		abortJSON(c, e.Status, e.Msg)
		return
	}
	c.Next()
}

func cleanJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("invalid type for field `%s`: expected %s", te.Field, te.Type)
		}
		return fmt.Sprintf("invalid type: expected %s", te.Type)
	}
	if errors.Is(err, io.EOF) {
		return "EOF while parsing a value"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// missingRequired returns the JSON name of the first nil pointer field tagged
// required:"true" in the struct (or array of structs) dst points to.
func missingRequired(dst any) string {
	v := reflect.ValueOf(dst)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.Slice {
		for i := 0; i < v.Len(); i++ {
			if m := missingRequired(v.Index(i).Addr().Interface()); m != "" {
				return m
			}
		}
		return ""
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Tag.Get("required") != "true" {
			continue
		}
		fv := v.Field(i)
		if (fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Slice || fv.Kind() == reflect.Map || fv.Kind() == reflect.Interface) && fv.IsNil() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			return name
		}
		switch {
		case fv.Kind() == reflect.Struct:
			if m := missingRequired(fv.Addr().Interface()); m != "" {
				return m
			}
		case fv.Kind() == reflect.Pointer && fv.Elem().Kind() == reflect.Struct:
			if m := missingRequired(fv.Interface()); m != "" {
				return m
			}
		}
	}
	return ""
}
