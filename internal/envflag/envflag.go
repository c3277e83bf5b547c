// Package envflag gives every flag of a program an environment twin:
// --per-client has CONSULVOTE_PER_CLIENT, --tls-cert CONSULVOTE_TLS_CERT.
// A flag cannot be declared without one: Parse derives the twin from the
// flag's name, names it in the flag's help, and reads it.
//
// The command line wins over the environment, which wins over the
// default. A twin that does not parse is an error naming the variable.
package envflag

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// Prefix starts the name of every twin.
const Prefix = "CONSULVOTE_"

// Name returns the environment twin of the flag name.
func Name(flagName string) string {
	return Prefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse sets the flags of fs from their twins that are set, then parses
// args. Each flag's help says which variable it reads.
func Parse(fs *flag.FlagSet, args []string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := Name(f.Name)
		if !strings.Contains(f.Usage, env) {
			f.Usage += " (" + env + ")"
		}
		v, ok := os.LookupEnv(env)
		if !ok || err != nil {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = fmt.Errorf("%s=%q: %v", env, v, serr)
		}
	})
	if err != nil {
		fmt.Fprintln(fs.Output(), err)
		return err
	}
	return fs.Parse(args)
}

// Given reports whether the flag name was set, on the command line or by
// its twin.
func Given(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
