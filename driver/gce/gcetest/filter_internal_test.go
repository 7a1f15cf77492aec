package gcetest

import (
	"testing"

	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

func TestFilter(t *testing.T) {
	r := &computepb.Route{
		Name:      proto.String("rt-ip34"),
		DestRange: proto.String("10.0.0.34/32"),
		Network:   proto.String("https://x/compute/v1/projects/p/global/networks/default"),
		Priority:  proto.Uint32(1000),
	}
	for _, tc := range []struct {
		filter string
		match  bool
		err    string
	}{
		{``, true, ""},
		{`destRange = "10.0.0.34/32"`, true, ""},
		{`destRange="10.0.0.34/32"`, true, ""},
		{`destRange = 10.0.0.34/32`, true, ""},
		{`destRange = "10.0.0.35/32"`, false, ""},
		{`destRange != "10.0.0.35/32"`, true, ""},
		{`name = rt-ip*`, true, ""},
		{`name = rt-ip3`, false, ""},
		{`name eq rt-ip3[0-9]`, true, ""},
		{`name ne rt-ip3[0-9]`, false, ""},
		{`network eq .*/networks/default`, true, ""},
		{`(destRange = "10.0.0.34/32") AND (name = "rt-ip34")`, true, ""},
		{`(destRange = "10.0.0.34/32") (name = "other")`, false, ""},
		{`priority = 1000`, true, ""},
		{`nextHopIp = "10.0.0.1"`, false, ""},
		{`name = a OR name = b`, false, "OR is not supported"},
		{`name ~ a`, false, `unknown operator "~"`},
		{`name =`, false, "expected field operator value"},
		{`name = "a`, false, "unterminated string"},
		{`name eq (`, false, "error parsing regexp"},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			f, err := parseFilter(tc.filter)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.match, f.match(r))
		})
	}
}
