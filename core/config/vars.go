package config

// Var documents one TPG_* environment variable: `tari-payment-server --help`
// prints this table, and a test checks that every variable the code reads is
// in it. To add a variable, add one entry here (in its group) and read it
// where it is used.
type Var struct {
	Name    string
	Default string // as the help shows it; "" means unset
	Secret  bool   // the help shows only whether it is set
	Help    string // one line
}

// VarGroup is a heading in the help and the variables under it.
type VarGroup struct {
	Title string
	Vars  []Var
}

// Vars is every TPG_* variable the server (and its shipped plugins) reads.
var Vars = []VarGroup{
	{"Server", []Var{
		{Name: "TPG_HOST", Default: "127.0.0.1", Help: "address to listen on (0.0.0.0 for every interface, e.g. in a container)"},
		{Name: "TPG_PORT", Default: "8360", Help: "TCP port to listen on (0 picks a free one)"},
		{Name: "TPG_LOG_LEVEL", Default: "info", Help: "debug, info, warn or error"},
		{Name: "TPG_METRICS_ENABLED", Default: "true", Help: "serve Prometheus metrics at GET /metrics"},
		{Name: "TPG_SKIP_PREFLIGHT", Default: "false", Help: "start despite an invalid TPG_PAYMENT_WALLET_ADDRESS (bad keys always stop the server)"},
		{Name: "TPG_USE_X_FORWARDED_FOR", Default: "false", Help: "take the client IP from X-Forwarded-For (only behind a proxy that overwrites it)"},
		{Name: "TPG_USE_FORWARDED", Default: "false", Help: "take the client IP from Forwarded (only behind a proxy that overwrites it)"},
	}},
	{"Database", []Var{
		{Name: "TPG_DATABASE_URL", Default: DefaultDatabaseURL, Help: "sqlite://<path> (file and folder created) or postgres://user:pass@host/db (database must exist); a SQLite file's folder is the data directory, else ./data"},
		{Name: "TPG_MAX_CONNECTIONS", Default: "25", Help: "PostgreSQL connections this server opens at most"},
		{Name: "TPG_POSTGRES_PREPARED", Default: "true", Help: "each PostgreSQL connection prepares the hot write statements once (PREPARE); false behind a pooler in transaction mode (PgBouncer), which shares sessions between clients"},
	}},
	{"Keys and payments", []Var{
		{Name: "TPG_JWT_SIGNING_KEY", Secret: true, Help: "64-hex Tari secret key that signs access tokens (unset with its pair: development keys in the data directory)"},
		{Name: "TPG_JWT_VERIFICATION_KEY", Help: "64-hex public key of TPG_JWT_SIGNING_KEY"},
		{Name: "TPG_PAYMENT_WALLET_ADDRESS", Default: DonationAddress + " (the Tari donation address)", Help: "your hot wallet's Tari address, where customers are told to pay (its dual address for pay pages)"},
		{Name: "TPG_PAY_LINK_SECRET", Secret: true, Help: "at least 16 characters: turns on the pay pages /pay/{order_id}/{HMAC token} (off when unset)"},
		{Name: "TPG_STRICT_MODE", Default: "true", Help: "orders are named by order_id only; false: the Shopify name (alt_id) matches too"},
		{Name: "TPG_DISABLE_WALLET_WHITELIST", Default: "false", Help: "skip the check that hot-wallet notifications come from the wallet's registered IP"},
		{Name: "TPG_DISABLE_MEMO_SIGNATURE_CHECK", Default: "false", Help: "plain payment memos (\"order 1000\") name an order, not only signed ones"},
	}},
	{"Orders", []Var{
		{Name: "TPG_UNCLAIMED_ORDER_TIMEOUT", Default: "2", Help: "hours (or a Go duration like 90m) before an unclaimed order expires"},
		{Name: "TPG_UNPAID_ORDER_TIMEOUT", Default: "48", Help: "hours (or a duration) before a claimed, unpaid order expires"},
		{Name: "TPG_EXPIRY_CHECK_INTERVAL", Default: "60s", Help: "how often expired orders are looked for (hours or a duration)"},
	}},
	{"Shopify", []Var{
		{Name: "TPG_SHOPIFY_SHOP", Default: "example.myshopify.com", Help: "your shop's myshopify.com domain"},
		{Name: "TPG_SHOPIFY_API_VERSION", Default: DefaultShopifyAPIVersion, Help: "GraphQL Admin API version the server and the shopify plugin call"},
		{Name: "TPG_SHOPIFY_API_URL", Default: "https://<shop>/admin/api/<version>", Help: "Admin API base URL, to reach Shopify through a proxy or a fake"},
		{Name: "TPG_SHOPIFY_CLIENT_ID", Help: "client id of the Dev Dashboard app: with the secret, the server obtains Admin API tokens itself"},
		{Name: "TPG_SHOPIFY_CLIENT_SECRET", Secret: true, Help: "client secret of the Dev Dashboard app (also the default webhook HMAC secret)"},
		{Name: "TPG_SHOPIFY_ADMIN_ACCESS_TOKEN", Secret: true, Help: "fixed Admin API token (shpat_…) of a pre-2026 custom app; unused when a client id and secret are set"},
		{Name: "TPG_SHOPIFY_HMAC_SECRET", Secret: true, Help: "secret that signs Shopify webhooks (unset: TPG_SHOPIFY_CLIENT_SECRET); /shopify answers 503 without one"},
		{Name: "TPG_SHOPIFY_HMAC_CHECKS", Default: "true", Help: "verify X-Shopify-Hmac-Sha256 on /shopify requests (false for testing only)"},
		{Name: "TPG_SHOPIFY_IP_WHITELIST", Help: "comma-separated IPs allowed to call /shopify (unset, empty or none: any)"},
		{Name: "TPG_SHOPIFY_ORDER_ID_FIELD", Default: OrderIDFieldID, Help: "which Shopify field is the order id customers see: id or name"},
		{Name: "TPG_SHOPIFY_PRICE_FIELD", Default: PriceFieldTotal, Help: "which Shopify amount is charged: total, subtotal or line_items"},
		{Name: "TPG_SHOPIFY_CAPTURE_PAYMENTS", Default: "false", Help: "capture the Shopify payment when an order is paid"},
		{Name: "TPG_SHOPIFY_API_KEY", Help: "app API key (accepted for compatibility; unused)"},
		{Name: "TPG_SHOPIFY_API_SECRET", Secret: true, Help: "app API secret (accepted for compatibility; unused, see TPG_SHOPIFY_HMAC_SECRET)"},
		{Name: "TPG_SHOPIFY_STOREFRONT_ACCESS_TOKEN", Secret: true, Help: "Storefront API token (accepted for compatibility; unused)"},
	}},
	{"Plugins", []Var{
		{Name: "TPG_PLUGINS_DIR", Default: "<data directory>/plugins", Help: "folder of extra WebAssembly plugins"},
		{Name: "TPG_PLUGIN_CACHE_DIR", Default: "<data directory>/plugin-cache", Help: "compiled plugin modules"},
		{Name: "TPG_PLUGINS_DISABLE", Help: "comma-separated plugin ids not to run (e.g. shopify,webhook)"},
		{Name: "TPG_PLUGINS_OVERRIDE", Help: "comma-separated shipped plugin ids a folder plugin may replace (none by default)"},
		{Name: "TPG_PLUGIN_MAX_MEMORY_MB", Default: "64", Help: "the most memory one plugin instance may use; larger manifests are clamped"},
		{Name: "TPG_PLUGINS_MEMORY_BUDGET_MB", Default: "256", Help: "the most memory all plugin instances together may use"},
		{Name: "TPG_PLUGIN_STATE_QUOTA_KB", Default: "1024", Help: "the most key-value state (keys plus values, KiB) one plugin may keep"},
		{Name: "TPG_PLUGINS_RELOAD_INTERVAL", Default: "2s", Help: "how often the plugins folder is checked for changes (0: no hot reload)"},
		{Name: "TPG_PLUGIN_WEBHOOK_URLS", Help: "comma-separated URLs the webhook plugin POSTs every event to (it runs only when set)"},
		{Name: "TPG_PLUGIN_WEBHOOK_SECRET", Secret: true, Help: "HMAC-SHA256 key the webhook plugin signs its requests with"},
	}},
	{"Abuse limits (per client IP)", []Var{
		{Name: "TPG_MAX_CONNECTIONS_PER_IP", Default: "256", Help: "open connections one client IP may hold (0: no cap); more are closed as they are accepted"},
		{Name: "TPG_RATE_LIMIT_PER_SECOND", Default: "10", Help: "requests per second per client IP to /auth, /order/claim, /wallet/send_to and public plugin routes (0: no limit)"},
		{Name: "TPG_RATE_LIMIT_BURST", Default: "40", Help: "burst for TPG_RATE_LIMIT_PER_SECOND"},
		{Name: "TPG_RATE_LIMIT_WALLET_FAILURES_PER_SECOND", Default: "1", Help: "failed hot-wallet notifications per second (0: no limit)"},
		{Name: "TPG_RATE_LIMIT_WALLET_FAILURES_BURST", Default: "30", Help: "burst for TPG_RATE_LIMIT_WALLET_FAILURES_PER_SECOND"},
		{Name: "TPG_RATE_LIMIT_EXEMPT_LOOPBACK", Default: "true", Help: "never limit clients at a loopback address"},
	}},
}

// PluginVarPrefix starts the settings of any plugin: TPG_PLUGIN_<ID>_<KEY>.
const PluginVarPrefix = "TPG_PLUGIN_"

// LookupVar finds a variable in Vars.
func LookupVar(name string) (Var, bool) {
	for _, g := range Vars {
		for _, v := range g.Vars {
			if v.Name == name {
				return v, true
			}
		}
	}
	return Var{}, false
}
