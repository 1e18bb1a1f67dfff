//go:build tools

// Keeps the registry binary's main package in this module's requirements.
package tools

import (
	_ "github.com/distribution/distribution/v3/cmd/registry"
)
