package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/svckit/svckit/svc/store"
)

// Two writers change the same config: the store takes the first write
// based on the revision it holds and refuses the second, stale one,
// instead of losing the first change.
func Example() {
	dir, err := os.MkdirTemp("", "store-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	s, closeStore, err := store.Open("dir:" + dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer closeStore()
	ctx := context.Background()

	v1, err := s.Put(ctx, "web", []byte("[DEFAULT]\nnodes = n1\n"), store.Absent)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Both writers read v1.
	a, _ := s.Get(ctx, "web")
	b, _ := s.Get(ctx, "web")
	fmt.Println("both read the first version:", a.Revision == v1.Revision && b.Revision == v1.Revision)

	if _, err := s.Put(ctx, "web", []byte("[DEFAULT]\nnodes = n1 n2\n"), a.Revision); err != nil {
		fmt.Println(err)
		return
	}
	_, err = s.Put(ctx, "web", []byte("[DEFAULT]\nnodes = n1 n3\n"), b.Revision)
	fmt.Println("second write refused:", errors.Is(err, store.ErrConflict))

	cur, _ := s.Get(ctx, "web")
	fmt.Printf("kept: %q\n", cur.Data)
	// Output:
	// both read the first version: true
	// second write refused: true
	// kept: "[DEFAULT]\nnodes = n1 n2\n"
}
