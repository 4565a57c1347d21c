package main

import (
	"io"
	"log/slog"
	"net"
	"net/netip"
	"reflect"
)

// newJSONHandler is the one JSON log handler of every sessiond command:
// level, and readable values (see readableAttr).
func newJSONHandler(w io.Writer, level slog.Leveler) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: readableAttr})
}

// readableAttr is the handlers' slog.HandlerOptions.ReplaceAttr: a
// time.Duration is logged as a Go duration string ("356.696593ms") instead
// of nanoseconds, and a network address (net.Addr, netip.AddrPort) as
// "host:port" instead of its struct; a nil address is "".
func readableAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindDuration:
		a.Value = slog.StringValue(a.Value.Duration().String())
	case slog.KindAny:
		if s, ok := addrString(a.Value.Any()); ok {
			a.Value = slog.StringValue(s)
		}
	}
	return a
}

// addrString returns v as "host:port" if it is a network address; a nil
// pointer (a typed nil in a net.Addr) is "".
func addrString(v any) (string, bool) {
	switch v := v.(type) {
	case netip.AddrPort:
		return v.String(), true
	case *netip.AddrPort:
		if v == nil {
			return "", true
		}
		return v.String(), true
	case net.Addr:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return "", true
		}
		return v.String(), true
	}
	return "", false
}
