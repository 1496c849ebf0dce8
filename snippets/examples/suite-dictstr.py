# Suite: word count (dicts and strings)
# One of the reference suite's workloads (/bench/suite): the same code is
# written in Go and Rust and compiled to WebAssembly; all three must print
# the same checksum.

SYLLABLES = ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to"]


def run(n):
    seed = 42
    words = []
    for _ in range(n):
        seed = (seed * 1103515245 + 12345) % 2147483648
        s = seed >> 8
        word = ""
        k = 1 + s % 3
        s = s // 3
        for _ in range(k):
            word += SYLLABLES[s % 8]
            s = s // 8
        words.append(word)
    text = " ".join(words)
    counts = {}
    for w in text.split(" "):
        counts[w] = counts.get(w, 0) + 1
    total = 0
    best = ""
    best_count = 0
    for w in sorted(counts):
        c = counts[w]
        total += c * len(w)
        if c > best_count:
            best = w
            best_count = c
    return "%d %d %s %d" % (len(counts), total, best, best_count)


print(run(20000))
