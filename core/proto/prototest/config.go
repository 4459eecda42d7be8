package prototest

import (
	"fmt"
	"strconv"
	"strings"
)

// Config renders a script's options as a nats-server configuration file (which the petrel
// binary reads too). The keys are the ones the simulator's runner maps to engine options:
//
//	option max_connections|max_payload|max_control_line|max_subscriptions <n>
//	option auth_timeout <seconds>
//	option no_auth_user <name>
//	option user <name> <password> [publish=a,b] [subscribe=c,d]
func Config(opts []Option) (string, error) {
	var b strings.Builder
	var users []string
	timeout, noAuthUser := "", ""
	for _, o := range opts {
		switch o.Key {
		case "max_connections", "max_payload", "max_control_line", "max_subscriptions":
			if len(o.Args) != 1 {
				return "", fmt.Errorf("line %d: %s takes one number", o.Line, o.Key)
			}
			fmt.Fprintf(&b, "%s: %s\n", o.Key, o.Args[0])
		case "no_auth_user":
			noAuthUser = fmt.Sprintf("no_auth_user: %q\n", strings.Join(o.Args, ""))
		case "auth_timeout":
			timeout = "timeout: " + strings.Join(o.Args, "") + "\n"
		case "user":
			u, err := userConfig(o)
			if err != nil {
				return "", err
			}
			users = append(users, u)
		default:
			return "", fmt.Errorf("line %d: unknown option %s", o.Line, o.Key)
		}
	}
	if len(users) > 0 || timeout != "" {
		fmt.Fprintf(&b, "authorization {\n%susers = [\n%s]\n}\n", timeout, strings.Join(users, ""))
	}
	b.WriteString(noAuthUser)
	return b.String(), nil
}

func userConfig(o Option) (string, error) {
	if len(o.Args) < 2 {
		return "", fmt.Errorf("line %d: user takes a name and a password", o.Line)
	}
	var perms []string
	for _, a := range o.Args[2:] {
		k, v, _ := strings.Cut(a, "=")
		if k != "publish" && k != "subscribe" {
			return "", fmt.Errorf("line %d: unknown permission %q", o.Line, k)
		}
		var quoted []string
		for _, s := range strings.Split(v, ",") {
			quoted = append(quoted, strconv.Quote(s))
		}
		perms = append(perms, fmt.Sprintf("%s: [%s]", k, strings.Join(quoted, ", ")))
	}
	line := fmt.Sprintf("  {user: %q, password: %q", o.Args[0], o.Args[1])
	if len(perms) > 0 {
		line += ", permissions: {" + strings.Join(perms, ", ") + "}"
	}
	return line + "}\n", nil
}
