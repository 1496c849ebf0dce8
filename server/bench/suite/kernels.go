package suite

import (
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The kernels mirror snippets/examples/suite-*.py and rust/kernels.rs line
// for line: the same loops and the same float operations in the same order,
// so that the float checksums agree to the last digit. Products that are
// summed are wrapped in float64(), which the Go spec says rounds them, so
// that no compiler may fuse them into a multiply-add.

// kernels maps a workload ID to its Go kernel.
var kernels = map[string]func(n int) string{
	"nbody":        nbody,
	"spectralnorm": spectralnorm,
	"fannkuch":     fannkuch,
	"binarytrees":  binarytrees,
	"dictstr":      dictstr,
	"fib":          fibKernel,
}

// Run runs workload id's Go kernel at size n and returns its checksum,
// formatted like the workload's check.
func Run(id string, n int) (string, error) {
	k, ok := kernels[id]
	if !ok {
		return "", errors.New("suite: no workload " + strconv.Quote(id))
	}
	if n < 0 || n > 1<<24 {
		return "", errors.New("suite: size " + strconv.Itoa(n) + " out of range")
	}
	return k(n), nil
}

// IDs lists the workloads that have a Go kernel, sorted.
func IDs() []string {
	ids := make([]string, 0, len(kernels))
	for id := range kernels {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func ff(x float64) string { return strconv.FormatFloat(x, 'f', 9, 64) }

// --- fib ---

func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

func fibKernel(n int) string { return strconv.Itoa(fib(n)) }

// --- n-body ---

func bodies() [][7]float64 {
	// Variables, not constants: Go would compute constant products exactly,
	// more precisely than Python and Rust do at run time.
	pi, dpy := 3.141592653589793, 365.24
	sm := float64(4*pi) * pi
	return [][7]float64{
		{0, 0, 0, 0, 0, 0, sm},
		{4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
			1.66007664274403694e-03 * dpy, 7.69901118419740425e-03 * dpy,
			-6.90460016972063023e-05 * dpy, 9.54791938424326609e-04 * sm},
		{8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
			-2.76742510726862411e-03 * dpy, 4.99852801234917238e-03 * dpy,
			2.30417297573763929e-05 * dpy, 2.85885980666130812e-04 * sm},
		{1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
			2.96460137564761618e-03 * dpy, 2.37847173959480950e-03 * dpy,
			-2.96589568540237556e-05 * dpy, 4.36624404335156298e-05 * sm},
		{1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
			2.68067772490389322e-03 * dpy, 1.62824170038242295e-03 * dpy,
			-9.51592254519715870e-05 * dpy, 5.15138902046611451e-05 * sm},
	}
}

func energy(b [][7]float64) float64 {
	e := 0.0
	for i := range b {
		bi := &b[i]
		e += float64(0.5*bi[6]) * (float64(float64(bi[3]*bi[3])+float64(bi[4]*bi[4])) + float64(bi[5]*bi[5]))
		for j := i + 1; j < len(b); j++ {
			bj := &b[j]
			dx := bi[0] - bj[0]
			dy := bi[1] - bj[1]
			dz := bi[2] - bj[2]
			e -= float64(bi[6]*bj[6]) / math.Sqrt(float64(float64(dx*dx)+float64(dy*dy))+float64(dz*dz))
		}
	}
	return e
}

func nbody(n int) string {
	b := bodies()
	sm := b[0][6]
	px, py, pz := 0.0, 0.0, 0.0
	for i := range b {
		px += float64(b[i][3] * b[i][6])
		py += float64(b[i][4] * b[i][6])
		pz += float64(b[i][5] * b[i][6])
	}
	b[0][3] = -px / sm
	b[0][4] = -py / sm
	b[0][5] = -pz / sm
	e0 := energy(b)
	dt := 0.01
	for range n {
		for i := range b {
			bi := &b[i]
			for j := i + 1; j < len(b); j++ {
				bj := &b[j]
				dx := bi[0] - bj[0]
				dy := bi[1] - bj[1]
				dz := bi[2] - bj[2]
				d2 := float64(float64(dx*dx)+float64(dy*dy)) + float64(dz*dz)
				mag := dt / float64(d2*math.Sqrt(d2))
				mi := bi[6] * mag
				mj := bj[6] * mag
				bi[3] -= float64(dx * mj)
				bi[4] -= float64(dy * mj)
				bi[5] -= float64(dz * mj)
				bj[3] += float64(dx * mi)
				bj[4] += float64(dy * mi)
				bj[5] += float64(dz * mi)
			}
		}
		for i := range b {
			bi := &b[i]
			bi[0] += float64(dt * bi[3])
			bi[1] += float64(dt * bi[4])
			bi[2] += float64(dt * bi[5])
		}
	}
	return ff(e0) + " " + ff(energy(b))
}

// --- spectral norm ---

func evalA(i, j int) float64 { return 1.0 / float64((i+j)*(i+j+1)/2+i+1) }

func mulAv(n int, v, out []float64) {
	for i := 0; i < n; i++ {
		s := 0.0
		for j := 0; j < n; j++ {
			s += float64(evalA(i, j) * v[j])
		}
		out[i] = s
	}
}

func mulAtv(n int, v, out []float64) {
	for i := 0; i < n; i++ {
		s := 0.0
		for j := 0; j < n; j++ {
			s += float64(evalA(j, i) * v[j])
		}
		out[i] = s
	}
}

func mulAtAv(n int, v, out, tmp []float64) {
	mulAv(n, v, tmp)
	mulAtv(n, tmp, out)
}

func spectralnorm(n int) string {
	u := make([]float64, n)
	v := make([]float64, n)
	tmp := make([]float64, n)
	for i := range u {
		u[i] = 1
	}
	for range 10 {
		mulAtAv(n, u, v, tmp)
		mulAtAv(n, v, u, tmp)
	}
	vBv, vv := 0.0, 0.0
	for i := 0; i < n; i++ {
		vBv += float64(u[i] * v[i])
		vv += float64(v[i] * v[i])
	}
	return ff(math.Sqrt(vBv / vv))
}

// --- fannkuch ---

func fannkuch(n int) string {
	if n < 1 {
		return "0 0"
	}
	perm1 := make([]int, n)
	for i := range perm1 {
		perm1[i] = i
	}
	perm := make([]int, n)
	count := make([]int, n)
	maxFlips, checksum, permCount := 0, 0, 0
	r := n
	for {
		for r != 1 {
			count[r-1] = r
			r--
		}
		copy(perm, perm1)
		flips := 0
		for k := perm[0]; k != 0; k = perm[0] {
			for i, j := 0, k; i < j; i, j = i+1, j-1 {
				perm[i], perm[j] = perm[j], perm[i]
			}
			flips++
		}
		if flips > maxFlips {
			maxFlips = flips
		}
		if permCount%2 == 0 {
			checksum += flips
		} else {
			checksum -= flips
		}
		for {
			if r == n {
				return strconv.Itoa(checksum) + " " + strconv.Itoa(maxFlips)
			}
			perm0 := perm1[0]
			for i := 0; i < r; i++ {
				perm1[i] = perm1[i+1]
			}
			perm1[r] = perm0
			count[r]--
			if count[r] > 0 {
				break
			}
			r++
		}
		permCount++
	}
}

// --- binary trees ---

type node struct{ left, right *node }

func makeTree(depth int) *node {
	if depth == 0 {
		return &node{}
	}
	return &node{makeTree(depth - 1), makeTree(depth - 1)}
}

func (t *node) check() int {
	if t.left == nil {
		return 1
	}
	return 1 + t.left.check() + t.right.check()
}

func binarytrees(n int) string {
	longLived := makeTree(n)
	total := 0
	for depth := 4; depth <= n; depth += 2 {
		iterations := 1 << (n - depth + 4)
		for range iterations {
			total += makeTree(depth).check()
		}
	}
	total += longLived.check()
	return strconv.Itoa(total)
}

// --- word count ---

var syllables = []string{"ka", "lo", "mi", "nu", "pe", "ra", "si", "to"}

func dictstr(n int) string {
	seed := int64(42)
	words := make([]string, 0, n)
	for range n {
		seed = (seed*1103515245 + 12345) % 2147483648
		s := seed >> 8
		word := ""
		k := 1 + s%3
		s = s / 3
		for range k {
			word += syllables[s%8]
			s = s / 8
		}
		words = append(words, word)
	}
	text := strings.Join(words, " ")
	counts := map[string]int{}
	for _, w := range strings.Split(text, " ") {
		counts[w]++
	}
	keys := make([]string, 0, len(counts))
	for w := range counts {
		keys = append(keys, w)
	}
	sort.Strings(keys)
	total, best, bestCount := 0, "", 0
	for _, w := range keys {
		c := counts[w]
		total += c * len(w)
		if c > bestCount {
			best, bestCount = w, c
		}
	}
	return strconv.Itoa(len(counts)) + " " + strconv.Itoa(total) + " " + best + " " + strconv.Itoa(bestCount)
}
