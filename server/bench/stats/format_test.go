package stats

import (
	"encoding/json"
	"os"
	"testing"
)

// TestFormatNsTable holds FormatNs to the table the page's formatNs is
// checked against (web/e2e/format.test.mjs), so a duration reads the same
// in a server verdict and in the dashboard.
func TestFormatNsTable(t *testing.T) {
	data, err := os.ReadFile("../../../web/testdata/format.json")
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		FormatNs []struct {
			NS   float64 `json:"ns"`
			Text string  `json:"text"`
		} `json:"formatNs"`
	}
	if err := json.Unmarshal(data, &table); err != nil {
		t.Fatal(err)
	}
	if len(table.FormatNs) < 10 {
		t.Fatalf("format.json has %d cases; want the whole table", len(table.FormatNs))
	}
	for _, c := range table.FormatNs {
		if got := FormatNs(c.NS); got != c.Text {
			t.Errorf("FormatNs(%v) = %q, want %q", c.NS, got, c.Text)
		}
	}
}
