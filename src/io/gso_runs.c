/* GSO run planning (see gso_runs.h). */
#include "util/compat.h"

#include "io/gso_runs.h"

/* Could d join a run of segment-size datagrams that holds count of them
 * and bytes so far? */
static bool fits(const gso_datagram_t *first, const gso_datagram_t *d, size_t count, size_t bytes,
                 size_t max_segments, size_t max_bytes) {
	return !d->alone && d->len && d->tos == first->tos && d->len <= first->len &&
	       count < max_segments && bytes + d->len <= max_bytes;
}

size_t gso_runs_plan(const gso_datagram_t *d, size_t n, size_t max_segments, size_t max_bytes,
                     uint16_t *order, gso_run_t *runs) {
	bool taken[GSO_RUNS_MAX_DATAGRAMS] = {false};
	if(n > GSO_RUNS_MAX_DATAGRAMS)
		n = GSO_RUNS_MAX_DATAGRAMS;
	size_t placed = 0, nruns = 0;
	for(size_t i = 0; i < n; i++) {
		if(taken[i])
			continue;
		gso_run_t *r = &runs[nruns++];
		r->first = (uint16_t)placed;
		r->count = 1;
		r->segment = d[i].len;
		order[placed++] = (uint16_t)i;
		taken[i] = true;
		size_t bytes = d[i].len;
		bool open = !d[i].alone && d[i].len && max_segments > 1 && bytes <= max_bytes;
		for(size_t j = i + 1; open && j < n; j++) {
			if(taken[j] || d[j].dest != d[i].dest)
				continue;
			if(!fits(&d[i], &d[j], r->count, bytes, max_segments, max_bytes))
				break; /* skipping it would reorder this destination */
			order[placed++] = (uint16_t)j;
			taken[j] = true;
			r->count++;
			bytes += d[j].len;
			/* a shorter datagram can only be the last segment */
			open = d[j].len == d[i].len;
		}
	}
	return nruns;
}
