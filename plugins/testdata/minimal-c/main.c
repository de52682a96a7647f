/*
 * minimal-c: a C test plugin that uses only the host functions tari_v1 had
 * before state was added (event_read, result_write, log, config_get), so its
 * module imports nothing else: it loads on any server speaking tari_v1.
 * It logs "<GREETING> <type> <order id>" for every OrderPaid and skips the rest.
 */
#include <string.h>

#include "tari_plugin.h"

tari_status tari_on_event(const tari_event *ev) {
	if (strcmp(ev->type, "OrderPaid") != 0)
		return TARI_SKIP;
	char greeting[64], order_id[64];
	if (tari_config("GREETING", greeting, sizeof greeting) < 0)
		strcpy(greeting, "paid:");
	int32_t n = tari_json_string(ev->data, ev->data_len, "order.order_id", order_id, sizeof order_id);
	if (n < 0 || n >= (int32_t)sizeof order_id)
		return tari_fail_permanent("event %s: no order.order_id", ev->id);
	tari_infof("%s %s %s", greeting, ev->type, order_id);
	return TARI_OK;
}
