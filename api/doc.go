// Package api is the HTTP face of the payment server: a gin router with the 46
// routes of the reference Tari Payment Server (same paths, methods, shapes,
// status codes and error texts, with decisions.md's fixes), the login and
// access-token flow, the role ACL, hot-wallet notification auth, the Shopify
// webhooks and the plugin admin routes. Handlers stay thin: parse, call the
// engine, map its errors.
package api
