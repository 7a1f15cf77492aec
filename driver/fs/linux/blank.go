package linux

import (
	"context"
	"fmt"
	"io"
	"os"
)

// blankSpan is how much of each end of a device must read as zeros: the
// region where partition tables (MBR, GPT and its backup), RAID and LVM
// metadata, and the superblocks of every common filesystem live. A fresh
// cloud disk or sparse file reads as zeros there; an archive, an image or
// the leftovers of a wiped filesystem does not, even when blkid finds no
// signature it knows.
const blankSpan = 1 << 20

// CheckZeros returns nil when the first and the last MiB of dev (the
// whole device when it is smaller than 2 MiB) read as zeros, and an error
// naming the first non-zero byte otherwise. It only reads.
func CheckZeros(ctx context.Context, dev string) error {
	f, err := os.Open(dev)
	if err != nil {
		return err
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("%s: size: %w", dev, err)
	}
	type span struct {
		name string
		off  int64
	}
	spans := []span{{"first MiB", 0}}
	if size > blankSpan {
		spans = append(spans, span{"last MiB", max(blankSpan, size-blankSpan)})
	}
	buf := make([]byte, blankSpan)
	for _, s := range spans {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := f.ReadAt(buf[:min(blankSpan, size-s.off)], s.off)
		if err != nil && err != io.EOF {
			return fmt.Errorf("%s: read %s: %w", dev, s.name, err)
		}
		for i, b := range buf[:n] {
			if b != 0 {
				return fmt.Errorf("%s: %s not blank (byte 0x%02x at offset %d)", dev, s.name, b, s.off+int64(i))
			}
		}
	}
	return nil
}
