// Wrapper module that builds promtool from Go modules: `go build github.com/prometheus/prometheus/cmd/promtool`.
module shop-on-dapr/local/gotools/promtool

go 1.26.7

require github.com/prometheus/prometheus v0.316.0
