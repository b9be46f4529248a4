/* `tinc pcap`: frames read from and written to the device, copied to the
 * control clients that asked for them (doc/protocol.md §12.5). */
#ifndef FQTINC_CONTROL_PCAP_TAP_H
#define FQTINC_CONTROL_PCAP_TAP_H

#include "control/client.h"

/* cl wants frames, cut to snaplen bytes (0: whole frames). */
void control_pcap_subscribe(control_client_t *cl, int snaplen);
void control_pcap_stop(void);

#endif
