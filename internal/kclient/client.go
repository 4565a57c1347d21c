package kclient

import "strings"

// Brokers splits a comma-separated bootstrap list, dropping blanks.
func Brokers(list string) []string {
	var out []string
	for _, b := range strings.Split(list, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}
