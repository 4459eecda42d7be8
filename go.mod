module github.com/petrel-io/petrel

go 1.26
