package bench

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/pyplay/pyplay/server/bench/benchproto"
	"github.com/pyplay/pyplay/snippets"
)

// A run belongs to the producer that started it. Run IDs are public (the
// dashboards show them), so the ID cannot be the proof: a secret token
// is. A producer sends one it made up with its first run.start (so that it
// has it even if the ack is lost on the way), or the server makes one up
// and hands it out in the ack; a run.start of an existing run on another
// connection (the producer reconnected) must present it. The store keeps only the token's hash (snippets.RunOwners),
// so that the tokens survive a restart and work on every server sharing a
// PostgreSQL database, and a leaked database leaks none. Whoever holds the
// token may add batches to the run, even after run.end (a final flush);
// nobody else may add anything. A finished run's outcome is final (the
// store refuses another), and a resumed run keeps its runtime.

// ownedRun is a run this connection may add to: its run.start was
// acknowledged here.
type ownedRun struct {
	id, snippet, runtime string
	token                string
	// samples is how many samples the run holds, as far as this
	// connection knows (the store's count when the run was claimed, plus
	// what was stored since).
	samples int
}

// newToken returns a fresh run token: 256 random bits, base64url (43
// characters).
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics rather than return short)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ownerOf is what the store keeps of a token: its SHA-256, which is enough
// for a random 256-bit secret.
func ownerOf(token string) string {
	h := sha256.Sum256([]byte(token))
	return "sha256:" + base64.RawURLEncoding.EncodeToString(h[:])
}

// claimRun finds the run p names, or creates it, and makes sure that this
// producer, holding token, owns it. It returns the run as stored (its
// status, creation time, A/B link and sample count; no samples) and
// whether it is new.
func (w *wsConn) claimRun(ctx context.Context, seq int64, p *benchproto.RunStart, token string) (*snippets.Run, bool, error) {
	store, owner := w.lab.cfg.Store, ownerOf(token)
	claim, err := store.ClaimRun(ctx, p.Run.ID, owner)
	w.noteWrite(err)
	if snippets.ErrorCode(err) == snippets.NotFound {
		run, created, err := w.createRun(ctx, seq, p)
		if err != nil {
			return nil, false, err
		}
		// Claimed right after creating: another producer creating the
		// same ID at the same moment may win, and then this one is told.
		claim, err = store.ClaimRun(ctx, p.Run.ID, owner)
		w.noteWrite(err)
		if err != nil {
			return nil, false, w.storeError(err, seq)
		}
		if err := w.checkClaim(seq, p, claim, owner); err != nil {
			return nil, false, err
		}
		run.SampleCount = claim.SampleCount
		return run, created, nil
	}
	if err != nil {
		return nil, false, w.storeError(err, seq)
	}
	if err := w.checkClaim(seq, p, claim, owner); err != nil {
		return nil, false, err
	}
	// Resumed: the store checks the resend against the run (its A/B link)
	// and gives back what viewers should learn of it.
	run := p.Run.StoreRun()
	err = store.CreateRun(ctx, run)
	w.noteWrite(err)
	if err != nil {
		return nil, false, w.storeError(err, seq)
	}
	run.SampleCount = claim.SampleCount
	return run, false, nil
}

// checkClaim refuses to resume a run that is not p's: of another snippet
// or runtime, or owned by another producer (another token, or none known).
func (w *wsConn) checkClaim(seq int64, p *benchproto.RunStart, claim *snippets.RunClaim, owner string) error {
	id := p.Run.ID
	switch {
	case claim.SnippetID != p.Run.Snippet:
		return &benchproto.ProtoError{Code: benchproto.CodeConflict, Ref: seq,
			Message: fmt.Sprintf("run %q belongs to snippet %s; a run belongs to one snippet: use a fresh run ID", id, claim.SnippetID)}
	case claim.Runtime != p.Run.Runtime:
		return &benchproto.ProtoError{Code: benchproto.CodeConflict, Ref: seq,
			Message: fmt.Sprintf("run %q was started in %s; a resumed run keeps its runtime: start a new run for %s", id, claim.Runtime, p.Run.Runtime)}
	case claim.Owner == snippets.LegacyRunOwner:
		return w.refuse(refusedNotOwner, &benchproto.ProtoError{Code: benchproto.CodeNotAllowed, Ref: seq,
			Message: fmt.Sprintf("run %q was stored before runs had tokens and cannot be resumed; start a new run", id)})
	case subtle.ConstantTimeCompare([]byte(claim.Owner), []byte(owner)) != 1:
		msg := fmt.Sprintf("run %q belongs to the producer that started it; to resume it after a reconnect, send the token of its first run.start's ack in payload.token", id)
		if p.Token != "" {
			msg = fmt.Sprintf("payload.token is not the token of run %q; a run belongs to the producer that started it", id)
		}
		return w.refuse(refusedNotOwner, &benchproto.ProtoError{Code: benchproto.CodeNotAllowed, Ref: seq, Message: msg})
	}
	return nil
}

// createRun stores a new run after the checks that bound what one client
// and one snippet hold: the free-disk floor, runs per snippet, the
// client's rate of new runs and its daily quota. It returns the run as
// stored and whether it was new (false: another connection created it a
// moment ago).
func (w *wsConn) createRun(ctx context.Context, seq int64, p *benchproto.RunStart) (*snippets.Run, bool, error) {
	if err := w.writable(seq); err != nil {
		return nil, false, err
	}
	store := w.lab.cfg.Store
	n, err := store.CountRuns(ctx, p.Run.Snippet)
	if err != nil {
		return nil, false, w.storeError(err, seq)
	}
	if max := w.limits.MaxRunsPerSnippet; n >= max {
		return nil, false, w.refuse(refusedRunsPerSnippet, &benchproto.ProtoError{Code: benchproto.CodeTooLarge, Ref: seq,
			Message: fmt.Sprintf("snippet %s has %d runs, the most one snippet may hold (welcome.limits.maxRunsPerSnippet); share the code as a new snippet to benchmark it further", p.Run.Snippet, n)})
	}
	if err := w.allowNewRun(seq); err != nil {
		return nil, false, err
	}
	refund, err := w.reserve(seq, int64(runCost+len(p.Run.Env)+len(p.Run.Config)+len(p.Run.Phases)))
	if err != nil {
		return nil, false, err
	}
	run := p.Run.StoreRun()
	before := time.Now().UTC().Truncate(time.Millisecond)
	err = store.CreateRun(ctx, run)
	w.noteWrite(err)
	if err != nil {
		refund()
		return nil, false, w.storeError(err, seq)
	}
	// The store keeps the first creation time: an earlier one means the
	// run was there already.
	if run.Created.Before(before) {
		refund()
		return run, false, nil
	}
	return run, true, nil
}
