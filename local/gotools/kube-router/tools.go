//go:build tools

// Keeps kube-router's main package in this module's requirements.
package tools

import (
	_ "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"
)
