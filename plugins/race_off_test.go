//go:build !race

package plugins_test

const raceBuild = false
