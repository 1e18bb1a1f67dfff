//go:build tools

// Keeps metrics-server's main package in this module's requirements.
package tools

import (
	_ "sigs.k8s.io/metrics-server/cmd/metrics-server"
)
