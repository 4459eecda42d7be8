package server

import "fmt"

// resolve combines the configuration file (if any) with the command line, which wins.
func (c *cli) resolve() (Options, []string, error) {
	if c.opts.ConfigFile != "" {
		return c.opts, nil, fmt.Errorf("config file %s: configuration files arrive with the config parser", c.opts.ConfigFile)
	}
	return c.opts, nil, nil
}
