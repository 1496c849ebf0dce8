package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func TestRegisterEnvFlags(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		text    string
		on      bool
		count   positiveInt
		wantErr string
	}{
		{name: "defaults", text: "def", count: 1},
		{name: "environment", env: map[string]string{"T_TEXT": "env", "T_ON": "1", "T_COUNT": "3"}, text: "env", on: true, count: 3},
		{name: "empty is unset", env: map[string]string{"T_TEXT": "", "T_COUNT": ""}, text: "def", count: 1},
		{name: "flag beats environment", env: map[string]string{"T_TEXT": "env", "T_ON": "1"}, args: []string{"-text", "arg", "-on=false"}, text: "arg", count: 1},
		{name: "a boolean is on only for 1", env: map[string]string{"T_ON": "true"}, text: "def", count: 1},
		{name: "bad environment", env: map[string]string{"T_COUNT": "0"}, wantErr: `test: T_COUNT="0": want a whole number of at least 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"T_TEXT", "T_ON", "T_COUNT"} {
				t.Setenv(k, tt.env[k])
			}
			text, on, count := "def", false, positiveInt(1)
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			err := registerEnvFlags(fs, []envFlag{
				{&text, "text", "T_TEXT", "some text"},
				{&on, "on", "T_ON", "a switch"},
				{&count, "count", "T_COUNT", "a count"},
			})
			if err == nil {
				err = fs.Parse(tt.args)
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if text != tt.text || on != tt.on || count != tt.count {
				t.Errorf("got %q %v %d, want %q %v %d", text, on, count, tt.text, tt.on, tt.count)
			}
			if u := fs.Lookup("on").Usage; u != "a switch (T_ON=1)" {
				t.Errorf("boolean help %q", u)
			}
			if u := fs.Lookup("count").Usage; u != "a count (T_COUNT)" {
				t.Errorf("help %q", u)
			}
		})
	}
}

// TestHelp: `pyplay help` lists the command table, in order, and an
// unknown command is refused with the same list.
func TestHelp(t *testing.T) {
	stdout, _, err := pyplay(t, nil, "help")
	if err != nil {
		t.Fatal(err)
	}
	rest := stdout
	for _, c := range commands {
		i := strings.Index(rest, "  "+c.name+" ")
		if i < 0 || !strings.Contains(rest[i:], c.help) {
			t.Fatalf("help lacks %s (%q), or lists it out of order:\n%s", c.name, c.help, stdout)
		}
		rest = rest[i:]
	}
	_, stderr, err := pyplay(t, nil, "frobnicate")
	if err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) || stderr != stdout {
		t.Errorf("unknown command: %v, usage %q", err, stderr)
	}
}
