// Package hub fans messages out to WebSocket connections by topic.
//
// It follows the gorilla/websocket chat example: one goroutine (Hub.Run)
// owns every subscription, and everything else talks to it over a channel,
// so there are no locks around the subscriber map. Each Subscriber has a
// buffered channel; the hub never waits on it. A subscriber whose buffer is
// full is dropped — its channel closed — so that one slow dashboard cannot
// delay the others, and every remaining subscriber still receives every
// message of its topics in publication order.
//
// The hub moves opaque bytes: it knows nothing of benchproto or JSON, so
// the same hub can be fed by the WebSocket handlers of this instance and by
// PostgreSQL LISTEN/NOTIFY from other instances.
//
// Client (client.go) connects a Subscriber to a *websocket.Conn with a read
// pump and a write pump; Limiter (limit.go) is the per-connection token
// bucket.
package hub

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Why a subscriber's channel was closed, as reported by Subscriber.Err.
var (
	// ErrSlowConsumer: the subscriber's buffer was full when a message
	// arrived, so it was dropped.
	ErrSlowConsumer = errors.New("hub: subscriber too slow, dropped")
	// ErrHubClosed: Run returned (the server is shutting down).
	ErrHubClosed = errors.New("hub: closed")
)

// A Subscriber receives the messages published to the topics it follows,
// and those sent to it directly with Hub.Send, on one buffered channel.
// Only the hub sends on or closes that channel; the owner only reads.
type Subscriber struct {
	send     chan []byte
	once     sync.Once
	isClosed atomic.Bool
	err      error // written before send is closed, read after: no race
}

// NewSubscriber returns a subscriber whose channel buffers up to buffer
// messages (at least 1). The buffer is the subscriber's whole allowance
// for falling behind: size it for a burst, not for a backlog.
func NewSubscriber(buffer int) *Subscriber {
	return &Subscriber{send: make(chan []byte, max(buffer, 1))}
}

// Messages returns the subscriber's channel. It is closed when the
// subscriber is unregistered, dropped for being slow, or the hub stops;
// Err then says which.
func (s *Subscriber) Messages() <-chan []byte { return s.send }

// Err returns why Messages was closed: ErrSlowConsumer, ErrHubClosed, or
// nil after Unregister. Call it only after Messages is closed.
func (s *Subscriber) Err() error { return s.err }

func (s *Subscriber) close(err error) {
	s.once.Do(func() {
		s.err = err
		s.isClosed.Store(true)
		close(s.send)
	})
}

// Stats is a snapshot of the hub, for metrics.
type Stats struct {
	Subscribers int    // registered subscribers
	Topics      int    // topics with at least one subscriber
	Published   uint64 // Publish calls processed
	Dropped     uint64 // subscribers dropped for being slow
}

type opKind int

const (
	opRegister opKind = iota
	opUnregister
	opSubscribe
	opUnsubscribe
	opPublish
	opSend
	opStats
)

type op struct {
	kind  opKind
	topic string
	sub   *Subscriber
	msg   []byte
	stats chan Stats
}

// Hub routes messages to subscribers by topic. The zero value is not
// usable; call New, then Run in a goroutine of its own.
type Hub struct {
	// ops is unbuffered on purpose: an operation is either taken by Run
	// or, once Run has returned, refused through done. With a buffer, an
	// operation could be queued after Run's last look and be lost with its
	// subscriber never closed. Run never blocks while handling one, so
	// callers wait only for their turn.
	ops  chan op
	done chan struct{}

	// Owned by Run.
	topics map[string]map[*Subscriber]struct{}
	subs   map[*Subscriber]map[string]struct{} // registered → its topics

	published, dropped atomic.Uint64
}

// New returns a hub. Call Run to start it.
func New() *Hub {
	return &Hub{
		ops:    make(chan op),
		done:   make(chan struct{}),
		topics: make(map[string]map[*Subscriber]struct{}),
		subs:   make(map[*Subscriber]map[string]struct{}),
	}
}

// Run routes messages until ctx is done, then closes every registered
// subscriber (Err: ErrHubClosed) and returns. Call it once. Until Run
// starts, calls to the other methods wait; after it returns they do
// nothing, except that Register and Subscribe close the subscriber at
// once, so that a connection accepted during shutdown ends too.
func (h *Hub) Run(ctx context.Context) {
	defer close(h.done)
	for {
		select {
		case <-ctx.Done():
			for s := range h.subs {
				s.close(ErrHubClosed)
			}
			h.subs, h.topics = nil, nil
			return
		case o := <-h.ops:
			h.handle(o)
		}
	}
}

// Done is closed when Run has returned.
func (h *Hub) Done() <-chan struct{} { return h.done }

func (h *Hub) handle(o op) {
	switch o.kind {
	case opRegister:
		if _, ok := h.subs[o.sub]; !ok && !o.sub.closed() {
			h.subs[o.sub] = make(map[string]struct{})
		}
	case opUnregister:
		h.remove(o.sub, nil)
	case opSubscribe:
		topics, ok := h.subs[o.sub]
		if !ok {
			if o.sub.closed() {
				return // dropped or unregistered before: stay gone
			}
			topics = make(map[string]struct{})
			h.subs[o.sub] = topics
		}
		topics[o.topic] = struct{}{}
		members := h.topics[o.topic]
		if members == nil {
			members = make(map[*Subscriber]struct{})
			h.topics[o.topic] = members
		}
		members[o.sub] = struct{}{}
	case opUnsubscribe:
		if topics, ok := h.subs[o.sub]; ok {
			delete(topics, o.topic)
			h.leave(o.topic, o.sub)
		}
	case opPublish:
		h.published.Add(1)
		for s := range h.topics[o.topic] {
			h.deliver(s, o.msg)
		}
	case opSend:
		if _, ok := h.subs[o.sub]; ok {
			h.deliver(o.sub, o.msg)
		}
	case opStats:
		o.stats <- Stats{
			Subscribers: len(h.subs),
			Topics:      len(h.topics),
			Published:   h.published.Load(),
			Dropped:     h.dropped.Load(),
		}
	}
}

// deliver never blocks: a full buffer means the subscriber is not keeping
// up, and waiting for it would stall every other subscriber.
func (h *Hub) deliver(s *Subscriber, msg []byte) {
	select {
	case s.send <- msg:
	default:
		h.dropped.Add(1)
		h.remove(s, ErrSlowConsumer)
	}
}

// remove forgets s everywhere and closes its channel. Deleting from
// h.topics while Publish ranges over it is safe in Go.
func (h *Hub) remove(s *Subscriber, err error) {
	topics, ok := h.subs[s]
	if !ok {
		s.close(err) // never registered, or already gone: close is idempotent
		return
	}
	for t := range topics {
		h.leave(t, s)
	}
	delete(h.subs, s)
	s.close(err)
}

func (h *Hub) leave(topic string, s *Subscriber) {
	members := h.topics[topic]
	delete(members, s)
	if len(members) == 0 {
		delete(h.topics, topic) // topics come and go with snippets: do not leak them
	}
}

// closed reports whether s's channel was closed: a dropped or
// unregistered subscriber must not come back to life by subscribing again,
// because its owner has already seen the closed channel.
func (s *Subscriber) closed() bool { return s.isClosed.Load() }

// do hands o to Run, or reports false when the hub has stopped.
func (h *Hub) do(o op) bool {
	select {
	case h.ops <- o:
		return true
	case <-h.done:
		return false
	}
}

// Register makes s known to the hub without a topic, so that Send can
// reach it and stopping the hub closes it. Subscribe registers implicitly.
func (h *Hub) Register(s *Subscriber) {
	if !h.do(op{kind: opRegister, sub: s}) {
		s.close(ErrHubClosed)
	}
}

// Unregister removes s from every topic and closes its channel (Err nil).
// Call it when the connection ends; calling it twice is harmless.
func (h *Hub) Unregister(s *Subscriber) {
	if !h.do(op{kind: opUnregister, sub: s}) {
		s.close(ErrHubClosed)
	}
}

// Subscribe adds s to topic. A subscriber may follow many topics.
// Subscribing a subscriber that was dropped or unregistered does nothing:
// its channel is closed, and its owner must start afresh.
func (h *Hub) Subscribe(topic string, s *Subscriber) {
	if !h.do(op{kind: opSubscribe, topic: topic, sub: s}) {
		s.close(ErrHubClosed)
	}
}

// Unsubscribe removes s from topic; s stays registered.
func (h *Hub) Unsubscribe(topic string, s *Subscriber) {
	h.do(op{kind: opUnsubscribe, topic: topic, sub: s})
}

// Publish queues msg for every subscriber of topic. msg is shared, not
// copied: do not modify it afterwards. Publish returns as soon as the hub's
// goroutine has taken msg, never waiting for a subscriber to read; the hub
// handles operations in the order it takes them, so messages published by
// one goroutine arrive in that order, after its earlier Subscribe calls
// took effect.
func (h *Hub) Publish(topic string, msg []byte) {
	h.do(op{kind: opPublish, topic: topic, msg: msg})
}

// Send queues msg for s alone (an ack or error for one connection), under
// the same rule as Publish: if s's buffer is full, s is dropped. Sending
// through the hub, rather than on s's channel directly, is what makes it
// safe: only the hub's goroutine sends on or closes the channel.
func (h *Hub) Send(s *Subscriber, msg []byte) {
	h.do(op{kind: opSend, sub: s, msg: msg})
}

// Stats returns a snapshot of the hub; the zero Stats (with the counters)
// once Run has returned. Every operation the caller started before is
// complete when Stats returns, which makes it a barrier in tests.
func (h *Hub) Stats() Stats {
	c := make(chan Stats, 1)
	if !h.do(op{kind: opStats, stats: c}) {
		return Stats{Published: h.published.Load(), Dropped: h.dropped.Load()}
	}
	return <-c
}
