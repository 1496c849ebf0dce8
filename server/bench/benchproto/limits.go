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
	// MaxSamplesPerRun bounds the samples stored for one run, warmups
	// included: a batch that would take a run past it is refused
	// (too_large), so what a comparison reads stays bounded.
	MaxSamplesPerRun int `json:"maxSamplesPerRun"`
	// MaxRunsPerSnippet bounds the runs stored for one snippet: a run.start
	// of a new run beyond it is refused (too_large).
	MaxRunsPerSnippet int `json:"maxRunsPerSnippet"`
}

// DefaultLimits are sized for the browser harness, which flushes a batch
// every few hundred milliseconds: 500 samples of at most ~110 bytes each fit
// in 64 KiB, and so does a run.start with three full 4 KiB objects.
//
// A run of the browser harness has at most 1000 timed samples and its
// warmups, one of `pyplay bench-native` at most 10000 and its warmups: the
// cap per run leaves room for both. A class of a few hundred benchmarking
// one example in two runtimes stays within the cap per snippet, and a
// comparison at both caps still answers within a second or two
// (BENCHMARKS.md).
var DefaultLimits = Limits{
	MaxMessageBytes:     64 << 10,
	MaxSamplesPerBatch:  500,
	MaxBatchesPerSecond: 10,
	MaxSubscriptions:    32,
	MaxSamplesPerRun:    20000,
	MaxRunsPerSnippet:   1000,
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
	// MaxNsPerIter bounds a sample's ns: 10¹⁵ ns, about 11.6 days for one
	// iteration, far beyond any benchmark, while the statistics of any
	// number of such samples (squares, sums) stay far from overflowing.
	MaxNsPerIter = 1e15
	// MinTokenBytes and MaxTokenBytes bound a run token (run.start's
	// token): at least 128 random bits in base64url. The server hands out
	// 43-character tokens (256 bits).
	MinTokenBytes = 22
	MaxTokenBytes = 64
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
	if l.MaxSamplesPerRun <= 0 {
		l.MaxSamplesPerRun = DefaultLimits.MaxSamplesPerRun
	}
	if l.MaxRunsPerSnippet <= 0 {
		l.MaxRunsPerSnippet = DefaultLimits.MaxRunsPerSnippet
	}
	return l
}
