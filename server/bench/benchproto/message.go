package benchproto

import (
	"encoding/json"
	"time"

	"github.com/pyplay/pyplay/snippets"
)

// Version is the protocol version this package speaks, sent as "v" in
// every envelope.
const Version = 1

// Message types sent by clients.
const (
	TypeHello       = "hello"
	TypeRunStart    = "run.start"
	TypeSamples     = "samples" // from a producer: a SampleBatch; to a viewer: RunSamples
	TypeRunEnd      = "run.end"
	TypeSubscribe   = "subscribe"
	TypeUnsubscribe = "unsubscribe"
)

// Message types sent by the server.
const (
	TypeWelcome    = "welcome"
	TypeAck        = "ack"
	TypeError      = "error"
	TypeRunStarted = "run.started"
	TypeRunEnded   = "run.ended"
)

// Message is one envelope. Payload holds a pointer to the struct for Type:
//
//	client → server: *Hello, *RunStart, *SampleBatch, *RunEnd,
//	                 *Subscription (subscribe and unsubscribe)
//	server → client: *Welcome, *Ack, *ErrorInfo, *RunStarted,
//	                 *RunSamples (type samples), *RunEnded
//
// Seq numbers a client's messages on one connection: 1, 2, 3, …. Server
// messages have Seq 0 (omitted): fan-out messages are encoded once and the
// same bytes go to every viewer, so they cannot carry a per-connection
// number; acks and errors point at the client's seq instead.
type Message struct {
	V       int    `json:"v"`
	Type    string `json:"type"`
	Seq     int64  `json:"seq,omitempty"`
	Payload any    `json:"payload"`
}

// Role says what a client connected to do.
type Role string

// The roles a client can take in hello.
const (
	Producer Role = "producer" // sends runs and samples
	Viewer   Role = "viewer"   // receives run.started, samples and run.ended
)

// Hello is a client's first message.
type Hello struct {
	Role Role `json:"role"`
	// Client names the software, e.g. "pyplay-web/1.4" or
	// "pyplay-bench-native/0.3 (CPython 3.12.1)", for logs.
	Client string `json:"client"`
	// Snippet, for viewers only, subscribes at once to that snippet's
	// runs: the common case of a dashboard needs no separate subscribe.
	Snippet string `json:"snippet,omitempty"`
	// Coalesce says the client reads frames that hold a JSON array of
	// messages (SplitFrame), so the server may send everything queued for
	// the connection in one frame. Without it every frame is one message.
	Coalesce bool `json:"coalesce,omitempty"`
}

// RunInfo describes a run as its producer starts it: snippets.Run without
// the fields the store sets (status, times, samples).
type RunInfo struct {
	ID             string `json:"id"`
	Snippet        string `json:"snippet"`
	Runtime        string `json:"runtime"`
	RuntimeVersion string `json:"runtimeVersion,omitempty"`
	// Env, Config and Phases are JSON objects of at most MaxObjectBytes
	// (compacted), or absent. Decode stores them compacted so that a
	// decoded message re-encodes byte for byte.
	Env    json.RawMessage `json:"env,omitempty"`
	Config json.RawMessage `json:"config,omitempty"`
	Phases json.RawMessage `json:"phases,omitempty"`
	// AB, when present, makes the run one arm of an A/B benchmark in one
	// of its interpreters (docs/bench.md): the server checks that the
	// benchmark exists, that the arm's snippet is the run's and that the
	// runtime is one of the benchmark's.
	AB *snippets.ABLink `json:"ab,omitempty"`
}

// RunStart (run.start) announces a run. A producer sends it before the
// run's samples, and again after reconnecting: the store treats a repeated
// run.start as a no-op, and the new connection learns the run's snippet.
//
// A run belongs to the producer that started it, which proves it with a
// secret token: the one its first run.start sent in Token (a producer
// should make one up, 128 random bits or more, so that it holds the token
// even when the ack is lost), or else the one the server handed out in
// that run.start's ack. A run.start of the run on another connection
// (after a reconnect) must present it; without it, or with another, the
// run cannot be resumed (not_allowed).
type RunStart struct {
	Run   RunInfo `json:"run"`
	Token string  `json:"token,omitempty"`
}

// SampleBatch (samples, client → server) carries samples of one run.
// Batch numbers a run's batches from 0; a batch resent with the same number
// is acknowledged as a duplicate and not stored twice. Sample seqs are
// strictly increasing within the batch.
type SampleBatch struct {
	Run     string            `json:"run"`
	Batch   int               `json:"batch"`
	Samples []snippets.Sample `json:"samples"`
}

// RunEnd (run.end) gives a run its final status: done, failed or stopped.
type RunEnd struct {
	Run    string `json:"run"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Subscription is the payload of subscribe and unsubscribe.
type Subscription struct {
	Snippet string `json:"snippet"`
}

// Welcome is the server's answer to hello.
type Welcome struct {
	Server   string `json:"server"`   // e.g. "pyplay/1.2.0"
	Protocol int    `json:"protocol"` // Version
	Limits   Limits `json:"limits"`
}

// Ack acknowledges a client message once it is durable (stored) or,
// for messages that store nothing, accepted.
type Ack struct {
	Ack   int64  `json:"ack"` // seq of the acknowledged message
	Run   string `json:"run,omitempty"`
	Batch *int   `json:"batch,omitempty"` // set for samples; 0 is a valid batch
	// Duplicate reports that the store already held this run or batch
	// (a resend after a lost ack); nothing changed.
	Duplicate bool `json:"duplicate"`
	// Token, in the ack of a run.start, is the run's secret: present it
	// in a run.start of the same run on another connection.
	Token string `json:"token,omitempty"`
}

// ErrorInfo is the payload of an error message; see ProtoError.
type ErrorInfo struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Ref     int64  `json:"ref,omitempty"`
	// RetryAfterMs, when set, is how long to wait before sending the
	// message again (rate_limited, unavailable, over_quota).
	RetryAfterMs int64 `json:"retryAfterMs,omitempty"`
}

// RunStarted (run.started) tells viewers of the run's snippet that a run
// began.
type RunStarted struct {
	Run     RunInfo   `json:"run"`
	Created time.Time `json:"created"`
}

// RunSamples (samples, server → viewer) forwards a stored batch.
type RunSamples struct {
	Run     string            `json:"run"`
	Snippet string            `json:"snippet"`
	Batch   int               `json:"batch"`
	Samples []snippets.Sample `json:"samples"`
}

// RunEnded (run.ended) tells viewers that a run finished.
type RunEnded struct {
	Run      string    `json:"run"`
	Snippet  string    `json:"snippet"`
	Status   string    `json:"status"`
	Error    string    `json:"error,omitempty"`
	Finished time.Time `json:"finished"`
}

// Topic is the hub topic on which a snippet's fan-out messages are
// published. The prefix leaves room for other kinds of topics (an overview
// of all snippets, say) without colliding with snippet IDs.
func Topic(snippetID string) string { return "snippet:" + snippetID }
