#include "util/compat.h"

#include <string.h>

#include "packet/fragment.h"
#include "packet/ipcsum.h"
#include "packet/packet.h"

#define IP4_HLEN 20
#define FRAME_HLEN (ETH_HLEN + IP4_HLEN)
#define IP_RF 0x8000
#define IP_DF 0x4000
#define IP_MF 0x2000
#define IP_OFFMASK 0x1fff

size_t fragment_ipv4(const uint8_t *frame, size_t len, size_t maxlen, fragment_emit_t emit, void *ctx) {
	if(!frame || !emit || len < FRAME_HLEN || be16_get(frame + 12) != ETHERTYPE_IP)
		return 0;

	const uint8_t *ip = frame + ETH_HLEN;
	if(ip[0] != 0x45 || be16_get(ip + 2) != len - ETH_HLEN)
		return 0;

	/* Every fragment but the last must carry a multiple of 8 bytes, since
	 * offsets are counted in 8-byte units. Our own buffer bounds it too. */
	if(maxlen > PACKET_BUF_MAX)
		maxlen = PACKET_BUF_MAX;
	if(maxlen < FRAME_HLEN + 8)
		return 0;
	size_t chunk_max = (maxlen - FRAME_HLEN) & ~(size_t)7;

	uint16_t flags_off = be16_get(ip + 6);
	uint16_t keep_flags = flags_off & (IP_RF | IP_DF);
	bool orig_mf = flags_off & IP_MF;
	size_t orig_off = flags_off & IP_OFFMASK;
	const uint8_t *payload = frame + FRAME_HLEN;
	size_t payload_len = len - FRAME_HLEN;

	/* The last byte must still be addressable by a 13-bit offset. */
	if(payload_len && orig_off + (payload_len - 1) / 8 > IP_OFFMASK)
		return 0;

	uint8_t buf[PACKET_BUF_MAX];
	memcpy(buf, frame, FRAME_HLEN);
	uint8_t *fip = buf + ETH_HLEN;
	size_t count = 0;
	size_t done = 0;

	do {
		size_t chunk = MIN(chunk_max, payload_len - done);
		bool last = done + chunk == payload_len;
		uint16_t field = (uint16_t)(keep_flags | (orig_off + done / 8));
		if(!last || orig_mf)
			field |= IP_MF;

		be16_put(fip + 2, (uint16_t)(IP4_HLEN + chunk));
		be16_put(fip + 6, field);
		ipv4_set_header_checksum(fip);
		memcpy(buf + FRAME_HLEN, payload + done, chunk);

		emit(ctx, buf, FRAME_HLEN + chunk);
		count++;
		done += chunk;
	} while(done < payload_len);

	return count;
}
