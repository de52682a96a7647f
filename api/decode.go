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
	if missing := missingRequired(dst); missing != "" {
		return &Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf("Json deserialize error: missing field `%s`", missing)}
	}
	return nil
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
