package controller

import (
	"testing"
	"time"
)

func TestDefaultTo(t *testing.T) {
	for _, tt := range []struct{ in, want time.Duration }{{0, time.Second}, {-time.Millisecond, time.Second}, {time.Minute, time.Minute}} {
		v := tt.in
		defaultTo(&v, time.Second)
		if v != tt.want {
			t.Errorf("defaultTo(%v, 1s) = %v, want %v", tt.in, v, tt.want)
		}
	}
	q := float32(0.5)
	defaultTo(&q, 200)
	if q != 0.5 {
		t.Errorf("defaultTo(0.5, 200) = %v, want 0.5", q)
	}
}
