/*
 * tari_plugin.h: the C guest side of the payment server's plugin ABI
 * tari_v1 (plugins/ABI.md). Compile a plugin's main.c together with
 * tari_plugin.c using sdk/c/build.sh (clang --target=wasm32-wasi, a WASI
 * reactor); see sdk/README.md, "Writing a plugin in C".
 *
 * A plugin defines one function, tari_on_event, which the library calls for
 * every event the server delivers. Everything else here is optional: a host
 * function the plugin never calls (directly or through a helper) is not
 * imported by the built module, so a plugin that uses only events, config and
 * log loads on any server speaking tari_v1.
 *
 * Memory: every buffer is the plugin's. Functions ending in _dup return
 * memory from malloc that the caller frees; everything else writes into a
 * (buf, size) the caller passes and NUL-terminates it when it fits.
 */
#ifndef TARI_PLUGIN_H
#define TARI_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a handler returns: the server acknowledges TARI_OK and TARI_SKIP
 * (committing the call's state writes) and retries TARI_ERROR with backoff. */
typedef enum {
	TARI_OK = 0,
	TARI_ERROR = 1,
	TARI_SKIP = 2,
} tari_status;

/* One event, valid during the tari_on_event call only. */
typedef struct {
	const char *json;  /* the whole event document, NUL-terminated */
	size_t json_len;
	char id[64];       /* the event's uuid */
	char type[64];     /* "OrderPaid", "PaymentReceived", ... */
	const char *data;  /* the "data" value inside json (an object), not NUL-terminated */
	size_t data_len;
} tari_event;

/* Defined by the plugin: handle one event. */
tari_status tari_on_event(const tari_event *ev);

/* Failing a delivery. Both record the formatted message as the call's error
 * and return TARI_ERROR: `return tari_fail("no order id");`. A permanent
 * failure is parked for an admin at once instead of being retried. */
tari_status tari_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
tari_status tari_fail_permanent(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The message of the last failed library call (state, HTTP, JSON). */
const char *tari_last_error(void);

/* Logging to the server log (lines over 4 KiB are cut; never log secrets). */
enum { TARI_LOG_DEBUG = 0, TARI_LOG_INFO = 1, TARI_LOG_WARN = 2, TARI_LOG_ERROR = 3 };
void tari_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define tari_debugf(...) tari_log(TARI_LOG_DEBUG, __VA_ARGS__)
#define tari_infof(...) tari_log(TARI_LOG_INFO, __VA_ARGS__)
#define tari_warnf(...) tari_log(TARI_LOG_WARN, __VA_ARGS__)
#define tari_errorf(...) tari_log(TARI_LOG_ERROR, __VA_ARGS__)

/* Configuration: key "URL" reads TPG_PLUGIN_<ID>_URL. tari_config returns
 * the value's length, or -1 when unset; when the length is below size the
 * value is in buf, NUL-terminated, else buf holds "" (call again with a buffer
 * of length + 1 bytes). tari_config_dup returns a malloc'd copy, or NULL when
 * unset. */
int32_t tari_config(const char *key, char *buf, size_t size);
char *tari_config_dup(const char *key);

/* Plugin state (ABI.md "State"): writes made while handling an event commit
 * with its acknowledgement, so a handler that fails leaves nothing behind.
 * Keys are NUL-terminated UTF-8 of 1 to 256 bytes; values up to 64 KiB.
 * Failures return -1 (tari_state_get: -2) with the host's message in
 * tari_last_error(). */
/* Copies the value into buf (when it fits) and returns its full length; -1
 * absent, -2 error. */
int32_t tari_state_get(const char *key, void *buf, size_t size);
/* 1 found (*value malloc'd, NUL-terminated, *len its length), 0 absent, -1 error. */
int tari_state_get_dup(const char *key, char **value, size_t *len);
int tari_state_set(const char *key, const void *value, size_t len);
int tari_state_set_str(const char *key, const char *value);
int tari_state_delete(const char *key);
/* The keys starting with prefix, as a malloc'd JSON array of strings in byte
 * order, or NULL on error. */
char *tari_state_list_dup(const char *prefix);
/* Integers stored as decimal text (the Go SDK's StateInt/StateSetInt): 0 ok
 * (*out is 0 when absent), -1 error (not an integer, host error, overflow). */
int tari_state_int(const char *key, int64_t *out);
int tari_state_set_int(const char *key, int64_t n);
int tari_state_add(const char *key, int64_t delta, int64_t *out);

/* HTTP, to the hosts the manifest grants only. headers is a JSON object
 * ("{\"Content-Type\":\"application/json\"}") or NULL. On success returns 0
 * and fills *resp (free it with tari_http_free); when no HTTP answer was
 * obtained (host not granted, timeout, ...) returns -1 with the reason in
 * tari_last_error(). Any status counts as an answer: check resp->status. */
typedef struct {
	int status;
	char *body;       /* decoded, NUL-terminated */
	size_t body_len;
	char *doc;        /* the host's whole response document (headers: tari_json_*) */
	size_t doc_len;
} tari_http_response;
int tari_http(const char *method, const char *url, const char *headers, const void *body, size_t body_len,
              tari_http_response *resp);
void tari_http_free(tari_http_response *resp);

/* Reading JSON documents (the event, HTTP responses). path is a dot-separated
 * list of object keys, e.g. "order.total_price"; "" is the document itself.
 * tari_json_get returns 0 and the value's span (as written: a string keeps its
 * quotes), or -1 when a key is missing or the document is malformed. */
int tari_json_get(const char *doc, size_t len, const char *path, const char **value, size_t *value_len);
/* An integer value (no fraction or exponent, within int64): 0, or -1. */
int tari_json_int(const char *doc, size_t len, const char *path, int64_t *out);
/* A string value, unescaped to UTF-8: returns its length, or -1 (missing,
 * not a string, malformed); when the length is below size the string is in
 * buf, NUL-terminated, else buf holds "". */
int32_t tari_json_string(const char *doc, size_t len, const char *path, char *buf, size_t size);
/* Appends s as a JSON string literal (quotes included) to dst; returns the
 * length the literal needs, like snprintf. */
size_t tari_json_quote(char *dst, size_t size, const char *s);

#ifdef __cplusplus
}
#endif

#endif
