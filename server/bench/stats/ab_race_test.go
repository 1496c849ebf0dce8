//go:build race

package stats

// simRace reports a race-enabled build, where the simulation scales down
// the scenarios that run the old statistics: their 2000-resample bootstrap
// is many times slower under the race detector, which has nothing to find
// in it.
const simRace = true
