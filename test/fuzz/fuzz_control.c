/* Fuzz the control line protocol (doc/protocol.md §12.3): lines from a
 * client of the UNIX socket, with or without the right cookie first, against
 * the small world of world.h. Replies go through a socketpair that is drained
 * after every line. First byte: bit 0 = present the right cookie first. */
#include "world.h"

#include <fcntl.h>
#include <sys/socket.h>

#include "control/client.h"
#include "control/dispatch.h"
#include "control/pcap_tap.h"

#define COOKIE "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void drain(int fd) {
	char buf[65536];
	while(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static bool ready;
	if(!ready) {
		world_setup_once("fuzz_control");
		control_set_cookie(COOKIE);
		static const control_actions_t none = {0}; /* reload, retry, stop: refused */
		control_set_actions(&none);
		ready = true;
	}
	if(size < 1)
		return 0;
	bool with_cookie = data[0] & 1;
	data++;
	size--;
	world_up((world_flags_t){.mode = MODE_ROUTER}, true);

	int sv[2];
	if(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	control_client_t *cl = control_client_new(sv[0]);
	int level = debug_level;
	if(with_cookie && !control_dispatch(cl, "0 ^" COOKIE " 0"))
		abort();
	drain(sv[1]);

	char line[CONTROL_LINE_MAX];
	while(size && !cl->dead) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t len = nl ? (size_t)(nl - data) : size;
		size_t used = nl ? len + 1 : len;
		if(len >= sizeof(line))
			len = sizeof(line) - 1; /* the socket reader closes such a client; here: cut */
		memcpy(line, data, len);
		line[len] = 0;
		control_dispatch(cl, line);
		debug_level = level; /* `debug N` must not make the next inputs slow */
		drain(sv[1]);
		data += used;
		size -= used;
	}
	if(!cl->dead)
		control_client_close(cl);
	control_pcap_stop();
	close(sv[1]);
	world_down();
	return 0;
}
