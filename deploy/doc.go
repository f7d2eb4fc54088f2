// Package deploy holds the tests of the files that package and deploy blindspot: the
// repository's Dockerfile and .dockerignore (image_test.go) and the Kubernetes manifests under
// deploy/kubernetes (kubernetes_test.go). There is no non-test code.
package deploy
