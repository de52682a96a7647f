/*
 * hostile-c: a C test plugin that misbehaves on purpose; its MODE setting
 * (TPG_PLUGIN_<ID>_MODE) picks how. The host must contain every mode:
 *
 *   loop      never returns from the handler: the per-event deadline stops it
 *   initloop  never returns from a constructor (run by _initialize): the load is stopped
 *   membomb   allocates until malloc fails at the manifest's memory cap, then reports it
 *   trap      executes unreachable
 *   exit      calls exit(3): a WASI proc_exit under the host's feet
 *   ok        logs the event and acknowledges it
 *   quote     fails permanently with a message full of characters JSON must escape
 *   decode    reads an OrderPaid's order id and total and acknowledges it
 *             (BenchmarkDispatchC: a warm C plugin's per-event cost)
 */
#include <stdlib.h>
#include <string.h>

#include "tari_plugin.h"

static char mode[32];

/* The loops count into a volatile so no compiler may drop them. */
static volatile unsigned long spins;

static void *hoard;

__attribute__((constructor)) static void init(void) {
	tari_config("MODE", mode, sizeof mode);
	if (strcmp(mode, "initloop") == 0)
		for (;;)
			spins++;
}

tari_status tari_on_event(const tari_event *ev) {
	if (strcmp(mode, "loop") == 0) {
		for (;;)
			spins++;
	}
	if (strcmp(mode, "membomb") == 0) {
		size_t mib = 0;
		for (;;) {
			void **p = malloc(1 << 20);
			if (p == NULL)
				return tari_fail("malloc failed after %zu MiB", mib);
			*p = hoard; /* kept: an allocation nobody uses may be optimised away */
			hoard = p;
			mib++;
		}
	}
	if (strcmp(mode, "trap") == 0)
		__builtin_trap();
	if (strcmp(mode, "exit") == 0)
		exit(3);
	if (strcmp(mode, "quote") == 0)
		return tari_fail_permanent("say \"%s\"\tback\\slash\nline \x01 %s", "µ", ev->type);
	if (strcmp(mode, "decode") == 0) {
		char order_id[128];
		int64_t total;
		int32_t n = tari_json_string(ev->data, ev->data_len, "order.order_id", order_id, sizeof order_id);
		if (n <= 0 || n >= (int32_t)sizeof order_id || tari_json_int(ev->data, ev->data_len, "order.total_price", &total) != 0)
			return tari_fail("no order id or total");
		return TARI_OK;
	}
	if (strcmp(mode, "ok") == 0) {
		tari_infof("hostile-c ok: %s %s", ev->type, ev->id);
		return TARI_OK;
	}
	return tari_fail_permanent("unknown MODE %s", mode);
}
