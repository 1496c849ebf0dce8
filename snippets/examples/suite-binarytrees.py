# Suite: binary trees (object allocation)
# One of the reference suite's workloads (/bench/suite): the same code is
# written in Go and Rust and compiled to WebAssembly; all three must print
# the same checksum.


class Node:
    __slots__ = ("left", "right")

    def __init__(self, left, right):
        self.left = left
        self.right = right


def make(depth):
    if depth == 0:
        return Node(None, None)
    return Node(make(depth - 1), make(depth - 1))


def check(node):
    if node.left is None:
        return 1
    return 1 + check(node.left) + check(node.right)


def run(n):
    long_lived = make(n)
    total = 0
    depth = 4
    while depth <= n:
        iterations = 1 << (n - depth + 4)
        for _ in range(iterations):
            total += check(make(depth))
        depth += 2
    total += check(long_lived)
    return "%d" % total


print(run(9))
