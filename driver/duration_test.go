package driver_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver"
)

// TestParseDuration covers both readings, a number of seconds and a Go
// duration, and the inputs between them that must be refused.
func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "10", want: 10 * time.Second},
		{in: " 10 ", want: 10 * time.Second},
		{in: "+5", want: 5 * time.Second},
		{in: "-5", want: -5 * time.Second},
		{in: "0", want: 0},
		{in: "10s", want: 10 * time.Second},
		{in: "1m30s", want: 90 * time.Second},
		{in: "1_0", wantErr: true},
		{in: "", wantErr: true},
		{in: "+", wantErr: true},
		{in: "-", wantErr: true},
		{in: "99999999999999999999", wantErr: true},
		{in: "10 s", wantErr: true},
		{in: "ten", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := driver.ParseDuration(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
