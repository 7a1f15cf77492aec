// Command sleeper is the process of the svckit test image: it waits for
// SIGTERM (what docker stop sends) and exits 0, so that a test sees a
// container run until it is stopped. With -write FILE it first writes the
// container's hostname and the value of SLEEPER_MESSAGE to FILE, so that a
// test can check binds, --hostname and -e reached the container.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	write := flag.String("write", "", "file to write the hostname and $SLEEPER_MESSAGE to at start")
	flag.Parse()
	if *write != "" {
		h, _ := os.Hostname()
		if err := os.WriteFile(*write, []byte(h+"\n"+os.Getenv("SLEEPER_MESSAGE")+"\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
}
