package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/tari-payment/tps/api"
	"github.com/tari-payment/tps/core"
	"github.com/tari-payment/tps/plugins"
)

// pluginAdmin serves plugin pages (api.PluginRouter): the API checks access
// and filters headers, the manager runs the plugin.

// routeErr maps the manager's route errors to the API's.
func routeErr(err error) error {
	switch {
	case errors.Is(err, plugins.ErrNotFound):
		return fmt.Errorf("%w: %v", api.ErrPluginNotFound, err)
	case errors.Is(err, plugins.ErrNoRoute):
		return fmt.Errorf("%w: %v", api.ErrPluginRouteNotFound, err)
	case errors.Is(err, plugins.ErrRouteTimeout):
		return fmt.Errorf("%w: %v", api.ErrPluginRouteTimeout, err)
	case errors.Is(err, plugins.ErrRouteBusy):
		return fmt.Errorf("%w: %v", api.ErrPluginRouteBusy, err)
	}
	return err
}

func (a pluginAdmin) PluginRouteAccess(id, method, path string) (api.PluginRouteAccess, error) {
	ra, err := a.m.RouteAccess(id, method, path)
	if err != nil {
		return api.PluginRouteAccess{}, routeErr(err)
	}
	roles := make([]core.Role, len(ra.Roles))
	for i, r := range ra.Roles {
		roles[i] = core.Role(r) // checked against core.AllRoles when the manifest loaded
	}
	return api.PluginRouteAccess{Public: ra.Public, Roles: roles, MaxBodyBytes: ra.MaxBodyBytes, Timeout: ra.Timeout}, nil
}

func (a pluginAdmin) ServePluginRoute(ctx context.Context, id string, req api.PluginRouteRequest) (api.PluginRouteResponse, error) {
	resp, err := a.m.ServeRoute(ctx, id, plugins.RouteRequest{Method: req.Method, Path: req.Path, Query: req.Query, Header: req.Header,
		Body: req.Body, Address: req.Address, Roles: req.Roles, Nonce: req.Nonce})
	if err != nil {
		return api.PluginRouteResponse{}, routeErr(err)
	}
	return api.PluginRouteResponse{Status: resp.Status, Header: resp.Header, Body: resp.Body}, nil
}
