package benchproto

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pyplay/pyplay/snippets"
)

// Runtimes a run may name: the snippet runtimes, native CPython (`pyplay
// bench-native`) and the reference suite's compiled kernels (go-wasm,
// rust-wasm, native-go).
var runtimes = snippets.RunRuntimes

// Run statuses run.end may set; "running" is the store's starting state.
var endStatuses = []string{snippets.RunDone, snippets.RunFailed, snippets.RunStopped}

// clientTypes lists what Decode accepts, in the order error messages name
// them.
var clientTypes = []string{TypeHello, TypeRunStart, TypeSamples, TypeRunEnd, TypeSubscribe, TypeUnsubscribe}

// Decode parses and validates one message from a client. It checks
// everything that can be checked without state: JSON syntax, version,
// type, every field's presence, type and range, sizes against limits
// (zero fields of limits mean DefaultLimits). Whether the message is
// allowed now — after hello, for this role, in seq order — is Session's
// job.
//
// The error is always a *ProtoError; its Ref is the message's seq when
// the envelope was readable that far.
func Decode(data []byte, limits Limits) (*Message, error) {
	m, perr := decode(data, limits.WithDefaults())
	if perr != nil {
		return nil, perr
	}
	return m, nil
}

func decode(data []byte, l Limits) (*Message, *ProtoError) {
	if len(data) > l.MaxMessageBytes {
		return nil, errorf(CodeTooLarge, "message is %d bytes; the limit is %d (see welcome.limits.maxMessageBytes)", len(data), l.MaxMessageBytes)
	}
	if !utf8.Valid(data) {
		return nil, errorf(CodeBadJSON, "message is not valid UTF-8")
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v) // only for its message: Valid gives no position
		return nil, errorf(CodeBadJSON, "message is not valid JSON: %v", err)
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); t[0] != '{' {
		return nil, errorf(CodeBadJSON, "message must be a JSON object, got %s", describe(t))
	}
	env, perr := parseObject("message", data)
	if perr != nil {
		return nil, perr
	}
	m := &Message{}
	// Version first: a client speaking another version deserves
	// bad_version, not a complaint about fields it was right to send.
	if v, ok := env.fields["v"]; !ok {
		return nil, errorf(CodeBadVersion, `"v" is missing; this server speaks protocol version %d`, Version)
	} else if string(v) != "1" {
		return nil, errorf(CodeBadVersion, "protocol version %s is not supported; this server speaks version %d", describe(v), Version)
	}
	m.V = Version
	// Seq next, so that every later error can point at the message.
	if _, ok := env.fields["seq"]; ok {
		seq, perr := env.integer("seq", 1, MaxSafeInteger)
		if perr != nil {
			return nil, perr
		}
		m.Seq = seq
	}
	ref := func(e *ProtoError) *ProtoError {
		e.Ref = m.Seq
		return e
	}
	if perr := env.only("v", "type", "seq", "payload"); perr != nil {
		return nil, ref(perr)
	}
	if m.Seq == 0 {
		return nil, errorf(CodeBadField, `message.seq is missing; number messages 1, 2, 3, … on each connection`)
	}
	typ, perr := env.str("type", true)
	if perr != nil {
		return nil, ref(perr)
	}
	m.Type = typ
	raw, perr := env.raw("payload", true)
	if perr != nil {
		return nil, ref(perr)
	}
	if !slices.Contains(clientTypes, typ) {
		return nil, ref(unknownType(typ))
	}
	p, perr := parseObject("payload", raw)
	if perr != nil {
		return nil, ref(perr)
	}
	switch typ {
	case TypeHello:
		m.Payload, perr = decodeHello(p)
	case TypeRunStart:
		m.Payload, perr = decodeRunStart(p)
	case TypeSamples:
		m.Payload, perr = decodeSamples(p, l)
	case TypeRunEnd:
		m.Payload, perr = decodeRunEnd(p)
	case TypeSubscribe, TypeUnsubscribe:
		m.Payload, perr = decodeSubscription(p)
	}
	if perr != nil {
		return nil, ref(perr)
	}
	return m, nil
}

func unknownType(t string) *ProtoError {
	switch t {
	case TypeWelcome, TypeAck, TypeError, TypeRunStarted, TypeRunEnded:
		return errorf(CodeUnknownType, "%q is sent by the server, not by clients; clients send %s", t, strings.Join(clientTypes, ", "))
	}
	return errorf(CodeUnknownType, "unknown message type %q; clients send %s", shorten(t), strings.Join(clientTypes, ", "))
}

func decodeHello(p *object) (*Hello, *ProtoError) {
	if perr := p.only("role", "client", "snippet", "coalesce"); perr != nil {
		return nil, perr
	}
	h := &Hello{}
	role, perr := p.str("role", true)
	if perr != nil {
		return nil, perr
	}
	h.Role = Role(role)
	if h.Role != Producer && h.Role != Viewer {
		return nil, errorf(CodeBadField, "payload.role must be %q or %q, got %q", Producer, Viewer, shorten(role))
	}
	if h.Client, perr = text(p, "client", true, MaxTextBytes); perr != nil {
		return nil, perr
	}
	if h.Client == "" {
		return nil, errorf(CodeBadField, `payload.client is empty; name the client, e.g. "pyplay-web/1.0"`)
	}
	if _, ok := p.fields["snippet"]; ok {
		if h.Role != Viewer {
			return nil, errorf(CodeBadField, "payload.snippet is for viewers; producers name the snippet in each run.start")
		}
		if h.Snippet, perr = snippetID(p, "snippet"); perr != nil {
			return nil, perr
		}
	}
	if h.Coalesce, perr = p.boolean("coalesce", false); perr != nil {
		return nil, perr
	}
	return h, nil
}

func decodeRunStart(p *object) (*RunStart, *ProtoError) {
	if perr := p.only("run", "token"); perr != nil {
		return nil, perr
	}
	token, perr := p.str("token", false)
	if perr != nil {
		return nil, perr
	}
	if _, ok := p.fields["token"]; ok && !validToken(token) {
		return nil, errorf(CodeBadField, "payload.token must be %d to %d letters, digits, '-' or '_' (at least 128 random bits, base64url)", MinTokenBytes, MaxTokenBytes)
	}
	raw, perr := p.raw("run", true)
	if perr != nil {
		return nil, perr
	}
	r, perr := parseObject("payload.run", raw)
	if perr != nil {
		return nil, perr
	}
	if perr := r.only("id", "snippet", "runtime", "runtimeVersion", "env", "config", "phases", "ab"); perr != nil {
		return nil, perr
	}
	var info RunInfo
	if info.ID, perr = runID(r, "id"); perr != nil {
		return nil, perr
	}
	if info.Snippet, perr = snippetID(r, "snippet"); perr != nil {
		return nil, perr
	}
	if info.Runtime, perr = r.str("runtime", true); perr != nil {
		return nil, perr
	}
	if !slices.Contains(runtimes, info.Runtime) {
		return nil, errorf(CodeBadField, "payload.run.runtime %q is unknown; use one of %s", shorten(info.Runtime), strings.Join(runtimes, ", "))
	}
	if info.RuntimeVersion, perr = text(r, "runtimeVersion", false, MaxTextBytes); perr != nil {
		return nil, perr
	}
	if info.Env, perr = r.jsonObject("env"); perr != nil {
		return nil, perr
	}
	if perr := checkInterpreter(info); perr != nil {
		return nil, perr
	}
	if info.Config, perr = r.jsonObject("config"); perr != nil {
		return nil, perr
	}
	if info.Phases, perr = r.jsonObject("phases"); perr != nil {
		return nil, perr
	}
	if info.AB, perr = abLink(r, "ab"); perr != nil {
		return nil, perr
	}
	if info.AB != nil && !slices.Contains(snippets.ABRuntimes, info.Runtime) {
		return nil, errorf(CodeBadField, "payload.run.runtime %s cannot take part in an A/B benchmark; use one of %s", info.Runtime, strings.Join(snippets.ABRuntimes, ", "))
	}
	return &RunStart{Run: info, Token: token}, nil
}

// validToken: a run token is base64url, like a run ID, and long enough not
// to be guessed.
func validToken(t string) bool {
	return len(t) >= MinTokenBytes && len(t) <= MaxTokenBytes && snippets.ValidRunID(t)
}

// abLink reads a run's optional link to an A/B benchmark:
// {"id": AB_ID, "arm": "a"|"b"|"c", "interpreter": k}, every field required.
func abLink(o *object, name string) (*snippets.ABLink, *ProtoError) {
	raw, perr := o.raw(name, false)
	if raw == nil || perr != nil {
		return nil, perr
	}
	p, perr := parseObject(o.at(name), raw)
	if perr != nil {
		return nil, perr
	}
	if perr := p.only("id", "arm", "interpreter"); perr != nil {
		return nil, perr
	}
	l := &snippets.ABLink{}
	if l.ID, perr = p.str("id", true); perr != nil {
		return nil, perr
	}
	if !snippets.ValidABID(l.ID) {
		return nil, errorf(CodeBadField, "%s %q is not an A/B benchmark ID (%s)", p.at("id"), shorten(l.ID), snippets.ABIDRule)
	}
	if l.Arm, perr = p.str("arm", true); perr != nil {
		return nil, perr
	}
	if snippets.ArmIndex(l.Arm) < 0 {
		return nil, errorf(CodeBadField, "%s must be %s, got %q", p.at("arm"), `"a", "b" or "c"`, shorten(l.Arm))
	}
	k, perr := p.integer("interpreter", 0, snippets.MaxABInterpreterIndex)
	if perr != nil {
		return nil, perr
	}
	l.Interpreter = int(k)
	return l, nil
}

// checkInterpreter: a PyScript run's env.interpreter says which interpreter
// the page ran on, and the dashboards compare the two separately, so when
// it is there it must name one of them.
func checkInterpreter(info RunInfo) *ProtoError {
	if info.Runtime != string(snippets.PyScript) || info.Env == nil {
		return nil
	}
	var env map[string]json.RawMessage
	if json.Unmarshal(info.Env, &env) != nil {
		return nil // jsonObject checked it is an object
	}
	v, ok := env["interpreter"]
	if !ok {
		return nil
	}
	var s string
	if json.Unmarshal(v, &s) != nil || !snippets.ValidInterpreter(snippets.Interpreter(s)) {
		return errorf(CodeBadField, "payload.run.env.interpreter must be \"pyodide\" or \"micropython\" for runtime pyscript, got %s", shorten(string(v)))
	}
	return nil
}

func decodeSamples(p *object, l Limits) (*SampleBatch, *ProtoError) {
	if perr := p.only("run", "batch", "samples"); perr != nil {
		return nil, perr
	}
	b := &SampleBatch{}
	var perr *ProtoError
	if b.Run, perr = runID(p, "run"); perr != nil {
		return nil, perr
	}
	batch, perr := p.integer("batch", 0, MaxSafeInteger)
	if perr != nil {
		return nil, perr
	}
	b.Batch = int(batch)
	elems, perr := p.array("samples", l.MaxSamplesPerBatch)
	if perr != nil {
		if perr.Code == CodeTooLarge {
			perr.Message += " (see welcome.limits.maxSamplesPerBatch)"
		}
		return nil, perr
	}
	if len(elems) == 0 {
		return nil, errorf(CodeBadField, "payload.samples is empty; send a batch only when it has samples")
	}
	b.Samples = make([]snippets.Sample, len(elems))
	for i, e := range elems {
		s, perr := parseObject("payload.samples["+strconv.Itoa(i)+"]", e)
		if perr != nil {
			return nil, perr
		}
		if perr := s.only("seq", "warmup", "ns", "iters", "hidden"); perr != nil {
			return nil, perr
		}
		seq, perr := s.integer("seq", 0, MaxSafeInteger)
		if perr != nil {
			return nil, perr
		}
		if i > 0 && int(seq) <= b.Samples[i-1].Seq {
			return nil, errorf(CodeBadField, "%s is %d, not greater than the previous sample's %d; sample seqs must increase strictly within a batch",
				s.at("seq"), seq, b.Samples[i-1].Seq)
		}
		smp := snippets.Sample{Seq: int(seq)}
		if smp.Warmup, perr = s.boolean("warmup", true); perr != nil {
			return nil, perr
		}
		if smp.NsPerIter, perr = s.number("ns"); perr != nil {
			return nil, perr
		}
		if smp.NsPerIter > MaxNsPerIter {
			return nil, errorf(CodeBadField, "%s is %g ns per iteration, more than 10¹⁵ (11 days); send nanoseconds per iteration, not a total or another unit", s.at("ns"), smp.NsPerIter)
		}
		iters, perr := s.integer("iters", 1, MaxSafeInteger)
		if perr != nil {
			return nil, perr
		}
		smp.Iterations = int(iters)
		if smp.Hidden, perr = s.boolean("hidden", false); perr != nil {
			return nil, perr
		}
		b.Samples[i] = smp
	}
	return b, nil
}

func decodeRunEnd(p *object) (*RunEnd, *ProtoError) {
	if perr := p.only("run", "status", "error"); perr != nil {
		return nil, perr
	}
	e := &RunEnd{}
	var perr *ProtoError
	if e.Run, perr = runID(p, "run"); perr != nil {
		return nil, perr
	}
	if e.Status, perr = p.str("status", true); perr != nil {
		return nil, perr
	}
	if !slices.Contains(endStatuses, e.Status) {
		return nil, errorf(CodeBadField, "payload.status %q cannot end a run; use one of %s", shorten(e.Status), strings.Join(endStatuses, ", "))
	}
	if e.Error, perr = p.str("error", false); perr != nil {
		return nil, perr
	}
	if len(e.Error) > MaxErrorBytes {
		return nil, errorf(CodeTooLarge, "payload.error is %d bytes; the limit is %d", len(e.Error), MaxErrorBytes)
	}
	if strings.ContainsRune(e.Error, 0) {
		return nil, errorf(CodeBadField, "payload.error must not contain NUL")
	}
	return e, nil
}

func decodeSubscription(p *object) (*Subscription, *ProtoError) {
	if perr := p.only("snippet"); perr != nil {
		return nil, perr
	}
	id, perr := snippetID(p, "snippet")
	if perr != nil {
		return nil, perr
	}
	return &Subscription{Snippet: id}, nil
}

func runID(o *object, name string) (string, *ProtoError) {
	id, perr := o.str(name, true)
	if perr != nil {
		return "", perr
	}
	if !snippets.ValidRunID(id) {
		return "", errorf(CodeBadField, "%s %q must be %s", o.at(name), shorten(id), snippets.RunIDRule)
	}
	return id, nil
}

func snippetID(o *object, name string) (string, *ProtoError) {
	id, perr := o.str(name, true)
	if perr != nil {
		return "", perr
	}
	if !snippets.ValidID(id) {
		return "", errorf(CodeBadField, "%s %q is not a snippet ID (the part after /s/ in a share link)", o.at(name), shorten(id))
	}
	return id, nil
}

// text reads a short human-readable string: printable, no control
// characters, at most max bytes.
func text(o *object, name string, required bool, max int) (string, *ProtoError) {
	s, perr := o.str(name, required)
	if perr != nil {
		return "", perr
	}
	if len(s) > max {
		return "", errorf(CodeTooLarge, "%s is %d bytes; the limit is %d", o.at(name), len(s), max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", errorf(CodeBadField, "%s must not contain control characters", o.at(name))
		}
	}
	return s, nil
}

// shorten keeps echoed client input in error messages small.
func shorten(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
