package console

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// ---- Plugins ----

// pluginView and failureView read the plugin host's JSON (the same the
// /api/plugins routes answer).
type pluginView struct {
	ID                 string      `json:"id"`
	Version            string      `json:"version"`
	Description        string      `json:"description"`
	Source             string      `json:"source"`
	Events             []string    `json:"events"`
	State              string      `json:"state"`
	Error              string      `json:"error"`
	Pending            int64       `json:"pending"`
	Failed             int64       `json:"failed"`
	Attempts           int         `json:"attempts"`
	NextAttemptAt      *time.Time  `json:"next_attempt_at"`
	LastError          string      `json:"last_error"`
	ConsecutiveCrashes int         `json:"consecutive_crashes"`
	Routes             []routeView `json:"routes"`
	Pages              []pageLink  `json:"-"` // console links to its pages the viewer may open
}

type failureView struct {
	ID        int64     `json:"id"`
	PluginID  string    `json:"plugin_id"`
	EventID   string    `json:"event_id"`
	EventType string    `json:"event_type"`
	EventSeq  int64     `json:"event_seq"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	State     string    `json:"state"`
	FailedAt  time.Time `json:"failed_at"`
}

func reshape(v any, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// pluginList reads the plugins as the plugin host reports them, by id.
func (c *Console) pluginList(ctx *gin.Context) ([]pluginView, error) {
	raw, err := c.plugins.Plugins(ctx.Request.Context())
	if err != nil {
		return nil, err
	}
	var ps []pluginView
	if err := reshape(raw, &ps); err != nil {
		return nil, err
	}
	slices.SortFunc(ps, func(a, b pluginView) int { return cmp.Compare(a.ID, b.ID) })
	return ps, nil
}

// maxFailuresShown bounds the failed-deliveries table; "redeliver all"
// covers the rest.
const maxFailuresShown = 200

func (c *Console) failedList(ctx *gin.Context) ([]failureView, error) {
	raw, err := c.plugins.FailedDeliveries(ctx.Request.Context())
	if err != nil {
		return nil, err
	}
	var fs []failureView
	if err := reshape(raw, &fs); err != nil {
		return nil, err
	}
	return fs, nil
}

func (c *Console) pluginsPage(ctx *gin.Context) {
	v := viewerOf(ctx)
	if c.plugins == nil {
		c.render(ctx, "plugins", v, gin.H{"Title": "Plugins"})
		return
	}
	ps, err := c.pluginList(ctx)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	for i := range ps {
		if c.pluginPages != nil && ps[i].State == "active" {
			ps[i].Pages = pageLinks(ps[i].ID, ps[i].Routes, v)
		}
	}
	fs, err := c.failedList(ctx)
	if err != nil {
		c.internal(ctx, err)
		return
	}
	total := len(fs)
	fs = fs[:min(total, maxFailuresShown)]
	_, canEnable := c.plugins.(PluginEnabler)
	c.render(ctx, "plugins", v, gin.H{"Title": "Plugins", "On": true, "Plugins": ps, "Failures": fs, "FailureTotal": total, "CanEnable": canEnable})
}

func (c *Console) needPlugins(ctx *gin.Context, v viewer) bool {
	if c.plugins == nil {
		c.renderStatus(ctx, http.StatusNotImplemented, "message", v, gin.H{"Title": "Plugins are off", "Message": "Plugins are not enabled on this server."})
		return false
	}
	return true
}

func (c *Console) redeliver(ctx *gin.Context) {
	v := viewerOf(ctx)
	id, err := strconv.ParseInt(ctx.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		c.bad(ctx, v, "A delivery id is a positive whole number.")
		return
	}
	if !c.needPlugins(ctx, v) {
		return
	}
	if err := c.plugins.Redeliver(ctx.Request.Context(), id); err != nil {
		if strings.Contains(err.Error(), "not found") {
			c.renderStatus(ctx, http.StatusNotFound, "message", v, gin.H{"Title": "No such delivery", "Message": "Delivery " + ctx.Param("id") + " does not exist."})
			return
		}
		c.internal(ctx, err)
		return
	}
	c.redirectWith(ctx, Prefix+"/plugins", url.Values{"done": {"redeliver"}, "id": {strconv.FormatInt(id, 10)}})
}

func (c *Console) redeliverAll(ctx *gin.Context) {
	v := viewerOf(ctx)
	if !c.needPlugins(ctx, v) {
		return
	}
	if !c.confirmed(ctx, v, "Redeliver every failed delivery.") {
		return
	}
	n, err := c.plugins.RedeliverAll(ctx.Request.Context())
	if err != nil {
		c.internal(ctx, err)
		return
	}
	c.redirectWith(ctx, Prefix+"/plugins", url.Values{"done": {"redeliver-all"}, "n": {strconv.Itoa(n)}})
}

func (c *Console) enablePlugin(ctx *gin.Context) {
	v := viewerOf(ctx)
	id := ctx.Param("id")
	if !pluginIDPattern.MatchString(id) {
		c.bad(ctx, v, "A plugin id is lower-case letters, digits and '-'.")
		return
	}
	if !c.needPlugins(ctx, v) {
		return
	}
	en, ok := c.plugins.(PluginEnabler)
	if !ok {
		c.renderStatus(ctx, http.StatusNotImplemented, "message", v, gin.H{"Title": "Not available", "Message": "This plugin host cannot re-enable plugins."})
		return
	}
	if _, err := en.EnablePlugin(ctx.Request.Context(), id); err != nil {
		if strings.Contains(err.Error(), "not found") || strings.Contains(err.Error(), "does not exist") {
			c.renderStatus(ctx, http.StatusNotFound, "message", v, gin.H{"Title": "No such plugin", "Message": "Plugin " + id + " does not exist."})
			return
		}
		c.internal(ctx, err)
		return
	}
	c.redirectWith(ctx, Prefix+"/plugins", url.Values{"done": {"enable"}, "id": {id}})
}

// redirectWith answers a POST with 303 to a page that says what was done
// (post/redirect/get, so a reload does not repeat the action). The page
// builds the sentence from a known code and numbers (doneMessage), so a
// crafted link cannot put words in the console's mouth.
func (c *Console) redirectWith(ctx *gin.Context, path string, q url.Values) {
	ctx.Redirect(http.StatusSeeOther, path+"?"+q.Encode())
}

var pluginIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// doneMessage is the sentence for a redirectWith code, or "".
func doneMessage(q url.Values) string {
	num := func(k string) (string, bool) {
		n, err := strconv.ParseInt(q.Get(k), 10, 64)
		return strconv.FormatInt(n, 10), err == nil && n >= 0
	}
	switch q.Get("done") {
	case "redeliver":
		if id, ok := num("id"); ok {
			return "Delivery " + id + " queued for redelivery."
		}
	case "redeliver-all":
		if n, ok := num("n"); ok {
			return n + " deliveries queued for redelivery."
		}
	case "enable":
		if id := q.Get("id"); pluginIDPattern.MatchString(id) {
			return "Plugin " + id + " enabled."
		}
	}
	return ""
}
