package udpbatch

import (
	"encoding/binary"
	"errors"
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cmsgSpace is the room one UDP_SEGMENT control message takes.
var cmsgSpace = unix.CmsgSpace(2)

// gsoSupported reports whether the kernel knows UDP_SEGMENT (Linux 4.18+).
func gsoSupported(udp *net.UDPConn) bool {
	rc, err := udp.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	_ = rc.Control(func(fd uintptr) {
		_, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_SEGMENT)
		ok = err == nil
	})
	return ok
}

// appendSegmentSize appends a UDP_SEGMENT control message: the kernel
// cuts the message's payload into datagrams of size bytes.
func appendSegmentSize(oob []byte, size uint16) []byte {
	start := len(oob)
	oob = append(oob, make([]byte, cmsgSpace)...)
	h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[start]))
	h.Level = unix.IPPROTO_UDP
	h.Type = unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	binary.NativeEndian.PutUint16(oob[start+unix.CmsgLen(0):], size)
	return oob
}

// gsoError reports a send error that means segmentation cannot be used
// on this path (a device without checksum offload answers EIO).
func gsoError(err error) bool {
	return errors.Is(err, unix.EIO) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOPROTOOPT)
}
