#include "util/compat.h"

#include "control/pcap_tap.h"
#include "control/protocol_ids.h"
#include "io/device.h"

/* Each frame goes as "18 14 LENGTH" and then LENGTH bytes. The device
 * tap is set only while someone listens, so the data path pays nothing
 * otherwise. */
static void copy_frame(const uint8_t *frame, size_t len) {
	bool anyone = false;
	for(size_t i = 0; i < control_clients.count;) {
		control_client_t *cl = control_clients.items[i];
		size_t before = control_clients.count;
		if(cl->pcap_snaplen >= 0) {
			anyone = true;
			size_t n = cl->pcap_snaplen > 0 && (size_t)cl->pcap_snaplen < len ? (size_t)cl->pcap_snaplen : len;
			if(control_client_printf(cl, "%d %d %zu", CTL_CONTROL, CTL_PCAP, n))
				control_client_write(cl, frame, n);
		}
		if(control_clients.count == before)
			i++;
	}
	if(!anyone)
		device_set_tap(NULL);
}

void control_pcap_subscribe(control_client_t *cl, int snaplen) {
	cl->pcap_snaplen = snaplen > 0 ? snaplen : 0;
	device_set_tap(copy_frame);
}

void control_pcap_stop(void) {
	device_set_tap(NULL);
}
