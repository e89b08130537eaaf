package storage_test

import (
	"testing"

	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			storagetest.Run(t, storagetest.Open(b.Open))
		})
	}
}
