# Strings and numbers workload
words = [str(i * 7919 % 10007) for i in range(20000)]
text = " ".join(words)
counts = {}
for w in text.split():
    counts[w[0]] = counts.get(w[0], 0) + 1
total = sum(int(w) for w in words)
print(sorted(counts.items())[:5], total)
