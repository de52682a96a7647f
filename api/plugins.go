package api

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/gin-gonic/gin"
)

// PluginEnabler is implemented by a PluginAdmin that can re-enable a plugin
// disabled for crashing (POST /api/plugins/:id/enable). Without it the route
// answers 501.
type PluginEnabler interface {
	// EnablePlugin re-enables the plugin (fresh instance, crash count reset)
	// and returns it as Plugins lists it (any JSON value); an error wrapping
	// ErrPluginNotFound for an unknown id.
	EnablePlugin(ctx context.Context, id string) (any, error)
}

// ErrPluginNotFound may be returned (wrapped) by PluginEnabler.EnablePlugin
// for an unknown id; the route answers 404.
var ErrPluginNotFound = errors.New("plugin not found")

// pluginIDPattern is the manifest's id rule (plugins/manifest.go).
var pluginIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func (s *Server) pluginAdmin(c *gin.Context) PluginAdmin {
	if s.plugins == nil {
		abortJSON(c, http.StatusNotImplemented, "This endpoint is not supported on this configuration. Plugins are not enabled")
		return nil
	}
	return s.plugins
}

// GET /api/plugins
func (s *Server) listPlugins(c *gin.Context) {
	p := s.pluginAdmin(c)
	if p == nil {
		return
	}
	v, err := p.Plugins(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, v)
}

// GET /api/plugins/deliveries/failed
func (s *Server) failedDeliveries(c *gin.Context) {
	p := s.pluginAdmin(c)
	if p == nil {
		return
	}
	v, err := p.FailedDeliveries(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, v)
}

// POST /api/plugins/deliveries/{id}/redeliver
func (s *Server) redeliver(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		e := errInvalidPath("delivery id must be a positive integer")
		abortJSON(c, e.Status, e.Msg)
		return
	}
	p := s.pluginAdmin(c)
	if p == nil {
		return
	}
	if err := p.Redeliver(c.Request.Context(), id); err != nil {
		if errors.Is(err, ErrDeliveryNotFound) {
			e := errNotFound("The requested delivery " + c.Param("id") + " does not exist")
			abortJSON(c, e.Status, e.Msg)
			return
		}
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, gin.H{"success": true, "message": "Delivery " + c.Param("id") + " queued for redelivery."})
}

// POST /api/plugins/deliveries/redeliver
func (s *Server) redeliverAll(c *gin.Context) {
	p := s.pluginAdmin(c)
	if p == nil {
		return
	}
	n, err := p.RedeliverAll(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, gin.H{"success": true, "message": strconv.Itoa(n) + " deliveries queued for redelivery.", "count": n})
}

// POST /api/plugins/{id}/enable
func (s *Server) enablePlugin(c *gin.Context) {
	id := c.Param("id")
	if !pluginIDPattern.MatchString(id) {
		e := errInvalidPath("plugin id must be lower-case letters, digits and '-' (at most 63)")
		abortJSON(c, e.Status, e.Msg)
		return
	}
	p := s.pluginAdmin(c)
	if p == nil {
		return
	}
	en, ok := p.(PluginEnabler)
	if !ok {
		abortJSON(c, http.StatusNotImplemented, "This endpoint is not supported on this configuration. The plugin host cannot re-enable plugins")
		return
	}
	v, err := en.EnablePlugin(c.Request.Context(), id)
	if err != nil {
		if errors.Is(err, ErrPluginNotFound) {
			e := errNotFound("The requested plugin " + id + " does not exist")
			abortJSON(c, e.Status, e.Msg)
			return
		}
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, v)
}
