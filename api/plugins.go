package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

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
