package archive

import (
	"strconv"
	"strings"
)

// The names of the archive's layout (events in EVENTS/YYYY/MM/DD/HH.jsonl,
// minute snapshots in SNAPSHOTS/YYYY/MM/DD/HH/MM.json, either with .gz),
// read by the janitor here and, ParseNumber, by the history package.

// parseHourName reads "HH.jsonl" or "HH.jsonl.gz".
func parseHourName(name string) (hour int, gz bool, ok bool) {
	return parseFileName(name, ".jsonl", 23)
}

// parseMinuteName reads "MM.json" or "MM.json.gz".
func parseMinuteName(name string) (minute int, gz bool, ok bool) {
	return parseFileName(name, ".json", 59)
}

// parseFileName reads a file name of two digits, from 0 to hi, then ext,
// then perhaps GzipSuffix.
func parseFileName(name, ext string, hi int) (n int, gz bool, ok bool) {
	base, gz := strings.CutSuffix(name, GzipSuffix)
	digits, found := strings.CutSuffix(base, ext)
	if !found {
		return 0, false, false
	}
	n, ok = ParseNumber(digits, 2, 0, hi)
	return n, gz, ok
}

// ParseNumber reads a name of the layout: exactly width digits, a number
// between lo and hi.
func ParseNumber(s string, width, lo, hi int) (int, bool) {
	if len(s) != width {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= lo && n <= hi
}

// ParseDirName reads the name of a directory depth levels below the
// layout's root: a year of four digits at 0, two digits (month, day,
// hour) below. It checks the width only: any number of that many digits.
func ParseDirName(name string, depth int) (int, bool) {
	if depth == 0 {
		return ParseNumber(name, 4, 0, 9999)
	}
	return ParseNumber(name, 2, 0, 99)
}
