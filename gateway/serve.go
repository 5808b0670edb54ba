package gateway

import (
	"fmt"
	"log/slog"

	"github.com/bedgate/bedgate/gateway/config"
	"github.com/bedgate/bedgate/gateway/web"
)

// serveStatus starts the status server of http.listen, or returns nil when
// it is not set.
func serveStatus(cfg config.HTTP, metrics *web.Metrics, bd *board, log *slog.Logger) (*web.Server, error) {
	if cfg.Listen == "" {
		return nil, nil
	}
	tlsCfg, err := cfg.TLSConfig()
	if err != nil {
		return nil, fmt.Errorf("gateway: http: %w", err)
	}
	srv, err := web.Start(web.ServerOptions{
		Options: web.Options{Snapshot: bd.snapshot, Metrics: metrics, Token: cfg.Token.Reveal()},
		Listen:  cfg.Listen, TLS: tlsCfg, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	log.Info("status server listening", "url", scheme+"://"+srv.Addr()+"/")
	return srv, nil
}
