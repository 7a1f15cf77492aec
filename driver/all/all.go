// Package all registers every driver of svckit: import it for its side
// effect when a program should run any configuration.
//
//	import _ "github.com/svckit/svckit/driver/all"
package all
