// Wrapper module that builds Tilt from Go modules:
//   CGO_ENABLED=1 go build -ldflags='-s -w -X main.version=0.33.0' github.com/tilt-dev/tilt/cmd/tilt
// tilt's own go.mod has replace directives, which `go install` refuses (and
// `go install ...@v0.33.0` also fails here looking up deprecation notices:
// the proxy answers 403 for tilt's version list), so they are repeated here.
// Needs cgo and gcc/g++: tilt's `lsp` command pulls in go-tree-sitter (C/C++).
// Without -X main.version tilt thinks it is a dev build ("v0.32.4-dev") and
// `tilt up`/`tilt ci` look for the web UI sources (web/ with node_modules)
// unless run with --web-mode=prod; the module ships no built web UI, so a
// release-mode build loads it from storage.googleapis.com.
// The sum database has no entries for the github.com/tilt-dev/* forks that the
// replaces point to; their go.sum lines were checked against tilt's own go.sum.
module shop-on-dapr/local/gotools/tilt

go 1.24.0

require github.com/tilt-dev/tilt v0.33.0

// Copied from github.com/tilt-dev/tilt v0.33.0's go.mod.
replace (
	github.com/docker/cli => github.com/docker/cli v20.10.3-0.20220603174727-3e9117b7e241+incompatible
	github.com/docker/docker => github.com/docker/docker v20.10.3-0.20220414164044-61404de7df1a+incompatible
	github.com/emicklei/go-restful/v3 => github.com/emicklei/go-restful/v3 v3.9.0
	github.com/moby/buildkit => github.com/tilt-dev/buildkit v0.10.6-tilt-2023-04-05
	github.com/pkg/browser => github.com/tilt-dev/browser v0.0.1
	go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc => go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc v0.35.0
	go.opentelemetry.io/otel/metric => go.opentelemetry.io/otel/metric v0.31.0
	k8s.io/apimachinery => github.com/tilt-dev/apimachinery v0.27.2-tilt-20230621
)
