package benchproto

import (
	"fmt"
	"slices"
)

// Session is the protocol state of one connection: what the client said
// in hello, the last seq, the runs it started and the snippets it follows.
// It enforces the rules that Decode cannot see because they depend on
// earlier messages. It is not safe for concurrent use; the connection's
// read loop owns it.
type Session struct {
	limits  Limits
	role    Role // "" until hello
	client  string
	lastSeq int64
	runs    map[string]string // run ID → snippet ID
	subs    map[string]bool   // snippet IDs
}

// NewSession returns the state of a new connection under limits (zero
// fields mean DefaultLimits).
func NewSession(limits Limits) *Session {
	return &Session{limits: limits.WithDefaults(), runs: map[string]string{}, subs: map[string]bool{}}
}

// Accept checks that m, a message from Decode, may come now, and records
// its effect: the role from hello, a run's snippet from run.start, a
// subscription. The rules:
//
//   - seq increases strictly on a connection (bad_seq);
//   - hello comes first, and once (not_allowed);
//   - only producers send run.start, samples and run.end; only viewers
//     subscribe and unsubscribe (not_allowed);
//   - samples and run.end name a run started on this connection, so that
//     the server knows its snippet without asking the store (not_allowed);
//   - a run keeps its snippet (conflict);
//   - at most MaxSubscriptions snippets and 256 runs per connection
//     (too_large).
//
// A run is recorded before the store has accepted it; if the store then
// refuses it, later samples for it fail in the store instead.
// The error is a *ProtoError whose Ref is m.Seq.
func (s *Session) Accept(m *Message) error {
	if err := s.accept(m); err != nil {
		err.Ref = m.Seq
		return err
	}
	return nil
}

func (s *Session) accept(m *Message) *ProtoError {
	if m.Seq <= s.lastSeq {
		return errorf(CodeBadSeq, "seq %d is not greater than the previous seq %d; number messages 1, 2, 3, … on each connection", m.Seq, s.lastSeq)
	}
	s.lastSeq = m.Seq
	if h, ok := m.Payload.(*Hello); ok {
		if s.role != "" {
			return errorf(CodeNotAllowed, "hello was already sent on this connection")
		}
		s.role, s.client = h.Role, h.Client
		if h.Snippet != "" {
			s.subs[h.Snippet] = true
		}
		return nil
	}
	if s.role == "" {
		return errorf(CodeNotAllowed, "send hello before %s", m.Type)
	}
	switch p := m.Payload.(type) {
	case *RunStart:
		if perr := s.need(Producer, m.Type); perr != nil {
			return perr
		}
		if snip, ok := s.runs[p.Run.ID]; ok {
			if snip != p.Run.Snippet {
				return errorf(CodeConflict, "run %q was started for snippet %s; a run belongs to one snippet", p.Run.ID, snip)
			}
			return nil
		}
		if len(s.runs) >= maxRunsPerSession {
			return errorf(CodeTooLarge, "this connection has started %d runs, the most one connection may; open a new connection", maxRunsPerSession)
		}
		s.runs[p.Run.ID] = p.Run.Snippet
	case *SampleBatch:
		return s.needRun(m.Type, p.Run)
	case *RunEnd:
		return s.needRun(m.Type, p.Run)
	case *Subscription:
		if perr := s.need(Viewer, m.Type); perr != nil {
			return perr
		}
		if m.Type == TypeUnsubscribe {
			delete(s.subs, p.Snippet)
			return nil
		}
		if !s.subs[p.Snippet] && len(s.subs) >= s.limits.MaxSubscriptions {
			return errorf(CodeTooLarge, "this connection follows %d snippets, the most allowed (see welcome.limits.maxSubscriptions); unsubscribe from one first", len(s.subs))
		}
		s.subs[p.Snippet] = true
	default:
		// Decode never produces anything else; a server message here is a
		// programming error in the caller.
		return errorf(CodeInternal, "%s is not a client message", m.Type)
	}
	return nil
}

func (s *Session) need(r Role, typ string) *ProtoError {
	if s.role != r {
		return errorf(CodeNotAllowed, "%s is for %ss; this connection said hello as a %s", typ, r, s.role)
	}
	return nil
}

func (s *Session) needRun(typ, run string) *ProtoError {
	if perr := s.need(Producer, typ); perr != nil {
		return perr
	}
	if _, ok := s.runs[run]; !ok {
		return errorf(CodeNotAllowed, "run %q was not started on this connection; send run.start first (after a reconnect, send it again: the server treats a repeated run.start as a no-op)", run)
	}
	return nil
}

// Role returns the role from hello, or "" before hello.
func (s *Session) Role() Role { return s.role }

// Client returns the client name from hello.
func (s *Session) Client() string { return s.client }

// RunSnippet returns the snippet of a run started on this connection.
func (s *Session) RunSnippet(runID string) (snippetID string, ok bool) {
	snippetID, ok = s.runs[runID]
	return snippetID, ok
}

// Subscriptions returns the snippets this connection follows, sorted.
func (s *Session) Subscriptions() []string {
	ids := make([]string, 0, len(s.subs))
	for id := range s.subs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// String describes the session for logs.
func (s *Session) String() string {
	return fmt.Sprintf("%s %q (%d runs, %d subscriptions)", s.role, s.client, len(s.runs), len(s.subs))
}
