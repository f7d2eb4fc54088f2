package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
)

// WriteJSON writes the report as indented JSON (schema: docs/report.md), byte for byte what
// json.MarshalIndent(r, "", "  ") and a newline would give. It writes it piece by piece: the
// envelope by hand, each field, finding and suppressed finding marshalled on its own, so the
// memory it needs does not grow with the number of findings (the whole report of 100,000
// findings, marshalled at once, then indented, took two buffers of some 80 MB).
func WriteJSON(w io.Writer, r Report) error {
	jw := &jsonWriter{w: bufio.NewWriterSize(w, 64<<10)}
	jw.enc = json.NewEncoder(&jw.tmp)
	jw.enc.SetIndent("  ", "  ")
	jw.raw("{")
	jw.field("version", r.Version)
	jw.field("generated_at", r.GeneratedAt)
	jw.field("collected_at", r.CollectedAt)
	jw.field("sources", r.Sources)
	jw.field("summary", r.Summary)
	jw.field("coverage", r.Coverage)
	writeArray(jw, "findings", r.Findings)
	writeArray(jw, "suppressed", r.Suppressed)
	if len(r.Expired) > 0 {
		jw.field("expired_exceptions", r.Expired)
	}
	if len(r.Noise) > 0 {
		jw.field("noise", r.Noise)
	}
	jw.raw("\n}\n")
	if jw.err != nil {
		return jw.err
	}
	return jw.w.Flush()
}

// jsonWriter writes the pieces of the report and keeps the first error.
type jsonWriter struct {
	w      *bufio.Writer
	tmp    bytes.Buffer
	enc    *json.Encoder
	prefix string // the indent prefix enc writes with
	fields int
	err    error
}

func (jw *jsonWriter) raw(s string) {
	if jw.err == nil {
		_, jw.err = jw.w.WriteString(s)
	}
}

// value writes v indented as it would be at the depth of prefix, its first line not indented.
func (jw *jsonWriter) value(v any, prefix string) {
	if jw.err != nil {
		return
	}
	if prefix != jw.prefix {
		jw.enc.SetIndent(prefix, "  ")
		jw.prefix = prefix
	}
	jw.tmp.Reset()
	if jw.err = jw.enc.Encode(v); jw.err != nil {
		return
	}
	_, jw.err = jw.w.Write(bytes.TrimSuffix(jw.tmp.Bytes(), []byte("\n")))
}

// key starts the next field of the report object.
func (jw *jsonWriter) key(name string) {
	if jw.fields > 0 {
		jw.raw(",")
	}
	jw.fields++
	jw.raw("\n  \"" + name + "\": ")
}

func (jw *jsonWriter) field(name string, v any) {
	jw.key(name)
	jw.value(v, "  ")
}

// writeArray writes a field holding a slice element by element, as encoding/json would: null
// for a nil slice, [] for an empty one.
func writeArray[T any](jw *jsonWriter, name string, s []T) {
	jw.key(name)
	switch {
	case s == nil:
		jw.raw("null")
		return
	case len(s) == 0:
		jw.raw("[]")
		return
	}
	jw.raw("[")
	for i := range s {
		if i > 0 {
			jw.raw(",")
		}
		jw.raw("\n    ")
		jw.value(&s[i], "    ")
	}
	jw.raw("\n  ]")
}
