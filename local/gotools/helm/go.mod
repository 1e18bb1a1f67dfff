// Wrapper module that builds helm from Go modules: `go build helm.sh/helm/v3/cmd/helm`.
module shop-on-dapr/local/gotools/helm

go 1.24.0

require helm.sh/helm/v3 v3.19.5
