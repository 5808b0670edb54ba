package web

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bedgate/bedgate/gateway/stats"
)

//go:embed page.html
var page []byte

// Options configure Handler. Snapshot and Metrics are required.
type Options struct {
	Snapshot func() stats.Snapshot
	Metrics  *Metrics
	// Token, when set, is required on every path but /healthz and /readyz.
	Token string
}

// Status is what /status.json returns: the snapshot and its readiness.
type Status struct {
	stats.Snapshot
	Ready bool `json:"ready"`
	// NotReady says why the gateway is not ready; empty when it is.
	NotReady string `json:"not_ready,omitempty"`
}

// Handler returns the handler of every path.
func Handler(opts Options) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		// Everything the page needs is in the page; it fetches only
		// status.json from this server.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:")
		w.Write(page)
	})
	mux.HandleFunc("GET /status.json", func(w http.ResponseWriter, _ *http.Request) {
		s := opts.Snapshot()
		st := Status{Snapshot: s, Ready: true}
		if err := s.Ready(); err != nil {
			st.Ready, st.NotReady = false, err.Error()
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(st)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Metrics.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := opts.Snapshot().Ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	if opts.Token == "" {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" && r.URL.Path != "/readyz" && !authorised(r, opts.Token) {
			w.Header().Set("WWW-Authenticate", `Basic realm="bedgate", charset="UTF-8"`)
			http.Error(w, "a token is required: a bearer token, or the password of basic authentication", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// authorised reports whether r carries token, as a bearer token or a basic
// authentication password.
func authorised(r *http.Request, token string) bool {
	given := ""
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		given = strings.TrimPrefix(auth, "Bearer ")
	} else if _, pw, ok := r.BasicAuth(); ok {
		given = pw
	}
	return subtle.ConstantTimeCompare([]byte(given), []byte(token)) == 1
}

// ServerOptions configure Start.
type ServerOptions struct {
	Options
	// Listen is the address, host:port (port 0: any free port).
	Listen string
	// TLS, when not nil, serves HTTPS.
	TLS    *tls.Config
	Logger *slog.Logger
}

// Server is a running status server.
type Server struct {
	srv  *http.Server
	addr string
	done chan struct{}
}

// Start listens on opts.Listen and serves Handler until Close.
func Start(opts ServerOptions) (*Server, error) {
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("status server: %w", err)
	}
	if opts.TLS != nil {
		ln = tls.NewListener(ln, opts.TLS)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		srv: &http.Server{
			Handler:           Handler(opts.Options),
			ReadHeaderTimeout: 5 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		},
		addr: ln.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("status server stopped", "err", err)
		}
	}()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.addr }

// Close stops the server, letting requests under way finish for up to a
// second.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}
