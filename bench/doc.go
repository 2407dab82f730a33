// Package bench holds side-by-side benchmarks of mlerr against peer
// libraries. It is a separate module so that the library never depends on its
// peers: only this module's go.mod names them.
package bench
