/* The data path's counters (see counters.h). */
#include "util/compat.h"

#include "datapath/counters.h"

datapath_stats_t datapath_stats;
