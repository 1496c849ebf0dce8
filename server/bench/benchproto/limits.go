package benchproto

// Limits bounds what clients may send. The server announces its limits in
// welcome so that clients size their batches to fit. A zero (or negative)
// field means the DefaultLimits value, so Limits{} is usable as is.
type Limits struct {
	// MaxMessageBytes bounds one WebSocket frame. Use it as the
	// connection's read limit too, so oversized frames never reach Decode.
	MaxMessageBytes int `json:"maxMessageBytes"`
	// MaxSamplesPerBatch bounds the samples of one samples message.
	MaxSamplesPerBatch int `json:"maxSamplesPerBatch"`
	// MaxBatchesPerSecond is the sustained rate of samples messages a
	// connection may send; the server allows bursts of twice as many and
	// answers rate_limited beyond.
	MaxBatchesPerSecond int `json:"maxBatchesPerSecond"`
	// MaxSubscriptions bounds the snippets one viewer connection follows.
	MaxSubscriptions int `json:"maxSubscriptions"`
}

// DefaultLimits are sized for the browser harness, which flushes a batch
// every few hundred milliseconds: 500 samples of at most ~110 bytes each fit
// in 64 KiB, and so does a run.start with three full 4 KiB objects.
var DefaultLimits = Limits{
	MaxMessageBytes:     64 << 10,
	MaxSamplesPerBatch:  500,
	MaxBatchesPerSecond: 10,
	MaxSubscriptions:    32,
}

// Fixed bounds that are part of protocol version 1 rather than server
// configuration.
const (
	// MaxObjectBytes bounds each of a run's env, config and phases
	// objects, measured compacted.
	MaxObjectBytes = 4 << 10
	// MaxTextBytes bounds short strings: hello's client and a run's
	// runtimeVersion.
	MaxTextBytes = 200
	// MaxErrorBytes bounds run.end's error text.
	MaxErrorBytes = 4 << 10
	// MaxSafeInteger bounds seq, batch, sample seq and iters: the largest
	// integer a JavaScript number holds exactly.
	MaxSafeInteger = 1<<53 - 1
	// maxRunsPerSession bounds the runs one connection may start, so a
	// session's memory is bounded; a producer reconnects for more.
	maxRunsPerSession = 256
)

// WithDefaults returns l with every unset field filled from DefaultLimits:
// the values the server actually enforces and announces.
func (l Limits) WithDefaults() Limits {
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = DefaultLimits.MaxMessageBytes
	}
	if l.MaxSamplesPerBatch <= 0 {
		l.MaxSamplesPerBatch = DefaultLimits.MaxSamplesPerBatch
	}
	if l.MaxBatchesPerSecond <= 0 {
		l.MaxBatchesPerSecond = DefaultLimits.MaxBatchesPerSecond
	}
	if l.MaxSubscriptions <= 0 {
		l.MaxSubscriptions = DefaultLimits.MaxSubscriptions
	}
	return l
}
