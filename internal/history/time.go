package history

import (
	"fmt"
	"strconv"
	"time"
)

// ParseTime reads a time as the history command and endpoints take it:
// RFC 3339 (2024-03-01T10:00:00Z, 2024-03-01T05:00:00.250-05:00) or
// milliseconds since the Unix epoch, as the archive's timestamps are.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time: want RFC 3339 (2024-03-01T10:00:00Z) or Unix milliseconds")
	}
	if s[0] >= '0' && s[0] <= '9' {
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.UnixMilli(ms).UTC(), nil
		}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %.40q: want RFC 3339 (2024-03-01T10:00:00Z) or Unix milliseconds", s)
	}
	return t, nil
}

// formatTime writes t as errors and logs name it: RFC 3339 in UTC, to
// the millisecond, which is the archive's precision.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
