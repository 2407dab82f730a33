//go:build !race

package mlerr_test

const raceEnabled = false
