package resource_test

import (
	"fmt"

	"github.com/svckit/svckit/resource"
)

// The status of a service merges its resources' statuses with the
// reference's rules.
func ExampleMergeAll() {
	fmt.Println(resource.MergeAll(resource.Up, resource.Up))
	fmt.Println(resource.MergeAll(resource.Up, resource.Down))
	fmt.Println(resource.MergeAll(resource.Down, resource.NotApplicable))
	fmt.Println(resource.MergeAll(resource.Up, resource.StandbyUp))
	fmt.Println(resource.MergeAll(resource.Down, resource.StandbyUp))
	// Output:
	// up
	// warn
	// down
	// up
	// stdby up
}

func ExampleFlags_String() {
	fmt.Println(resource.Flags{Monitor: true, Optional: true})
	// Output: M.O.
}
