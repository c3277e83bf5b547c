// Package wav reads and writes the one WAV format the spoken security
// code uses: PCM, 16-bit, mono.
package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Encode writes pcm sampled at rate as a WAV file.
func Encode(pcm []int16, rate int) []byte {
	b := make([]byte, 44+2*len(pcm))
	le := binary.LittleEndian
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], uint32(36+2*len(pcm)))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16) // fmt chunk size
	le.PutUint16(b[20:], 1)  // PCM
	le.PutUint16(b[22:], 1)  // mono
	le.PutUint32(b[24:], uint32(rate))
	le.PutUint32(b[28:], uint32(2*rate)) // bytes per second
	le.PutUint16(b[32:], 2)              // bytes per frame
	le.PutUint16(b[34:], 16)             // bits per sample
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(2*len(pcm)))
	for i, v := range pcm {
		le.PutUint16(b[44+2*i:], uint16(v))
	}
	return b
}

// Decode reads a 16-bit mono PCM WAV file: its samples and their rate.
// A data chunk whose size is 0 or too large (a header written before the
// length was known, as espeak-ng's --stdout does) runs to the end.
func Decode(b []byte) ([]int16, int, error) {
	le := binary.LittleEndian
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New("wav: not a WAV file")
	}
	rate, haveFmt := 0, false
	for i := 12; i+8 <= len(b); {
		id, size := string(b[i:i+4]), int(le.Uint32(b[i+4:i+8]))
		i += 8
		switch id {
		case "fmt ":
			if size < 16 || i+16 > len(b) {
				return nil, 0, errors.New("wav: short fmt chunk")
			}
			format, ch, bits := le.Uint16(b[i:]), le.Uint16(b[i+2:]), le.Uint16(b[i+14:])
			if format != 1 || ch != 1 || bits != 16 {
				return nil, 0, fmt.Errorf("wav: format %d, %d channels of %d bits; want PCM mono 16-bit", format, ch, bits)
			}
			rate, haveFmt = int(le.Uint32(b[i+4:])), true
		case "data":
			if !haveFmt {
				return nil, 0, errors.New("wav: data before fmt")
			}
			end := len(b)
			if size > 0 && size <= len(b)-i {
				end = i + size
			}
			pcm := make([]int16, (end-i)/2)
			for k := range pcm {
				pcm[k] = int16(le.Uint16(b[i+2*k:]))
			}
			return pcm, rate, nil
		}
		if size < 0 || size > len(b)-i {
			break
		}
		i += size + size%2 // chunks are padded to even sizes
	}
	return nil, 0, errors.New("wav: no data chunk")
}
