/*
 * tari_plugin.c: the C guest library of plugin ABI tari_v1 (plugins/ABI.md).
 * Standard C with wasi-libc; no other dependency. See tari_plugin.h.
 */
#include "tari_plugin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Host imports (module tari_v1). Every pointer is into this module's memory
 * and every buffer is ours: the host writes into (buf, limit) only when the
 * whole value fits and always returns the full length. */
#define TARI_IMPORT(name) __attribute__((import_module("tari_v1"), import_name(name)))
TARI_IMPORT("log") void tari_host_log(int32_t level, const char *msg, int32_t len);
TARI_IMPORT("config_get") int32_t tari_host_config_get(const char *key, int32_t key_len, char *buf, int32_t limit);
TARI_IMPORT("event_read") int32_t tari_host_event_read(char *buf, int32_t limit);
TARI_IMPORT("result_write") void tari_host_result_write(const char *doc, int32_t len);
TARI_IMPORT("http_send") int32_t tari_host_http_send(const char *req, int32_t len);
TARI_IMPORT("http_read") int32_t tari_host_http_read(char *buf, int32_t limit);
TARI_IMPORT("state_get") int32_t tari_host_state_get(const char *key, int32_t key_len, void *buf, int32_t limit);
TARI_IMPORT("state_set") int32_t tari_host_state_set(const char *key, int32_t key_len, const void *value, int32_t len);
TARI_IMPORT("state_delete") int32_t tari_host_state_delete(const char *key, int32_t key_len);
TARI_IMPORT("state_list") int32_t tari_host_state_list(const char *prefix, int32_t prefix_len);
TARI_IMPORT("state_read") int32_t tari_host_state_read(char *buf, int32_t limit);

/* ---- errors ---------------------------------------------------------- */

static char last_error[512];

const char *tari_last_error(void) { return last_error; }

static void set_error(const char *msg, size_t n) {
	if (n >= sizeof last_error)
		n = sizeof last_error - 1;
	memcpy(last_error, msg, n);
	last_error[n] = 0;
}

static int errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int errorf(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- the call: event in, result out ----------------------------------- */

static bool result_written; /* in the current call */

/* tari_abi_v1 marks the module as built for ABI version 1; never called. */
__attribute__((export_name("tari_abi_v1"))) void tari_abi_v1_marker(void) {}

static void write_result(const char *msg, bool permanent) {
	size_t q = tari_json_quote(NULL, 0, msg);
	size_t cap = q + 32;
	char *doc = malloc(cap);
	if (doc == NULL) {
		static const char oom[] = "{\"error\":\"plugin out of memory writing its error\",\"permanent\":false}";
		tari_host_result_write(oom, (int32_t)(sizeof oom - 1));
	} else {
		size_t n = 0;
		memcpy(doc, "{\"error\":", 9);
		n = 9;
		tari_json_quote(doc + n, cap - n, msg);
		n += q;
		n += (size_t)snprintf(doc + n, cap - n, ",\"permanent\":%s}", permanent ? "true" : "false");
		tari_host_result_write(doc, (int32_t)n);
		free(doc);
	}
	result_written = true;
}

static tari_status fail_v(bool permanent, const char *fmt, va_list ap) {
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	char *msg = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (msg == NULL) {
		write_result(fmt, permanent);
		return TARI_ERROR;
	}
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	write_result(msg, permanent);
	free(msg);
	return TARI_ERROR;
}

tari_status tari_fail(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	tari_status s = fail_v(false, fmt, ap);
	va_end(ap);
	return s;
}

tari_status tari_fail_permanent(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	tari_status s = fail_v(true, fmt, ap);
	va_end(ap);
	return s;
}

/* tari_handle is called once per event with the document's length. */
__attribute__((export_name("tari_handle"))) int32_t tari_handle(int32_t len) {
	result_written = false;
	if (len < 0)
		return tari_fail_permanent("event length %d", (int)len);
	char *doc = malloc((size_t)len + 1);
	if (doc == NULL)
		return tari_fail("plugin out of memory reading a %d-byte event", (int)len);
	int32_t got = tari_host_event_read(doc, len);
	if (got != len) {
		free(doc);
		return tari_fail("event of %d bytes, %d expected", (int)got, (int)len);
	}
	doc[len] = 0;
	tari_event ev;
	memset(&ev, 0, sizeof ev);
	ev.json = doc;
	ev.json_len = (size_t)len;
	int32_t idn = tari_json_string(doc, (size_t)len, "id", ev.id, sizeof ev.id);
	int32_t tn = tari_json_string(doc, (size_t)len, "type", ev.type, sizeof ev.type);
	if (idn < 0 || idn >= (int32_t)sizeof ev.id || tn < 0 || tn >= (int32_t)sizeof ev.type) {
		free(doc);
		return tari_fail_permanent("malformed event document: no id or type");
	}
	if (tari_json_get(doc, (size_t)len, "data", &ev.data, &ev.data_len) != 0) {
		ev.data = "null";
		ev.data_len = 4;
	}
	tari_status st = tari_on_event(&ev);
	free(doc);
	switch (st) {
	case TARI_OK:
	case TARI_SKIP:
		return (int32_t)st;
	default:
		if (!result_written)
			write_result("plugin handler failed without a message", false);
		return TARI_ERROR;
	}
}

/* ---- log and config --------------------------------------------------- */

void tari_log(int level, const char *fmt, ...) {
	char line[4097]; /* the host cuts lines at 4 KiB */
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line)
		n = sizeof line - 1;
	tari_host_log(level, line, n);
}

int32_t tari_config(const char *key, char *buf, size_t size) {
	int32_t limit = size > 0 ? (int32_t)(size - 1) : 0;
	int32_t n = tari_host_config_get(key, (int32_t)strlen(key), buf, limit);
	if (n >= 0 && n <= limit && size > 0)
		buf[n] = 0;
	else if (size > 0)
		buf[0] = 0;
	return n;
}

char *tari_config_dup(const char *key) {
	size_t size = 256;
	for (;;) {
		char *buf = malloc(size);
		if (buf == NULL)
			return NULL;
		int32_t n = tari_config(key, buf, size);
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if ((size_t)n < size)
			return buf;
		free(buf);
		size = (size_t)n + 1;
	}
}

/* ---- state ------------------------------------------------------------ */

/* state_message reads the host's last state document (a key list or an error
 * message) of n bytes into a malloc'd, NUL-terminated buffer. */
static char *state_message(int32_t n) {
	char *buf = malloc((size_t)n + 1);
	if (buf == NULL)
		return NULL;
	int32_t got = tari_host_state_read(buf, n);
	if (got != n) {
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	return buf;
}

/* state_error records the message of a failed state call (n bytes). */
static int state_error(int32_t n) {
	char *msg = state_message(n);
	if (msg == NULL)
		return errorf("state: error message of %d bytes unreadable", (int)n);
	set_error(msg, (size_t)n);
	free(msg);
	return -1;
}

int32_t tari_state_get(const char *key, void *buf, size_t size) {
	int32_t n = tari_host_state_get(key, (int32_t)strlen(key), buf, (int32_t)size);
	if (n < -1) {
		state_error(tari_host_state_read(NULL, 0));
		return -2;
	}
	return n;
}

int tari_state_get_dup(const char *key, char **value, size_t *len) {
	size_t size = 256;
	for (;;) {
		char *buf = malloc(size);
		if (buf == NULL)
			return errorf("state: out of memory");
		int32_t n = tari_state_get(key, buf, size - 1);
		if (n < 0) {
			free(buf);
			return n == -1 ? 0 : -1;
		}
		if ((size_t)n < size) {
			buf[n] = 0;
			*value = buf;
			if (len)
				*len = (size_t)n;
			return 1;
		}
		free(buf);
		size = (size_t)n + 1;
	}
}

int tari_state_set(const char *key, const void *value, size_t len) {
	int32_t n = tari_host_state_set(key, (int32_t)strlen(key), value, (int32_t)len);
	return n == 0 ? 0 : state_error(n);
}

int tari_state_set_str(const char *key, const char *value) { return tari_state_set(key, value, strlen(value)); }

int tari_state_delete(const char *key) {
	int32_t n = tari_host_state_delete(key, (int32_t)strlen(key));
	return n == 0 ? 0 : state_error(n);
}

char *tari_state_list_dup(const char *prefix) {
	int32_t n = tari_host_state_list(prefix, (int32_t)strlen(prefix));
	if (n < 0) {
		state_error(-n);
		return NULL;
	}
	char *doc = state_message(n);
	if (doc == NULL)
		errorf("state: key list of %d bytes unreadable", (int)n);
	return doc;
}

/* parse_int64 accepts exactly an optional '-' and decimal digits. */
static int parse_int64(const char *s, size_t n, int64_t *out) {
	size_t i = 0;
	bool neg = false;
	if (i < n && s[i] == '-') {
		neg = true;
		i++;
	}
	if (i == n)
		return -1;
	uint64_t v = 0;
	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (limit - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int tari_state_int(const char *key, int64_t *out) {
	char *v = NULL;
	size_t n = 0;
	int found = tari_state_get_dup(key, &v, &n);
	if (found < 0)
		return -1;
	if (found == 0) {
		*out = 0;
		return 0;
	}
	int rc = parse_int64(v, n, out);
	free(v);
	return rc == 0 ? 0 : errorf("state %s is not an integer", key);
}

int tari_state_set_int(const char *key, int64_t n) {
	char buf[24];
	int len = snprintf(buf, sizeof buf, "%lld", (long long)n);
	return tari_state_set(key, buf, (size_t)len);
}

int tari_state_add(const char *key, int64_t delta, int64_t *out) {
	int64_t n, sum;
	if (tari_state_int(key, &n) != 0)
		return -1;
	if (__builtin_add_overflow(n, delta, &sum))
		return errorf("state %s overflows int64", key);
	if (tari_state_set_int(key, sum) != 0)
		return -1;
	if (out)
		*out = sum;
	return 0;
}

/* ---- HTTP ------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t base64_encode(char *dst, const unsigned char *src, size_t n) {
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)src[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)src[i + 1] << 8;
		if (i + 2 < n)
			v |= src[i + 2];
		dst[o++] = b64[(v >> 18) & 63];
		dst[o++] = b64[(v >> 12) & 63];
		dst[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		dst[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	return o;
}

/* base64_decode decodes in place; returns the decoded length or -1. */
static int64_t base64_decode(char *s, size_t n) {
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	size_t pad = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int v;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else if (c == '=') {
			pad++;
			continue;
		} else
			return -1;
		if (pad)
			return -1; /* data after padding */
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			s[o++] = (char)((acc >> bits) & 0xFF);
		}
	}
	if (n % 4 != 0 || pad > 2)
		return -1;
	return (int64_t)o;
}

int tari_http(const char *method, const char *url, const char *headers, const void *body, size_t body_len,
              tari_http_response *resp) {
	memset(resp, 0, sizeof *resp);
	if (headers == NULL || *headers == 0)
		headers = "{}";
	size_t cap = tari_json_quote(NULL, 0, method) + tari_json_quote(NULL, 0, url) + strlen(headers) +
	             (body_len + 2) / 3 * 4 + 64;
	char *req = malloc(cap);
	if (req == NULL)
		return errorf("http: out of memory for a %zu-byte body", body_len);
	size_t n = (size_t)snprintf(req, cap, "{\"method\":");
	n += tari_json_quote(req + n, cap - n, method);
	n += (size_t)snprintf(req + n, cap - n, ",\"url\":");
	n += tari_json_quote(req + n, cap - n, url);
	n += (size_t)snprintf(req + n, cap - n, ",\"headers\":%s,\"body\":\"", headers);
	n += base64_encode(req + n, (const unsigned char *)body, body_len);
	req[n++] = '"';
	req[n++] = '}';
	int32_t dn = tari_host_http_send(req, (int32_t)n);
	free(req);
	char *doc = malloc((size_t)dn + 1);
	if (doc == NULL)
		return errorf("http: out of memory for a %d-byte response", (int)dn);
	if (tari_host_http_read(doc, dn) != dn) {
		free(doc);
		return errorf("http: response unreadable");
	}
	doc[dn] = 0;
	const char *v;
	size_t vn;
	if (tari_json_get(doc, (size_t)dn, "error", &v, &vn) == 0) {
		int32_t en = tari_json_string(doc, (size_t)dn, "error", last_error, sizeof last_error);
		if (en < 0)
			errorf("http: malformed error document");
		free(doc);
		return -1;
	}
	int64_t status;
	if (tari_json_int(doc, (size_t)dn, "status", &status) != 0) {
		free(doc);
		return errorf("http: response document without a status");
	}
	char *b = NULL;
	int64_t bn = 0;
	if (tari_json_get(doc, (size_t)dn, "body", &v, &vn) == 0 && !(vn == 4 && memcmp(v, "null", 4) == 0)) {
		b = malloc(vn + 1);
		int32_t sn = b ? tari_json_string(doc, (size_t)dn, "body", b, vn + 1) : -1;
		bn = sn >= 0 ? base64_decode(b, (size_t)sn) : -1;
		if (bn < 0) {
			free(b);
			free(doc);
			return errorf("http: malformed response body");
		}
	} else {
		b = malloc(1);
		if (b == NULL) {
			free(doc);
			return errorf("http: out of memory");
		}
	}
	b[bn] = 0;
	resp->status = (int)status;
	resp->body = b;
	resp->body_len = (size_t)bn;
	resp->doc = doc;
	resp->doc_len = (size_t)dn;
	return 0;
}

void tari_http_free(tari_http_response *resp) {
	free(resp->body);
	free(resp->doc);
	memset(resp, 0, sizeof *resp);
}

/* ---- JSON ------------------------------------------------------------- */

static const char *skip_ws(const char *p, const char *e) {
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* skip_string: p at the opening quote; returns past the closing one. */
static const char *skip_string(const char *p, const char *e) {
	for (p++; p < e; p++) {
		if (*p == '\\') {
			p++;
			continue;
		}
		if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* skip_value: p at a value; returns past it, or NULL if malformed. */
static const char *skip_value(const char *p, const char *e) {
	if (p >= e)
		return NULL;
	if (*p == '"')
		return skip_string(p, e);
	if (*p == '{' || *p == '[') {
		int depth = 0;
		while (p < e) {
			char c = *p;
			if (c == '"') {
				p = skip_string(p, e);
				if (p == NULL)
					return NULL;
				continue;
			}
			if (c == '{' || c == '[')
				depth++;
			else if (c == '}' || c == ']') {
				if (--depth == 0)
					return p + 1;
			}
			p++;
		}
		return NULL;
	}
	const char *s = p;
	while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
		p++;
	return p == s ? NULL : p;
}

/* object_get finds key (klen bytes, compared as written) in the object at p. */
static int object_get(const char *p, const char *e, const char *key, size_t klen, const char **vs, const char **ve) {
	p = skip_ws(p, e);
	if (p >= e || *p != '{')
		return -1;
	p = skip_ws(p + 1, e);
	while (p < e && *p == '"') {
		const char *ks = p + 1;
		const char *kend = skip_string(p, e);
		if (kend == NULL)
			return -1;
		size_t kl = (size_t)(kend - 1 - ks);
		p = skip_ws(kend, e);
		if (p >= e || *p != ':')
			return -1;
		p = skip_ws(p + 1, e);
		const char *v = p;
		const char *vend = skip_value(p, e);
		if (vend == NULL)
			return -1;
		if (kl == klen && memcmp(ks, key, klen) == 0) {
			*vs = v;
			*ve = vend;
			return 0;
		}
		p = skip_ws(vend, e);
		if (p >= e || *p != ',')
			return -1;
		p = skip_ws(p + 1, e);
	}
	return -1;
}

int tari_json_get(const char *doc, size_t len, const char *path, const char **value, size_t *value_len) {
	const char *s = skip_ws(doc, doc + len);
	const char *e = skip_value(s, doc + len);
	if (e == NULL)
		return -1;
	while (*path) {
		const char *dot = strchr(path, '.');
		size_t kl = dot ? (size_t)(dot - path) : strlen(path);
		if (object_get(s, e, path, kl, &s, &e) != 0)
			return -1;
		path += kl;
		if (*path == '.')
			path++;
	}
	*value = s;
	*value_len = (size_t)(e - s);
	return 0;
}

int tari_json_int(const char *doc, size_t len, const char *path, int64_t *out) {
	const char *v;
	size_t n;
	if (tari_json_get(doc, len, path, &v, &n) != 0)
		return -1;
	return parse_int64(v, n, out);
}

static int hex4(const char *p, const char *e, uint32_t *out) {
	if (e - p < 4)
		return -1;
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

int32_t tari_json_string(const char *doc, size_t len, const char *path, char *buf, size_t size) {
	const char *v;
	size_t n;
	if (tari_json_get(doc, len, path, &v, &n) != 0 || n < 2 || v[0] != '"' || v[n - 1] != '"')
		return -1;
	const char *p = v + 1, *e = v + n - 1;
	size_t o = 0;
#define PUT(c)                        \
	do {                              \
		if (o + 1 < size)             \
			buf[o] = (char)(c);       \
		o++;                          \
	} while (0)
	while (p < e) {
		char c = *p++;
		if (c != '\\') {
			PUT(c);
			continue;
		}
		if (p >= e)
			return -1;
		c = *p++;
		switch (c) {
		case '"': case '\\': case '/': PUT(c); break;
		case 'b': PUT('\b'); break;
		case 'f': PUT('\f'); break;
		case 'n': PUT('\n'); break;
		case 'r': PUT('\r'); break;
		case 't': PUT('\t'); break;
		case 'u': {
			uint32_t cp, lo;
			if (hex4(p, e, &cp) != 0)
				return -1;
			p += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && e - p >= 6 && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, e, &lo) == 0 &&
			    lo >= 0xDC00 && lo < 0xE000) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				p += 6;
			} else if (cp >= 0xD800 && cp < 0xE000) {
				cp = 0xFFFD; /* a lone surrogate, as Go's decoder does */
			}
			if (cp < 0x80) {
				PUT(cp);
			} else if (cp < 0x800) {
				PUT(0xC0 | (cp >> 6));
				PUT(0x80 | (cp & 0x3F));
			} else if (cp < 0x10000) {
				PUT(0xE0 | (cp >> 12));
				PUT(0x80 | ((cp >> 6) & 0x3F));
				PUT(0x80 | (cp & 0x3F));
			} else {
				PUT(0xF0 | (cp >> 18));
				PUT(0x80 | ((cp >> 12) & 0x3F));
				PUT(0x80 | ((cp >> 6) & 0x3F));
				PUT(0x80 | (cp & 0x3F));
			}
			break;
		}
		default:
			return -1;
		}
	}
#undef PUT
	if (size > 0)
		buf[o < size ? o : size - 1] = 0;
	if (o >= size && size > 0)
		buf[0] = 0; /* did not fit: nothing usable */
	return (int32_t)o;
}

size_t tari_json_quote(char *dst, size_t size, const char *s) {
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
#define PUT(c)                        \
	do {                              \
		if (o + 1 < size)             \
			dst[o] = (char)(c);       \
		o++;                          \
	} while (0)
	PUT('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '"': PUT('\\'); PUT('"'); break;
		case '\\': PUT('\\'); PUT('\\'); break;
		case '\n': PUT('\\'); PUT('n'); break;
		case '\r': PUT('\\'); PUT('r'); break;
		case '\t': PUT('\\'); PUT('t'); break;
		default:
			if (c < 0x20) {
				PUT('\\'); PUT('u'); PUT('0'); PUT('0'); PUT(hex[c >> 4]); PUT(hex[c & 15]);
			} else {
				PUT(c);
			}
		}
	}
	PUT('"');
#undef PUT
	if (size > 0)
		dst[o < size ? o : size - 1] = 0;
	return o;
}
