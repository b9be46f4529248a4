/* Send-buffer sizing by drain rate: see sndbuf_sizing.h. */
#include "util/compat.h"

#include "aqm/sndbuf_sizing.h"

#define FLOOR (2 * SNDBUF_DATAGRAM_COST)

void sndbuf_sizing_init(sndbuf_sizing_t *s, uint32_t configured) {
	s->max = configured > FLOOR ? configured : FLOOR;
	s->current = s->max;
	s->rate = 0;
}

uint32_t sndbuf_sizing_sample(sndbuf_sizing_t *s, uint64_t elapsed_ns) {
	if(!elapsed_ns)
		elapsed_ns = 1;
	uint64_t sample = (uint64_t)(s->current / 2) * 1000000000ULL / elapsed_ns;
	/* smoothed over about four samples, but a faster link is believed at
	 * once: an estimate too low costs throughput, one too high only a few
	 * milliseconds until the next sample */
	if(!s->rate || sample > s->rate)
		s->rate = sample;
	else
		s->rate -= (s->rate - sample) / 4;
	uint64_t want = s->rate * SNDBUF_DRAIN_NS / 1000000000ULL;
	if(want < FLOOR)
		want = FLOOR;
	if(want > s->max)
		want = s->max;
	uint64_t diff = want > s->current ? want - s->current : s->current - want;
	if(diff * 4 <= s->current)
		return s->current;
	return (uint32_t)want;
}

void sndbuf_sizing_applied(sndbuf_sizing_t *s, uint32_t size) {
	s->current = size;
}

uint32_t sndbuf_sizing_burst_bytes(const sndbuf_sizing_t *s, uint32_t limit) {
	if(!s->rate)
		return limit;
	uint64_t bytes = s->rate * SNDBUF_BURST_NS / 1000000000ULL;
	return bytes < limit ? (uint32_t)bytes : limit;
}
