package svc_test

import (
	"context"
	"os"
	"testing"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

func BenchmarkParseSeedTmp(b *testing.B) {
	data, _ := os.ReadFile("testdata/spdsvc01.conf")
	for i := 0; i < b.N; i++ {
		svc.Parse(context.Background(), "x.conf", data, svc.Options{Node: "n1", Registry: fake.Registry(fake.Options{})})
	}
}
func BenchmarkParseSeedOKTmp(b *testing.B) {
	data, _ := os.ReadFile("testdata/spdsvc01.conf")
	for i := 0; i < b.N; i++ {
		svc.Parse(context.Background(), "x.conf", data, svc.Options{Node: "spd01", Registry: fake.Registry(fake.Options{})})
	}
}
