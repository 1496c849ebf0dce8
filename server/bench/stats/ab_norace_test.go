//go:build !race

package stats

// simRace reports a race-enabled build; see ab_race_test.go.
const simRace = false
