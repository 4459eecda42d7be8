// Package fuzz holds Petrel's fuzz targets: each FuzzXxx in this package's tests feeds
// arbitrary bytes to a parser, a decoder or a model check and asserts that nothing panics and
// every stated property holds. Seed inputs and crashers kept as regressions live in
// testdata/fuzz/FuzzXxx, as Go's fuzzer expects. `make fuzz` runs each target for a while;
// `make test` runs the kept inputs and a short burst of each.
package fuzz
