// Wrapper module that builds kube-score from Go modules: `go build github.com/zegl/kube-score/cmd/kube-score`.
module shop-on-dapr/local/gotools/kube-score

go 1.24.0

require github.com/zegl/kube-score v1.20.0
