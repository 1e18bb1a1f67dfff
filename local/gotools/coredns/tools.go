//go:build tools

// Keeps the CoreDNS main package (the module root, coredns.go) in this
// module's requirements.
package tools

import (
	_ "github.com/coredns/coredns"
)
