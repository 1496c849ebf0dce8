# Suite: fib (recursion)
# One of the reference suite's workloads (/bench/suite): the same code is
# written in Go and Rust and compiled to WebAssembly; all three must print
# the same checksum.


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def run(n):
    return "%d" % fib(n)


print(run(25))
