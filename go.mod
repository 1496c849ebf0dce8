module github.com/pyplay/pyplay

go 1.26.8
