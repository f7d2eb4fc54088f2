// Package thirdparty holds the tests that keep the repository's NOTICE file and the licenses of
// the modules compiled into blindspot in order: every module's license is one blindspot may
// ship under Apache-2.0, and NOTICE carries every NOTICE file those modules ship (Apache-2.0
// §4(d)). The tests read the Go module cache only (`go list`, offline once the modules are
// downloaded). There is no non-test code.
package thirdparty
