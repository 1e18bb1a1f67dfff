//go:build tools

// Keeps the three Dapr binaries in this module's requirements.
package tools

import (
	_ "github.com/dapr/dapr/cmd/daprd/app"
	_ "github.com/dapr/dapr/cmd/placement/app"
	_ "github.com/dapr/dapr/cmd/scheduler/app"
)
