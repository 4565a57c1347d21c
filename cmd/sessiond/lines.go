package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/sessiond/sessiond/schemas/eventjson"
)

// maxLine is the longest input line accepted; a longer one is rejected and
// skipped, and reading goes on.
const maxLine = 16 << 20

var errLineTooLong = fmt.Errorf("line longer than %d bytes", maxLine)

// eachLine calls fn for every line of r (numbered from 1, without its line
// ending). A line over maxLine is passed with errLineTooLong and no bytes.
// It stops at the first error fn returns.
func eachLine(r io.Reader, fn func(n int, line []byte, err error) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	var buf []byte
	for n := 1; ; n++ {
		line, tooLong, err := readLine(br, buf[:0])
		buf = line
		if err == io.EOF && len(line) == 0 && !tooLong {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read line %d: %w", n, err)
		}
		var lerr error
		if tooLong {
			lerr, line = errLineTooLong, nil
		}
		if ferr := fn(n, trimCR(line), lerr); ferr != nil {
			return ferr
		}
		if err == io.EOF {
			return nil
		}
	}
}

// readLine appends the next line to dst, dropping whatever passes maxLine.
func readLine(br *bufio.Reader, dst []byte) ([]byte, bool, error) {
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(dst)+len(chunk) > maxLine+1 {
				tooLong, dst = true, dst[:0]
			} else {
				dst = append(dst, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(dst) > 0 && dst[len(dst)-1] == '\n' {
			dst = dst[:len(dst)-1]
		}
		return dst, tooLong, err
	}
}

func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}

// writeLineError reports a rejected line as {"line":N,"error":"..."}.
func writeLineError(w io.Writer, n int, err error) {
	b := fmt.Appendf(nil, `{"line":%d,"error":`, n)
	b = eventjson.AppendString(b, err.Error())
	b = append(b, "}\n"...)
	w.Write(b)
}
