// Command sleeper is the process of the svckit test image: it waits for
// SIGTERM (what docker stop sends) and exits 0, so that a test sees a
// container run until it is stopped.
//
// With -write FILE it first writes the container's hostname and the value
// of SLEEPER_MESSAGE to FILE, so that a test can check that binds,
// --hostname and -e reached the container. With -listen ADDR it answers
// every TCP connection with "hello from <hostname>", so that a test can
// check an address plumbed into the container's network namespace.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	write := flag.String("write", "", "file to write the hostname and $SLEEPER_MESSAGE to at start")
	listen := flag.String("listen", "", "TCP address to answer on")
	flag.Parse()
	h, _ := os.Hostname()
	if *write != "" {
		if err := os.WriteFile(*write, []byte(h+"\n"+os.Getenv("SLEEPER_MESSAGE")+"\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if *listen != "" {
		l, err := net.Listen("tcp", *listen)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				fmt.Fprintf(c, "hello from %s\n", h)
				c.Close()
			}
		}()
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
}
