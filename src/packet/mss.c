#include "util/compat.h"

#include "packet/ipcsum.h"
#include "packet/mss.h"
#include "packet/packet.h"

#define TCP_HLEN 20
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOLEN_MSS 4

/* Walks the options of the TCP header at tcp (hlen bytes, options included)
 * and lowers every well-formed MSS option above new_mss. */
static bool clamp_tcp_options(uint8_t *tcp, size_t hlen, uint16_t new_mss) {
	bool changed = false;
	size_t i = TCP_HLEN;

	while(i < hlen) {
		uint8_t kind = tcp[i];
		if(kind == TCPOPT_EOL)
			break;
		if(kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if(i + 1 >= hlen)
			break;
		size_t optlen = tcp[i + 1];
		if(optlen < 2 || i + optlen > hlen)
			break; /* a malformed list: touch nothing after this point */

		if(kind == TCPOPT_MSS && optlen == TCPOLEN_MSS) {
			uint16_t old_mss = be16_get(tcp + i + 2);
			if(old_mss > new_mss) {
				be16_put(tcp + i + 2, new_mss);
				/* The checksum adds 16-bit words counted from the
				 * start of the TCP header. After an odd number of
				 * NOPs the value straddles two words, where its
				 * bytes count swapped. */
				uint16_t old_word = old_mss, new_word = new_mss;
				if((i + 2) & 1) {
					old_word = (uint16_t)(old_mss << 8 | old_mss >> 8);
					new_word = (uint16_t)(new_mss << 8 | new_mss >> 8);
				}
				csum_replace2_field(tcp + 16, old_word, new_word);
				changed = true;
			}
		}
		i += optlen;
	}

	return changed;
}

bool clamp_mss(uint8_t *frame, size_t len, uint16_t mtu) {
	if(!frame || len < ETH_HLEN)
		return false;

	size_t off = ETH_HLEN;
	uint16_t type = be16_get(frame + 12);
	if(type == ETHERTYPE_VLAN) {
		if(len < ETH_HLEN + 4)
			return false;
		type = be16_get(frame + 16);
		off += 4;
	}

	uint8_t *ip = frame + off;
	size_t avail = len - off;
	size_t iphlen;
	size_t seglen; /* TCP header and data, as far as the frame holds them */

	if(type == ETHERTYPE_IP) {
		if(avail < 20 || ip[0] >> 4 != 4)
			return false;
		iphlen = (size_t)(ip[0] & 0x0f) * 4;
		size_t total = be16_get(ip + 2);
		if(iphlen < 20 || total < iphlen || iphlen > avail || ip[9] != 6)
			return false;
		/* Later fragments carry data, not a TCP header. */
		if(be16_get(ip + 6) & 0x1fff)
			return false;
		seglen = MIN(avail, total) - iphlen;
	} else if(type == ETHERTYPE_IPV6) {
		if(avail < 40 || ip[0] >> 4 != 6 || ip[6] != 6)
			return false;
		iphlen = 40;
		seglen = MIN(avail - iphlen, (size_t)be16_get(ip + 4));
	} else {
		return false;
	}

	size_t overhead = off + iphlen + TCP_HLEN;
	if(mtu <= overhead)
		return false;
	uint16_t new_mss = (uint16_t)(mtu - overhead);

	uint8_t *tcp = ip + iphlen;
	if(seglen < TCP_HLEN)
		return false;
	size_t tcphlen = (size_t)(tcp[12] >> 4) * 4;
	if(tcphlen < TCP_HLEN || tcphlen > seglen)
		return false;

	return clamp_tcp_options(tcp, tcphlen, new_mss);
}
