// Command spdgen generates the service config of the seed's sharded
// MariaDB/Spider cluster, and plans relayouts of its pods over new node
// lists, with github.com/svckit/svckit/formtemplate/spd.
//
// Generate a config (printed on stdout, or written with -o):
//
//	spdgen -npods 32 -svcname spdsvc01 -app RIVER_SPD -nodes "spd01 spd02 spd03 spd04" \
//	       -dism tanji/spdc -didb mariadb [-myrootpwd-file FILE | -myrootpwd P] [-o FILE]
//
// Unset inputs take the defaults of the seed's form. -format json prints
// the layout (pods, nodes, addresses, gateways) instead of the config.
//
// Plan a relayout of an existing config over a new node list:
//
//	spdgen -relayout -config FILE -nodes "spd01 spd02 spd03 spd04 spd05" [-format text|json] [-o NEWFILE]
//
// The plan (the pods that move, from and to, with their addresses and
// gateways, and the procedure) is printed on stdout; the new config is
// written to NEWFILE with -o.
//
// Files are written atomically (temporary file, fsync, rename) with mode
// 0600: a config holds the root password. -myrootpwd puts the password in
// the process list: prefer -myrootpwd-file. The password never appears in
// the plan, the layout or an error.
//
// Exit codes: 0 success; 2 bad input, with one line per problem on stderr
// and nothing on stdout; 1 another failure (a file that cannot be read or
// written).
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
