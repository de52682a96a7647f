/*
 * tally: a plugin written in C. It counts paid orders and their total (in
 * micro-Tari) in plugin state, logs each one, and, when URL is configured
 * (TPG_PLUGIN_TALLY_URL), POSTs the running totals there as JSON:
 *
 *   {"orders_paid":3,"orders_paid_total":12500001}
 *
 * State writes commit with the event's acknowledgement, so when the POST
 * fails the handler's counts are dropped with it and the retried event counts
 * once: the totals stay exact although delivery is at least once.
 *
 * Build: make examples-c (sdk/c/build.sh examples/tally-c/plugin.wasm examples/tally-c/main.c)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tari_plugin.h"

static tari_status push_totals(const char *url, int64_t count, int64_t total) {
	char body[96];
	int n = snprintf(body, sizeof body, "{\"orders_paid\":%lld,\"orders_paid_total\":%lld}", (long long)count,
	                 (long long)total);
	tari_http_response resp;
	if (tari_http("POST", url, "{\"Content-Type\":\"application/json\"}", body, (size_t)n, &resp) != 0)
		return tari_fail("push to the dashboard: %s", tari_last_error());
	tari_status st = TARI_OK;
	if (resp.status < 200 || resp.status > 299)
		st = tari_fail("the dashboard answered %d: %.200s", resp.status, resp.body);
	tari_http_free(&resp);
	return st;
}

static tari_status on_order_paid(const tari_event *ev) {
	char order_id[128];
	int32_t n = tari_json_string(ev->data, ev->data_len, "order.order_id", order_id, sizeof order_id);
	if (n < 0 || n >= (int32_t)sizeof order_id)
		return tari_fail_permanent("event %s: no order.order_id", ev->id);
	int64_t price;
	if (tari_json_int(ev->data, ev->data_len, "order.total_price", &price) != 0 || price < 0)
		return tari_fail_permanent("event %s: no order.total_price", ev->id);

	int64_t count, total;
	if (tari_state_add("paid/count", 1, &count) != 0 || tari_state_add("paid/total", price, &total) != 0)
		return tari_fail("%s", tari_last_error());
	tari_infof("order %s paid: %lld uT; %lld paid orders, %lld uT in all", order_id, (long long)price,
	           (long long)count, (long long)total);

	char *url = tari_config_dup("URL");
	if (url == NULL)
		return TARI_OK;
	tari_status st = push_totals(url, count, total);
	free(url);
	return st;
}

tari_status tari_on_event(const tari_event *ev) {
	if (strcmp(ev->type, "OrderPaid") == 0)
		return on_order_paid(ev);
	return TARI_SKIP;
}
