//go:build !linux

package udpbatch

import "net"

const cmsgSpace = 0

func gsoSupported(*net.UDPConn) bool { return false }

func appendSegmentSize(oob []byte, _ uint16) []byte { return oob }

func gsoError(error) bool { return false }
