package avcodec

// splitAnnexB cuts an Annex-B byte stream into NAL units without start codes.
// Bytes before the first start code and zero bytes trailing a NAL unit (the
// leading zero of a 4-byte start code, trailing_zero_8bits) are dropped. The
// units alias b.
func splitAnnexB(b []byte) [][]byte {
	var units [][]byte
	start := -1
	emit := func(end int) {
		for end > start && b[end-1] == 0 {
			end--
		}
		if end > start {
			units = append(units, b[start:end])
		}
	}
	for i := 0; i+2 < len(b); {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				emit(i)
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 {
		emit(len(b))
	}
	return units
}

// checkNALUs rejects units no decoder should see: empty ones, a set
// forbidden_zero_bit, and RTP-only or unspecified types, which mean the
// depacketizer or the camera sent garbage.
func checkNALUs(codec string, nalus [][]byte) error {
	for i, n := range nalus {
		if len(n) == 0 {
			return errorf("NAL unit %d of %d is empty", i+1, len(nalus))
		}
		if n[0]&0x80 != 0 {
			return errorf("NAL unit %d of %d has forbidden_zero_bit set (header 0x%02x)", i+1, len(nalus), n[0])
		}
		var typ byte
		var bad bool
		if codec == CodecH265 {
			typ = n[0] >> 1 & 0x3f
			bad = typ >= 48 || len(n) < 2
		} else {
			typ = n[0] & 0x1f
			bad = typ == 0 || typ >= 24
		}
		if bad {
			return errorf("NAL unit %d of %d has invalid %s type %d", i+1, len(nalus), codec, typ)
		}
	}
	return nil
}

// hasPicture reports whether the units hold a coded slice (a VCL NAL unit).
// The units have passed checkNALUs.
func hasPicture(codec string, nalus [][]byte) bool {
	for _, n := range nalus {
		if codec == CodecH265 {
			if n[0]>>1&0x3f < 32 {
				return true
			}
		} else if t := n[0] & 0x1f; t >= 1 && t <= 5 {
			return true
		}
	}
	return false
}
