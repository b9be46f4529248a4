/* libFuzzer: the UDP receive path as the daemon runs it, receive_datagram():
 * sender lookup (by address, or by MAC trial for an unknown address), MAC
 * check, decryption, replay window, decompression, PMTU probes, RFC 6040
 * decapsulation and routing into the graph of world.h (frames for us go to
 * a closed device, frames for others to nodes without sockets).
 *
 * Input: byte 0 = scenario, byte 1 = outer TOS, then datagrams, each as a
 * 2-byte big-endian length and the bytes (the rest of the input, if
 * shorter), all from alpha, so replays and reordering are reachable.
 * Scenario bits:
 *   0-1  alpha's key: 0 aes-256-cbc/sha256/4-byte MAC with the
 *        protocol.md §11.3 key material (real captured datagrams authenticate), 1 the
 *        same without MAC, 2 no cipher and no MAC, 3 like 2 with compression
 *   2    the datagrams come from an address no node has (MAC trial)
 *   3    ECN = no
 *   4    Mode = switch
 *   5    compression level 10 (LZO) instead of 9 (zlib), for key 3
 *   6    the receive side asks for a CE mark: mark-or-drop (CoDel), or
 *        mark-only (CE threshold) when bit 2 of the outer TOS is set too
 *   7    the datagrams alternate between alpha's address and the unknown
 *        one (a replay from elsewhere of what alpha just sent) */
#include "world.h"

#include "util/hex.h"
#include "packet/packet.h"

static const char material_hex[] =
	"444971843628E4BE328F919F53021CD7708188997D043F91786BD88701CEAF60"
	"AD88377E776CE1616F5A750FB6BB97B9";
static uint8_t material[48];

static void set_key(node_t *n, int slot, int compression) {
	char err[256] = "";
	bool ok;
	switch(slot) {
	case 0:
		ok = packet_key_set(&n->rx_key, material, 48, 427, 672, 4, 0, err, sizeof(err));
		break;
	case 1:
		ok = packet_key_set(&n->rx_key, material, 48, 427, 0, 0, 0, err, sizeof(err));
		break;
	case 2:
		ok = packet_key_set(&n->rx_key, material, 1, 0, 0, 0, 0, err, sizeof(err));
		break;
	default:
		ok = packet_key_set(&n->rx_key, material, 1, 0, 0, 0, compression, err, sizeof(err));
		break;
	}
	if(!ok) {
		fprintf(stderr, "packet_key_set: %s\n", err);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static bool ready;
	if(!ready) {
		world_setup_once("fuzz_udp_rx");
		if(hex2bin(material_hex, material, sizeof(material)) != 48)
			abort();
		ready = true;
	}
	if(size < 2)
		return 0;
	uint8_t scenario = data[0];
	uint8_t tos = data[1];
	data += 2;
	size -= 2;

	world_flags_t flags = {.mode = (scenario & 16) ? MODE_SWITCH : MODE_ROUTER};
	settings.ecn = !(scenario & 8);
	world_up(flags, true);

	node_t *alpha = node_find("alpha");
	if(!alpha || !alpha->status.reachable)
		abort();
	set_key(alpha, scenario & 3, (scenario & 32) ? 10 : 9);
	sockaddr_u known;
	if(!sockaddr_parse("10.81.0.1", "655", &known))
		abort();
	node_set_udp_address(alpha, &known);

	static frame_buf_t packet;
	unsigned count = 0;
	while(size) {
		size_t len = size;
		if(size >= 2) {
			size_t want = (size_t)data[0] << 8 | data[1];
			if(want <= size - 2) {
				data += 2;
				size -= 2;
				len = want;
			}
		}
		bool elsewhere = (scenario & 128) ? (count++ & 1) : (scenario & 4);
		sockaddr_u from;
		if(!sockaddr_parse(elsewhere ? "192.0.2.7" : "10.81.0.1", elsewhere ? "40000" : "655", &from))
			abort();
		sockaddr_u addr_before = alpha->address;
		memset(&packet, 0, sizeof(packet));
		packet.outer_tos = tos;
		packet.outer_ttl = 64;
		packet.tstamp_ns = now_ns;
		if(scenario & 64)
			packet.congested = (tos & 4) ? PACKET_SIGNAL_MARK_ONLY : PACKET_SIGNAL_MARK_OR_DROP;
		datapath_stats_t before = datapath_stats;
		receive_datagram(0, &from, data, len, &packet);
		if(packet.len > PACKET_BUF_MAX)
			abort();
		/* Only an authentic, fresh datagram may move alpha's UDP address
		 * (a replay from elsewhere must not redirect our traffic). */
		bool rejected = datapath_stats.udp_bad_mac != before.udp_bad_mac ||
		                datapath_stats.udp_decrypt_failed != before.udp_decrypt_failed ||
		                datapath_stats.udp_replay_late != before.udp_replay_late ||
		                datapath_stats.udp_replay_replayed != before.udp_replay_replayed ||
		                datapath_stats.udp_replay_far_ahead != before.udp_replay_far_ahead;
		if(rejected && sockaddr_cmp(&alpha->address, &addr_before))
			abort();
		data += len;
		size -= len;
	}

	world_down();
	return 0;
}
