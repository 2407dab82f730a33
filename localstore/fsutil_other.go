//go:build !unix

package localstore

// openNoFollow is 0 where open has no such flag: openInside's Lstat check
// alone refuses links.
const openNoFollow = 0

func isLinkError(error) bool { return false }
