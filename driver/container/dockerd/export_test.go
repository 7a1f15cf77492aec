package dockerd

// StartArgs is startArgs, for the tests.
var StartArgs = startArgs
