package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// maxNamePart bounds file stems and the job and metric parts of alert names: file names
// (rules/<stem>.yaml, runbooks/<Alert>.md) must stay below the 255 bytes file systems allow,
// however long the job and metric names are. Names cut short are disambiguated like any other
// collision.
const maxNamePart = 100

// unique names every key: name(key, "") unless that collides with the name of another key,
// compared after fold. Colliding keys are named name(key, h) instead, h being the first
// digits of the SHA-256 of the key, with more digits until nothing collides. Every key of a
// collision gets a hash, not all but one, so that which key keeps the plain name depends on
// no order; the names depend only on the set of keys.
func unique(keys []string, name func(key, hash string) string, fold func(string) string) (map[string]string, error) {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	names := make(map[string]string, len(keys))
	for _, k := range keys {
		names[k] = name(k, "")
	}
	for digits := 8; ; digits += 8 {
		byName := map[string][]string{}
		for _, k := range keys {
			f := fold(names[k])
			byName[f] = append(byName[f], k)
		}
		collided := false
		for _, ks := range byName {
			if len(ks) < 2 {
				continue
			}
			collided = true
			if digits > sha256.Size*2 {
				return nil, fmt.Errorf("%q and %q get the same name %q", ks[0], ks[1], names[ks[0]])
			}
			for _, k := range ks {
				names[k] = name(k, shortHash(k, digits))
			}
		}
		if !collided {
			return names, nil
		}
	}
}

func shortHash(s string, digits int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:digits]
}

// truncate cuts an ASCII name to maxNamePart bytes (stems and CamelCase names are ASCII).
func truncate(s string) string {
	if len(s) > maxNamePart {
		return s[:maxNamePart]
	}
	return s
}

// resourceName turns a file stem into the part of a Kubernetes object name that follows the
// prefix: lower-case letters, digits and single dashes. File names are kept unique under this
// mapping too, so the PrometheusRule resources of two jobs never share a name.
func resourceName(stem string) string {
	var b strings.Builder
	dash := false
	for _, c := range []byte(strings.ToLower(stem)) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteByte(c)
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return "job"
	}
	return b.String()
}
