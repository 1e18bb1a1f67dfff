//go:build tools

// Keeps kind's main package (the module root) in this module's requirements.
package tools

import (
	_ "sigs.k8s.io/kind"
)
