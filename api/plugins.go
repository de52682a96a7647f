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

// PluginReloader is implemented by a PluginAdmin that can rescan the plugin
// folder (POST /api/plugins/reload). Without it the route answers 501.
type PluginReloader interface {
	// ReloadPlugins rescans TPG_PLUGINS_DIR and returns the plugins as
	// Plugins lists them.
	ReloadPlugins(ctx context.Context) (any, error)
}

// PluginRemover is implemented by a PluginAdmin that can drop a removed
// plugin's cursor for good (DELETE /api/plugins/{id}).
type PluginRemover interface {
	// RemovePlugin drops a removed plugin; an error wrapping
	// ErrPluginNotFound or ErrPluginInstalled says why not.
	RemovePlugin(ctx context.Context, id string) error
}

// PluginStater is implemented by a PluginAdmin that reports each plugin's
// state for the tps_plugin_state metric.
type PluginStater interface {
	PluginStates(ctx context.Context) (map[string]string, error)
}

// ErrPluginInstalled may be returned (wrapped) by PluginRemover.RemovePlugin
// for a plugin still installed; the route answers 409 with its message.
var ErrPluginInstalled = errors.New("plugin is installed")

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

// pluginIDParam is the route's :id, or false after a 400 for a malformed one.
func pluginIDParam(c *gin.Context) (string, bool) {
	id := c.Param("id")
	if !pluginIDPattern.MatchString(id) {
		e := errInvalidPath("plugin id must be lower-case letters, digits and '-' (at most 63)")
		abortJSON(c, e.Status, e.Msg)
		return "", false
	}
	return id, true
}

// pluginCapability is the plugin host as T (an optional capability), or
// false after answering: the host's own refusal, or 501 when it cannot do
// what ("The plugin host cannot <what>").
func pluginCapability[T any](s *Server, c *gin.Context, what string) (T, bool) {
	var zero T
	p := s.pluginAdmin(c)
	if p == nil {
		return zero, false
	}
	v, ok := p.(T)
	if !ok {
		abortJSON(c, http.StatusNotImplemented, "This endpoint is not supported on this configuration. The plugin host cannot "+what)
		return zero, false
	}
	return v, true
}

// POST /api/plugins/{id}/enable
func (s *Server) enablePlugin(c *gin.Context) {
	id, ok := pluginIDParam(c)
	if !ok {
		return
	}
	en, ok := pluginCapability[PluginEnabler](s, c, "re-enable plugins")
	if !ok {
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

// POST /api/plugins/reload
func (s *Server) reloadPlugins(c *gin.Context) {
	r, ok := pluginCapability[PluginReloader](s, c, "reload plugins")
	if !ok {
		return
	}
	v, err := r.ReloadPlugins(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, v)
}

// DELETE /api/plugins/{id}
func (s *Server) removePlugin(c *gin.Context) {
	id, ok := pluginIDParam(c)
	if !ok {
		return
	}
	r, ok := pluginCapability[PluginRemover](s, c, "remove plugins")
	if !ok {
		return
	}
	if err := r.RemovePlugin(c.Request.Context(), id); err != nil {
		switch {
		case errors.Is(err, ErrPluginNotFound):
			e := errNotFound("The requested plugin " + id + " does not exist")
			abortJSON(c, e.Status, e.Msg)
		case errors.Is(err, ErrPluginInstalled):
			abortJSON(c, http.StatusConflict, "The plugin "+id+" is still installed: delete it from TPG_PLUGINS_DIR on every instance first")
		default:
			s.fail(c, err)
		}
		return
	}
	writeJSON(c, http.StatusOK, gin.H{"success": true, "message": "Plugin " + id + " removed for good: its cursor and failed deliveries are deleted."})
}
