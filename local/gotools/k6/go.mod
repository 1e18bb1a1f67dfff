// Wrapper module that builds k6 from Go modules: `go build go.k6.io/k6/v2`.
// (`go install go.k6.io/k6/v2@...` fails here: it looks the module up on its
// vanity host for deprecation notices, which this network cannot reach.)
module shop-on-dapr/local/gotools/k6

go 1.25.0

require go.k6.io/k6/v2 v2.0.0
