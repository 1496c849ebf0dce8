# Hello, world
import sys

print("Hello from Python", sys.version.split()[0], "running in your browser")
for i in range(3):
    print("counting", i)
