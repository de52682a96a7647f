/*
 * sdkcheck-c: a C test plugin that exercises sdk/c's helpers against the real
 * host on every event and fails permanently, naming the first check that did
 * not hold. Settings (TPG_PLUGIN_SDKCHECK_*): LONG, a 1000-byte value of
 * "0123456789" repeated; URL, a granted server that answers GET with status
 * 201, header X-Check: yes and the bytes 0..255, and echoes a POST's body;
 * FORBIDDEN_URL, a host the manifest does not grant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tari_plugin.h"

static int checks;

#define CHECK(cond, ...)                                                              \
	do {                                                                              \
		checks++;                                                                     \
		if (!(cond)) {                                                                \
			char what_[256];                                                          \
			snprintf(what_, sizeof what_, __VA_ARGS__);                               \
			return tari_fail_permanent("check at line %d failed: %s (last error: %s)", \
			                           __LINE__, what_, tari_last_error());          \
		}                                                                             \
	} while (0)

static const char doc[] = "{\"a\": {\"b\" : [1, \"x}]\\\"\", {\"c\":2}], \"k\\\"q\": 5,\n"
                          "  \"d\": {\"e\": -9223372036854775808, \"big\": 9223372036854775808, \"f\": 1.5,\n"
                          "         \"s\": \"\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\"}}, \"t\": true}";

static tari_status check_json(void) {
	const char *v;
	size_t n;
	int64_t i;
	char buf[64];
	size_t len = sizeof doc - 1;
	CHECK(tari_json_int(doc, len, "a.d.e", &i) == 0 && i == INT64_MIN, "a.d.e = %lld", (long long)i);
	CHECK(tari_json_int(doc, len, "a.d.big", &i) != 0, "2^63 read as an int64");
	CHECK(tari_json_int(doc, len, "a.d.f", &i) != 0, "1.5 read as an integer");
	CHECK(tari_json_string(doc, len, "a.d.s", buf, sizeof buf) == 10 &&
	          strcmp(buf, "\xc3\xa9\xf0\x9f\x98\x80\n\"\\/") == 0,
	      "a.d.s = %s", buf);
	CHECK(tari_json_string(doc, len, "a.d.s", buf, 10) == 10 && buf[0] == 0, "a too-small buffer holds %s", buf);
	CHECK(tari_json_get(doc, len, "a.b", &v, &n) == 0 && n == 21 && memcmp(v, "[1, \"x}]\\\"\", {\"c\":2}]", n) == 0,
	      "a.b = %.*s", (int)n, v);
	CHECK(tari_json_get(doc, len, "t", &v, &n) == 0 && n == 4 && memcmp(v, "true", 4) == 0, "t = %.*s", (int)n, v);
	CHECK(tari_json_get(doc, len, "a.missing", &v, &n) != 0, "a missing key found");
	CHECK(tari_json_get(doc, len, "a.b.c", &v, &n) != 0, "a key found in an array");
	CHECK(tari_json_get("{\"a\":", 5, "a", &v, &n) != 0, "a truncated document read");
	CHECK(tari_json_quote(buf, sizeof buf, "a\"b\\c\n\x01") == 17 && strcmp(buf, "\"a\\\"b\\\\c\\n\\u0001\"") == 0,
	      "quoted: %s", buf);
	return TARI_OK;
}

static tari_status check_config(void) {
	char small[16];
	char *v = tari_config_dup("LONG");
	CHECK(v != NULL && strlen(v) == 1000 && strncmp(v, "0123456789", 10) == 0 && strcmp(v + 990, "0123456789") == 0,
	      "LONG read back as %.20s... (%zu bytes)", v ? v : "(null)", v ? strlen(v) : 0);
	free(v);
	CHECK(tari_config("LONG", small, sizeof small) == 1000 && small[0] == 0, "LONG in a small buffer: %s", small);
	CHECK(tari_config("MISSING", small, sizeof small) == -1 && tari_config_dup("MISSING") == NULL, "MISSING is set");
	return TARI_OK;
}

static tari_status check_state(void) {
	char big[300], *v = NULL, *list;
	size_t n = 0;
	int64_t i;
	memset(big, 'b', sizeof big);
	CHECK(tari_state_delete("k/1") == 0 && tari_state_delete("k/2") == 0, "delete");
	CHECK(tari_state_set_str("k/1", "one") == 0 && tari_state_set("k/2", big, sizeof big) == 0, "set");
	CHECK(tari_state_get_dup("k/2", &v, &n) == 1 && n == sizeof big && memcmp(v, big, n) == 0 && v[n] == 0,
	      "k/2 read back as %zu bytes", n);
	free(v);
	CHECK(tari_state_get("k/2", big, 10) == 300, "k/2's length from a small buffer");
	list = tari_state_list_dup("k/");
	CHECK(list != NULL && strcmp(list, "[\"k/1\",\"k/2\"]") == 0, "list = %s", list ? list : "(null)");
	free(list);
	CHECK(tari_state_delete("k/1") == 0, "delete k/1");
	CHECK(tari_state_get_dup("k/1", &v, &n) == 0, "deleted k/1 still read");
	list = tari_state_list_dup("k/");
	CHECK(list != NULL && strcmp(list, "[\"k/2\"]") == 0, "list after delete = %s", list ? list : "(null)");
	free(list);
	CHECK(tari_state_int("k/2", &i) == -1, "300 b's read as an integer");
	CHECK(tari_state_set_int("n", INT64_MAX) == 0 && tari_state_add("n", 1, &i) == -1 &&
	          strstr(tari_last_error(), "overflows") != NULL,
	      "INT64_MAX + 1 stored");
	CHECK(tari_state_add("n", -INT64_MAX, &i) == 0 && i == 0, "INT64_MAX - INT64_MAX = %lld", (long long)i);
	char *huge = calloc(1, 70000);
	CHECK(huge != NULL && tari_state_set("huge", huge, 70000) == -1 &&
	          strstr(tari_last_error(), "value of 70000 bytes is over the 65536-byte limit") != NULL,
	      "a 70000-byte value stored");
	free(huge);
	CHECK(tari_state_get("huge", NULL, 0) == -1, "the refused value is there");
	return TARI_OK;
}

static tari_status check_http(void) {
	char *url = tari_config_dup("URL"), *forbidden = tari_config_dup("FORBIDDEN_URL");
	char echo_url[512], xcheck[16];
	tari_http_response resp;
	CHECK(url != NULL && forbidden != NULL, "URL and FORBIDDEN_URL are set");
	CHECK(tari_http("GET", url, NULL, NULL, 0, &resp) == 0, "GET %s", url);
	int binary = resp.body_len == 256;
	for (int i = 0; binary && i < 256; i++)
		binary = (unsigned char)resp.body[i] == i;
	CHECK(resp.status == 201 && binary, "GET answered %d with %zu bytes", resp.status, resp.body_len);
	CHECK(tari_json_string(resp.doc, resp.doc_len, "headers.X-Check", xcheck, sizeof xcheck) == 3 &&
	          strcmp(xcheck, "yes") == 0,
	      "X-Check: %s", xcheck);
	tari_http_free(&resp);
	snprintf(echo_url, sizeof echo_url, "%s/echo", url);
	for (size_t n = 0; n <= 4; n++) { /* every base64 padding case, and an empty body */
		const char body[] = "\xff\x00\x7f\x80";
		CHECK(tari_http("POST", echo_url, "{\"Content-Type\":\"application/octet-stream\"}", body, n, &resp) == 0,
		      "POST %zu bytes", n);
		CHECK(resp.status == 200 && resp.body_len == n && memcmp(resp.body, body, n) == 0,
		      "echo of %zu bytes answered %d with %zu bytes", n, resp.status, resp.body_len);
		tari_http_free(&resp);
	}
	CHECK(tari_http("GET", forbidden, NULL, NULL, 0, &resp) == -1 && strstr(tari_last_error(), "is not granted") != NULL,
	      "a non-granted host answered");
	free(url);
	free(forbidden);
	return TARI_OK;
}

tari_status tari_on_event(const tari_event *ev) {
	checks = 0;
	tari_status st;
	if ((st = check_json()) != TARI_OK || (st = check_config()) != TARI_OK || (st = check_state()) != TARI_OK ||
	    (st = check_http()) != TARI_OK)
		return st;
	tari_infof("sdkcheck: %d checks passed on %s", checks, ev->id);
	return TARI_OK;
}
