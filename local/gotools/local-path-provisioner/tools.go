//go:build tools

// Keeps the provisioner's main package (the module root) in this module's requirements.
package tools

import (
	_ "github.com/rancher/local-path-provisioner"
)
