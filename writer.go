package securesession

import (
	"bufio"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"
)

// respWriter saves the session before the first byte of the response
// header goes out, so that a handler that forgets Save still persists its
// changes and gets its cookie, and then applies the caching rules to the
// headers as they are about to be sent.
type respWriter struct {
	gin.ResponseWriter
	s *session
}

func (w *respWriter) beforeHeaders() {
	s := w.s
	if w.ResponseWriter.Written() {
		return
	}
	s.autoSave(true) // may write the error response, through here
	if !w.ResponseWriter.Written() {
		s.cacheHeaders()
	}
}

// dropBody reports whether the handler's body must be discarded because
// the save failed and an error response was written in its place.
func (w *respWriter) dropBody() bool { return w.s.phase == phaseFailed }

func (w *respWriter) WriteHeaderNow() {
	w.beforeHeaders()
	w.ResponseWriter.WriteHeaderNow()
}

func (w *respWriter) Write(b []byte) (int, error) {
	w.beforeHeaders()
	if w.dropBody() {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *respWriter) WriteString(str string) (int, error) {
	w.beforeHeaders()
	if w.dropBody() {
		return len(str), nil
	}
	return w.ResponseWriter.WriteString(str)
}

func (w *respWriter) Flush() {
	w.beforeHeaders()
	w.ResponseWriter.Flush()
}

func (w *respWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.beforeHeaders()
	return w.ResponseWriter.Hijack()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
