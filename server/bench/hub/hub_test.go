package hub

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// noLeaks fails the test if goroutines started during it are still running
// shortly after it ends. Registered first, its cleanup runs last.
func noLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				n := runtime.Stack(buf, true)
				t.Errorf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:n])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// startHub runs a hub until the test ends (or stop is called).
func startHub(t *testing.T) (h *Hub, stop func()) {
	t.Helper()
	h = New()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Run(ctx)
	}()
	stop = func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return h, stop
}

// drain reads everything queued on s without blocking.
func drain(s *Subscriber) (msgs []string, closed bool) {
	for {
		select {
		case m, ok := <-s.Messages():
			if !ok {
				return msgs, true
			}
			msgs = append(msgs, string(m))
		default:
			return msgs, false
		}
	}
}

func TestManyTopics(t *testing.T) {
	noLeaks(t)
	h, _ := startHub(t)
	const topics, perTopic = 40, 25
	// Subscriber i follows topics i and (i+1)%topics, so every topic has
	// two subscribers and every subscriber two topics.
	subs := make([]*Subscriber, topics)
	for i := range subs {
		subs[i] = NewSubscriber(2 * perTopic)
		h.Subscribe(fmt.Sprint("t", i), subs[i])
		h.Subscribe(fmt.Sprint("t", (i+1)%topics), subs[i])
	}
	if st := h.Stats(); st.Subscribers != topics || st.Topics != topics {
		t.Fatalf("stats %+v", st)
	}
	// Publish from one goroutine per topic, concurrently.
	var wg sync.WaitGroup
	for i := range topics {
		wg.Go(func() {
			for n := range perTopic {
				h.Publish(fmt.Sprint("t", i), fmt.Appendf(nil, "t%d/%d", i, n))
			}
		})
	}
	wg.Wait()
	h.Publish("nobody-listens", []byte("x"))
	h.Stats()
	for i, s := range subs {
		got, closed := drain(s)
		if closed || len(got) != 2*perTopic {
			t.Fatalf("subscriber %d: %d messages, closed %v", i, len(got), closed)
		}
		// Per topic, publication order is kept.
		next := map[int]int{} // topic → next message number
		for _, m := range got {
			var topic, n int
			if _, err := fmt.Sscanf(m, "t%d/%d", &topic, &n); err != nil {
				t.Fatal(err)
			}
			if topic != i && topic != (i+1)%topics {
				t.Fatalf("subscriber %d got %q from a topic it does not follow", i, m)
			}
			if n != next[topic] {
				t.Fatalf("subscriber %d: got %q, want message %d of topic t%d", i, m, next[topic], topic)
			}
			next[topic]++
		}
	}
	if st := h.Stats(); st.Published != topics*perTopic+1 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestSlowConsumerDropped(t *testing.T) {
	noLeaks(t)
	h, _ := startHub(t)
	const n = 200
	slow := NewSubscriber(3) // never reads
	fast := []*Subscriber{NewSubscriber(8), NewSubscriber(8), NewSubscriber(n)}
	h.Subscribe("run", slow)
	h.Subscribe("other", slow)
	received := make([][]string, len(fast))
	var wg sync.WaitGroup
	for i, s := range fast {
		h.Subscribe("run", s)
		wg.Go(func() {
			for m := range s.Messages() {
				received[i] = append(received[i], string(m))
				if len(received[i]) == n {
					return
				}
			}
		})
	}
	for i := range n {
		h.Publish("run", fmt.Appendf(nil, "%d", i))
		// Readers with small buffers need a moment now and then; the hub
		// itself never waits for them.
		if i%4 == 3 {
			waitFor(t, func() bool { return len(fast[0].send) == 0 && len(fast[1].send) == 0 })
		}
	}
	wg.Wait()
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprint(i)
	}
	for i := range fast {
		if !slices.Equal(received[i], want) {
			t.Errorf("fast subscriber %d got %d messages, want all %d in order", i, len(received[i]), n)
		}
	}
	got, closed := drain(slow)
	if !closed || !slices.Equal(got, []string{"0", "1", "2"}) || slow.Err() != ErrSlowConsumer {
		t.Errorf("slow subscriber: got %q closed %v err %v; want its 3 buffered messages, then closed with ErrSlowConsumer", got, closed, slow.Err())
	}
	st := h.Stats()
	if st.Dropped != 1 || st.Subscribers != len(fast) || st.Topics != 1 {
		t.Errorf("stats %+v: the slow subscriber must be gone from both its topics", st)
	}
	// A dropped subscriber does not come back.
	h.Subscribe("run", slow)
	h.Publish("run", []byte("after"))
	if st := h.Stats(); st.Subscribers != len(fast) {
		t.Errorf("dropped subscriber re-registered: %+v", st)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestUnsubscribeAndUnregister(t *testing.T) {
	noLeaks(t)
	h, _ := startHub(t)
	s := NewSubscriber(10)
	h.Subscribe("a", s)
	h.Subscribe("b", s)
	h.Subscribe("b", s) // twice: still one delivery
	h.Publish("a", []byte("a1"))
	h.Publish("b", []byte("b1"))
	h.Unsubscribe("a", s)
	h.Unsubscribe("never", s)
	h.Publish("a", []byte("a2"))
	h.Publish("b", []byte("b2"))
	h.Stats() // barrier: the publications are handled
	if got, closed := drain(s); closed || !slices.Equal(got, []string{"a1", "b1", "b2"}) {
		t.Fatalf("got %q closed %v", got, closed)
	}
	if st := h.Stats(); st.Topics != 1 {
		t.Errorf("topic a not cleaned up: %+v", st)
	}
	h.Unsubscribe("b", s)
	if st := h.Stats(); st.Topics != 0 || st.Subscribers != 1 {
		t.Errorf("after unsubscribing everything: %+v (still registered, no topics)", st)
	}
	h.Send(s, []byte("direct"))
	h.Unregister(s)
	h.Unregister(s) // harmless
	h.Stats()
	if got, closed := drain(s); !closed || !slices.Equal(got, []string{"direct"}) || s.Err() != nil {
		t.Fatalf("after Unregister: got %q closed %v err %v", got, closed, s.Err())
	}
	if st := h.Stats(); st.Subscribers != 0 {
		t.Errorf("stats %+v", st)
	}
	// Send to a subscriber the hub does not know is ignored, not a panic
	// on a closed channel.
	h.Send(s, []byte("late"))
	h.Send(NewSubscriber(1), []byte("stranger"))
}

func TestRegisterOnlyReceivesSend(t *testing.T) {
	h, _ := startHub(t)
	s := NewSubscriber(1)
	h.Register(s)
	h.Publish("t", []byte("published"))
	h.Send(s, []byte("ack"))
	h.Send(s, []byte("overflow")) // buffer of 1 is full: dropped
	h.Stats()
	if got, closed := drain(s); !closed || !slices.Equal(got, []string{"ack"}) || s.Err() != ErrSlowConsumer {
		t.Fatalf("got %q closed %v err %v", got, closed, s.Err())
	}
}

func TestRunStopClosesEverything(t *testing.T) {
	noLeaks(t)
	h, stop := startHub(t)
	subs := []*Subscriber{NewSubscriber(4), NewSubscriber(4), NewSubscriber(4)}
	h.Subscribe("a", subs[0])
	h.Subscribe("b", subs[1])
	h.Register(subs[2])
	h.Publish("a", []byte("x"))
	stop()
	select {
	case <-h.Done():
	default:
		t.Fatal("Done not closed after Run returned")
	}
	for i, s := range subs {
		got, closed := drain(s)
		if !closed || s.Err() != ErrHubClosed {
			t.Errorf("subscriber %d: closed %v err %v", i, closed, s.Err())
		}
		if i == 0 && !slices.Equal(got, []string{"x"}) {
			t.Errorf("queued message lost: %q", got)
		}
	}
	// After Run: nothing blocks, and newcomers are closed at once.
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		late := NewSubscriber(1)
		h.Subscribe("a", late)
		if _, closed := drain(late); !closed || late.Err() != ErrHubClosed {
			t.Errorf("late subscriber not closed: err %v", late.Err())
		}
		reg := NewSubscriber(1)
		h.Register(reg)
		if _, closed := drain(reg); !closed {
			t.Error("late registration not closed")
		}
		h.Publish("a", []byte("y"))
		h.Send(subs[0], []byte("y"))
		h.Unsubscribe("a", subs[0])
		h.Unregister(subs[1])
		if st := h.Stats(); st.Subscribers != 0 || st.Published != 1 {
			t.Errorf("stats after stop: %+v", st)
		}
	}()
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		t.Fatal("calls after Run returned blocked")
	}
}

// Many goroutines subscribing, publishing and leaving at once: run with
// -race; the assertion is that nothing races, panics or deadlocks.
func TestConcurrentUse(t *testing.T) {
	noLeaks(t)
	h, stop := startHub(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			s := NewSubscriber(16)
			readerDone := make(chan struct{})
			go func() {
				defer close(readerDone)
				for range s.Messages() {
				}
			}()
			for i := range 100 {
				topic := fmt.Sprint("t", (g+i)%5)
				h.Subscribe(topic, s)
				h.Publish(topic, []byte("m"))
				h.Send(s, []byte("direct"))
				if i%3 == 0 {
					h.Unsubscribe(topic, s)
				}
			}
			h.Unregister(s)
			<-readerDone
		})
	}
	wg.Wait()
	stop()
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(10, 20)
	t0 := time.Unix(1000, 0)
	for i := range 20 {
		if !l.AllowAt(t0) {
			t.Fatalf("burst message %d refused", i)
		}
	}
	if l.AllowAt(t0) {
		t.Fatal("21st message in the same instant allowed")
	}
	if d := l.RetryAfterAt(t0); d != 100*time.Millisecond {
		t.Errorf("RetryAfter = %v, want 100ms at 10/s", d)
	}
	if l.AllowAt(t0) {
		t.Fatal("RetryAfter took a token: a refused message must not be charged")
	}
	if !l.AllowAt(t0.Add(100*time.Millisecond)) || l.AllowAt(t0.Add(100*time.Millisecond)) {
		t.Error("refill is not one token per 100ms")
	}
	if d := l.RetryAfterAt(t0.Add(time.Hour)); d != 0 {
		t.Errorf("RetryAfter with a full bucket = %v", d)
	}
	if !NewLimiter(1, 0).Allow() {
		t.Error("burst 0 should mean 1")
	}
}
