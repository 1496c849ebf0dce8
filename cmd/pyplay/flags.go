package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// envFlag is a flag whose default comes from an environment variable, so
// that a container can be configured without a command line.
type envFlag struct {
	// value is a *string, a *bool or a flag.Value whose Set checks its
	// input; it holds the built-in default when registered.
	value     any
	name, env string
	usage     string
}

// registerEnvFlags adds the flags to fs: every command's one way of
// registering a flag with an environment fallback. A variable that is set
// and not empty becomes the flag's default, checked by the flag's own Set
// as the command line is (which, parsed afterwards, wins); a bad value is
// an error naming the variable. A boolean's variable is on only when it is
// "1", as its help says. -h shows the defaults with the environment applied.
func registerEnvFlags(fs *flag.FlagSet, flags []envFlag) error {
	for _, fl := range flags {
		if s, ok := os.LookupEnv(fl.env); ok && s != "" {
			if err := setValue(fl.value, s); err != nil {
				return fmt.Errorf("%s: %s=%q: %w", fs.Name(), fl.env, s, err)
			}
		}
		usage := fmt.Sprintf("%s (%s)", fl.usage, fl.env)
		switch v := fl.value.(type) {
		case *string:
			fs.StringVar(v, fl.name, *v, usage)
		case *bool:
			fs.BoolVar(v, fl.name, *v, fmt.Sprintf("%s (%s=1)", fl.usage, fl.env))
		case flag.Value:
			fs.Var(v, fl.name, usage)
		default:
			panic(fmt.Sprintf("flag -%s: cannot hold a %T", fl.name, v))
		}
	}
	return nil
}

// setValue sets an envFlag's value from its environment variable.
func setValue(value any, s string) error {
	switch v := value.(type) {
	case *string:
		*v = s
	case *bool:
		*v = s == "1" // not an error otherwise: PYPLAY_DEV=0 and PYPLAY_DEV=false are off
	case flag.Value:
		return v.Set(s)
	}
	return nil
}

// byteSize is a flag of bytes: 65536, 64KiB, 64K, 1MiB.
type byteSize int

func (b *byteSize) String() string { return strconv.Itoa(int(*b)) }

func (b *byteSize) Set(s string) error {
	num, mult := strings.TrimSpace(s), 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"KB", 1 << 10}, {"K", 1 << 10}, {"MiB", 1 << 20}, {"MB", 1 << 20}, {"M", 1 << 20}, {"B", 1}} {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 || n > maxMaxCode/mult {
		return fmt.Errorf("want a size from 1 byte to %d MiB, like 65536 or 64KiB", maxMaxCode>>20)
	}
	*b = byteSize(n * mult)
	return nil
}

// perMinute is a non-negative rate.
type perMinute float64

func (r *perMinute) String() string { return strconv.FormatFloat(float64(*r), 'g', -1, 64) }

func (r *perMinute) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v < 0 || v > 1e6 {
		return errors.New("want a number of snippets per minute, 0 for no limit")
	}
	*r = perMinute(v)
	return nil
}

// positiveInt is an integer of at least 1.
type positiveInt int

func (p *positiveInt) String() string { return strconv.Itoa(int(*p)) }

func (p *positiveInt) Set(s string) error {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < 1 {
		return errors.New("want a whole number of at least 1")
	}
	*p = positiveInt(v)
	return nil
}

// prefixList is a comma- or space-separated list of CIDRs; a bare address
// is a range of one.
type prefixList []netip.Prefix

func (l *prefixList) String() string {
	if l == nil {
		return ""
	}
	parts := make([]string, len(*l))
	for i, p := range *l {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func (l *prefixList) Set(s string) error {
	var out prefixList
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return fmt.Errorf("%q is neither a CIDR like 10.0.0.0/8 nor an address", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	*l = out
	return nil
}

// parseOrigins reads the comma-separated origins of the flag -name.
func parseOrigins(name, list string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSuffix(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			return nil, fmt.Errorf("-%s: %q is not an origin; write scheme://host[:port], e.g. https://pyplay.example.com", name, o)
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out, nil
}
