package snippets

import (
	"context"
	"time"
)

// RunOwners is the part of a RunStore that lets the benchmark server give
// each run to the producer that started it and bound what one snippet
// holds: without it, anyone who learnt a run's ID (they are public) could
// resume the run and add to it.
type RunOwners interface {
	// ClaimRun makes owner the run's owner unless it has one already, and
	// returns the run as stored afterwards: Owner is owner itself when the
	// claim succeeded (or was made before with the same value). The store
	// keeps owner as an opaque string (the benchmark server stores a hash
	// of the secret it handed to the producer that started the run); it
	// must pass ValidateOwner. Runs stored before owners existed have one
	// that no claim matches. An unknown run is NotFound.
	ClaimRun(ctx context.Context, runID, owner string) (*RunClaim, error)
	// CountRuns returns how many runs a snippet has (0 for an unknown
	// snippet).
	CountRuns(ctx context.Context, snippetID string) (int, error)
}

// RunClaim is what ClaimRun tells of a run: its owner and what a producer
// resuming it must agree with, without the run's free-form objects or
// samples.
type RunClaim struct {
	Owner       string
	SnippetID   string
	Runtime     string
	Status      string
	SampleCount int
	Created     time.Time // UTC, millisecond precision, as CreateRun set it
}

// MaxRunOwnerLen bounds what ClaimRun stores.
const MaxRunOwnerLen = 128

// LegacyRunOwner is the owner of runs stored before runs had owners; no
// claim matches it, so such runs cannot be resumed.
const LegacyRunOwner = "-"

// ValidateOwner reports whether owner can be claimed: 1 to MaxRunOwnerLen
// bytes, and not LegacyRunOwner.
func ValidateOwner(owner string) error {
	if owner == "" || len(owner) > MaxRunOwnerLen || owner == LegacyRunOwner {
		return Errorf(Invalid, "a run owner is 1 to %d bytes other than %q", MaxRunOwnerLen, LegacyRunOwner)
	}
	return nil
}
