module github.com/mlerr/mlerr

go 1.24
